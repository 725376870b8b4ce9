// A client for a `hearth serve` gateway: POST {baseUrl}/v1/query | /v1/chat | /v1/embed with hearth's typed
// fields, streaming over SSE. Same shapes as the in-browser engine (Run: AsyncIterable of {text, tokens},
// `result` for the response), so an application switches between local and gateway in one line.
//
// Safety: the base URL must be https, or http only to a loopback host; the bearer token (or any header)
// may be a function returning the value, called per request so it can be refreshed; secret values are
// replaced by "[redacted]" in every error message; error bodies and single SSE events are size-bounded.
import { Run } from "./run.js";

const DEFAULT_MAX_ERROR_BODY = 4096;           // bytes of an error body kept for the message
const DEFAULT_MAX_EVENT_BYTES = 1 << 20;       // one SSE event larger than this is a protocol error

function isLoopback(hostname) {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

// Throws on anything but https:// or http:// to a loopback host; returns the URL without a trailing slash.
export function validateBaseUrl(baseUrl) {
  let u;
  try {
    u = new URL(baseUrl);
  } catch (_) {
    throw new Error(`gateway base URL '${baseUrl}' is not a valid URL`);
  }
  if (u.username || u.password) throw new Error("gateway base URL must not carry credentials; use the token option");
  if (u.search || u.hash) throw new Error("gateway base URL must not have a query or fragment");
  if (u.protocol === "http:" && !isLoopback(u.hostname))
    throw new Error(`gateway base URL '${u.origin}' uses plain HTTP to a non-loopback host; use https`);
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`gateway base URL must be http(s), not ${u.protocol}`);
  return u.href.replace(/\/+$/, "");
}

async function resolveValue(v) {
  const x = typeof v === "function" ? await v() : v;
  if (x === undefined || x === null) return undefined;
  if (typeof x !== "string") throw new Error("auth values must be strings (or functions returning strings)");
  return x;
}

export class GatewayError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
  }
}

// Splits an SSE byte stream into {event, data} records; refuses an event larger than maxEventBytes.
export async function* parseSse(stream, maxEventBytes = DEFAULT_MAX_EVENT_BYTES) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message", data = [], eventBytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? 2 : 1));
        if (line === "") {
          if (data.length) yield { event, data: data.join("\n") };
          event = "message";
          data = [];
          eventBytes = 0;
          continue;
        }
        eventBytes += line.length;
        if (eventBytes > maxEventBytes) throw new GatewayError(`SSE event larger than ${maxEventBytes} bytes; refusing it`);
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (buffer.length > maxEventBytes) throw new GatewayError(`SSE line larger than ${maxEventBytes} bytes; refusing it`);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export class GatewayClient {
  // options: {baseUrl, target, token (string | () => string | Promise<string>), headers: {name: value |
  // function}, maxErrorBodyBytes, maxEventBytes, fetch}
  constructor(options) {
    if (!options || !options.baseUrl) throw new Error("GatewayClient: baseUrl is required");
    this.baseUrl = validateBaseUrl(options.baseUrl);
    this.target = options.target;
    this._token = options.token;
    this._headers = options.headers || {};
    this._maxErrorBody = options.maxErrorBodyBytes ?? DEFAULT_MAX_ERROR_BODY;
    this._maxEvent = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this._fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this._secrets = [];
  }

  // Never shows a secret we sent: replaces each in the text.
  redact(text) {
    let out = String(text);
    for (const s of this._secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
    return out;
  }

  async _headersFor() {
    const h = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const secrets = [];
    const token = await resolveValue(this._token);
    if (token !== undefined) {
      if (/[\r\n]/.test(token)) throw new Error("the bearer token contains a line break");
      h.authorization = `Bearer ${token}`;
      secrets.push(token);
    }
    for (const [name, v] of Object.entries(this._headers)) {
      const value = await resolveValue(v);
      if (value === undefined) continue;
      if (/[\r\n]/.test(value)) throw new Error(`header '${name}' contains a line break`);
      h[name.toLowerCase()] = value;
      if (/auth|key|token|secret|cookie/i.test(name)) secrets.push(value);
    }
    this._secrets = secrets;
    return h;
  }

  async _post(path, body, signal) {
    const headers = await this._headersFor();
    let response;
    try {
      response = await this._fetch(this.baseUrl + path, { method: "POST", headers, body: JSON.stringify(body), signal });
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      throw new GatewayError(this.redact(`cannot reach the gateway at ${this.baseUrl}: ${e.message || e}`));
    }
    if (!response.ok) throw new GatewayError(this.redact(await this._errorText(response)), response.status);
    return response;
  }

  // The gateway's error message from a bounded read of the body.
  async _errorText(response) {
    let text = "";
    if (response.body) {
      const reader = response.body.getReader();
      const chunks = [];
      let n = 0;
      while (n < this._maxErrorBody) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        n += value.length;
      }
      reader.cancel().catch(() => {});
      const all = new Uint8Array(Math.min(n, this._maxErrorBody));
      let off = 0;
      for (const c of chunks) {
        const take = Math.min(c.length, all.length - off);
        all.set(c.subarray(0, take), off);
        off += take;
      }
      text = new TextDecoder().decode(all);
    }
    let message = text;
    try {
      const j = JSON.parse(text);
      if (j && j.error) message = typeof j.error === "string" ? j.error : j.error.message || text;
    } catch (_) { /* not JSON (or cut at the bound): keep the text */ }
    return `gateway HTTP ${response.status}: ${message || response.statusText}`;
  }

  _body(req, extra) {
    const b = { target: req.target || this.target, ...extra };
    if (!b.target) throw new Error("GatewayClient: no target (set it on the client or the request)");
    if (req.maxTokens !== undefined) b.max_tokens = req.maxTokens;
    if (req.stop !== undefined) b.stop = req.stop;
    if (req.ignoreEos !== undefined) b.ignore_eos = req.ignoreEos;
    if (req.contextKey !== undefined) b.context_key = req.contextKey;
    const s = {};
    for (const [k, w] of [["temperature", "temperature"], ["topK", "top_k"], ["topP", "top_p"], ["minP", "min_p"],
      ["repeatPenalty", "repeat_penalty"], ["penaltyLastN", "penalty_last_n"], ["frequencyPenalty", "frequency_penalty"],
      ["presencePenalty", "presence_penalty"], ["seed", "seed"]]) {
      if (req[k] !== undefined) s[w] = req[k];
    }
    if (Object.keys(s).length) b.sampling = s;
    return b;
  }

  query(req) {
    const extra = req.promptTokens && req.promptTokens.length ? { prompt_tokens: req.promptTokens } : { prompt: req.prompt };
    return this._stream("/v1/query", this._body(req, extra), req);
  }

  chat(req) {
    return this._stream("/v1/chat", this._body(req, { messages: req.messages }), req);
  }

  async embed({ inputs, normalize = true, target, signal }) {
    const r = await this._post("/v1/embed", { target: target || this.target, inputs, normalize }, signal);
    const j = await r.json();
    if (!j || !Array.isArray(j.embeddings)) throw new GatewayError("gateway embed response has no embeddings");
    return j.embeddings;
  }

  _stream(path, body, req) {
    const run = new Run();
    const controller = new AbortController();
    const signal = req.signal;
    const onAbort = () => {
      controller.abort();
      const e = new Error("the request was aborted");
      e.name = "AbortError";
      run._finish(e);
    };
    if (signal) {
      if (signal.aborted) {
        onAbort();
        return run;
      }
      signal.addEventListener("abort", onAbort, { once: true });
    }
    (async () => {
      const response = await this._post(path, { ...body, stream: true }, controller.signal);
      let text = "";
      const tokens = [];
      for await (const ev of parseSse(response.body, this._maxEvent)) {
        if (ev.data === "[DONE]") break;
        let j;
        try {
          j = JSON.parse(ev.data);
        } catch (_) {
          throw new GatewayError(`gateway sent an SSE event that is not JSON (${ev.event})`);
        }
        if (ev.event === "tokens") {
          const piece = typeof j.text === "string" ? j.text : "";
          if (Array.isArray(j.tokens)) tokens.push(...j.tokens);
          text += piece;
          run._push(piece, j.tokens);
          if (req.onText) req.onText(piece);
        } else if (ev.event === "error") {
          const m = j && j.error ? (typeof j.error === "string" ? j.error : j.error.message) : ev.data;
          throw new GatewayError(this.redact(`gateway error: ${m}`));
        } else if (ev.event === "done") {
          return { text, tokens, finishReason: j.finish_reason, usage: j.usage, id: j.id, target: j.target };
        }
      }
      throw new GatewayError("the gateway closed the stream before its done event");
    })().then(
      (r) => run._finish(null, r),
      (e) => run._finish(e && e.name === "AbortError" ? e : e instanceof GatewayError ? e : new GatewayError(this.redact(e.message || e))),
    ).finally(() => signal && signal.removeEventListener("abort", onAbort));
    return run;
  }
}
