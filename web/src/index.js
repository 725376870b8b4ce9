// hearth in the browser: the page-side client of the engine worker. Same operations as the C++ Client —
// query, chat, embed — with streaming as AsyncIterables and cancellation through AbortSignal.
//
//   const hearth = await Hearth.create();                       // picks the threaded or single build
//   await hearth.loadModel({ url: "/models/model.gguf", onProgress: console.log });
//   const run = hearth.chat({ messages: [{ role: "user", content: "Hi" }], maxTokens: 64 });
//   for await (const chunk of run) out.textContent += chunk.text;
//   const response = await run.result;                          // tokens, text, usage (tok/s)
import { Run } from "./run.js";

export { Run };
export { GatewayClient, GatewayError, validateBaseUrl } from "./gateway.js";
export { PromptError, PromptResolver, bindPromptVariables, isPromptRef, parsePromptRef, promptUsage } from "./prompts.js";

const defaultDistUrl = new URL("../dist/", import.meta.url).href;
const defaultWorkerUrl = new URL("./worker/engine_worker.js", import.meta.url).href;

function abortError(signal) {
  const reason = signal && signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error("the request was aborted");
  e.name = "AbortError";
  return e;
}

// Request fields (camelCase, as in the C++ RequestOptions) → the worker's generate options.
function generateOptions(req) {
  const o = {};
  for (const k of ["maxTokens", "temperature", "topK", "topP", "minP", "repeatPenalty", "penaltyLastN",
    "frequencyPenalty", "presencePenalty", "seed", "stop", "ignoreEos"]) {
    if (req[k] !== undefined) o[k] = req[k];
  }
  return o;
}

export class Hearth {
  // options: {artifact: "auto"|"threads"|"single"|"webgpu", backend: "auto"|"cpu"|"webgpu", distUrl, workerUrl}
  static async create(options = {}) {
    const worker = new Worker(options.workerUrl || defaultWorkerUrl, { name: "hearth-engine" });
    const h = new Hearth(worker);
    h.runtime = await h._request("init", {
      distUrl: new URL(options.distUrl || defaultDistUrl, location.href).href,
      artifact: options.artifact || "auto",
      backend: options.backend || "auto",
    });
    return h;
  }

  constructor(worker) {
    this._worker = worker;
    this._next = 1;
    this._pending = new Map();
    this.runtime = null;
    this.model = null;
    worker.onmessage = (e) => this._onMessage(e.data);
    worker.onerror = (e) => {
      const err = new Error(`engine worker failed: ${e.message || "script error"}`);
      for (const p of this._pending.values()) p.fail(err);
      this._pending.clear();
    };
  }

  _onMessage(m) {
    const p = this._pending.get(m.id);
    if (!p) return;
    if (m.type === "progress") p.progress && p.progress(m);
    else if (m.type === "piece") p.piece && p.piece(m.text);
    else {
      this._pending.delete(m.id);
      if (m.type === "error") p.fail(new Error(m.message));
      else p.done(m.result);
    }
  }

  _request(op, args, handlers = {}, transfer = []) {
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { done: resolve, fail: reject, ...handlers });
      this._worker.postMessage({ id, op, args }, transfer);
    });
  }

  // Stores the model in OPFS (unless it is there already) and loads it. source: {url} | {file} (a File
  // or Blob from an <input type=file>); key names it in storage (default: the URL or file name).
  // onProgress({phase: "download" | "load", loaded, total}).
  async loadModel({ url, file, key, name, onProgress, shardThreshold, shardSize, ctx, batch } = {}) {
    if (!url && !file) throw new Error("loadModel: give {url} or {file}");
    const staged = await this._request("stage", { url, file, key, name, shardThreshold, shardSize },
      { progress: onProgress });
    const info = await this._request("load", { key: staged.key, ctx, batch }, { progress: onProgress });
    this.model = { ...info, cached: staged.cached, manifest: staged.manifest };
    // The webgpu artifact with backend auto decides at load whether the model fits the adapter.
    if (info.backend) this.runtime = { ...this.runtime, backend: info.backend, backendReason: info.backendNote || this.runtime.backendReason };
    return this.model;
  }

  // Raw text continuation: BOS per the vocabulary, special tokens parsed (or promptTokens).
  query(request) {
    const prompt = request.promptTokens && request.promptTokens.length ? { tokens: request.promptTokens } : { text: request.prompt };
    return this._generate(prompt, request);
  }

  // messages: [{role, content}] rendered by the model's own chat template.
  chat(request) {
    if (!Array.isArray(request.messages)) throw new Error("chat: messages must be an array of {role, content}");
    return this._generate({ messages: request.messages }, request);
  }

  _generate(prompt, request) {
    const run = new Run();
    const signal = request.signal;
    if (signal && signal.aborted) {
      run._finish(abortError(signal));
      return run;
    }
    // The worker is busy while it generates, so cancellation is a flag it reads between tokens; without
    // cross-origin isolation there is no shared memory: the run ends here at once and the worker finishes
    // the (bounded) generation unseen.
    const cancel = typeof SharedArrayBuffer !== "undefined" && self.crossOriginIsolated
      ? new Int32Array(new SharedArrayBuffer(4)) : null;
    const onAbort = () => {
      if (cancel) Atomics.store(cancel, 0, 1);
      run._finish(abortError(signal));
    };
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
    // `settled`: the worker's own end of the run (finishReason "cancelled" when the abort reached it).
    run.settled = this._request("generate", { prompt, options: generateOptions(request), cancel }, {
      piece: (text) => {
        run._push(text);
        if (request.onText) request.onText(text);
      },
    });
    run.settled.then(
      // promptSource ({usage} from PromptResolver.resolveAndRender): the prompt version this run used.
      (r) => run._finish(null, request.promptSource ? { ...r, usage: { ...r.usage, prompt: request.promptSource.usage } } : r),
      (e) => run._finish(e),
    ).finally(() => signal && signal.removeEventListener("abort", onAbort));
    run.settled.catch(() => {});
    return run;
  }

  // One vector per input (L2-normalized unless normalize is false).
  async embed({ inputs, normalize = true }) {
    const r = await this._request("embed", { inputs, normalize });
    return r.embeddings;
  }

  tokenize(text) { return this._request("tokenize", { text }); }
  applyChatTemplate(messages, addGenerationPrompt = true) {
    return this._request("applyChatTemplate", { messages, addGenerationPrompt });
  }
  reset() { return this._request("reset", {}); }
  listModels() { return this._request("listModels", {}); }
  removeModel(key) { return this._request("removeModel", { key }); }
  digest(key) { return this._request("digest", { key }); }

  terminate() {
    this._worker.terminate();
    const err = new Error("the engine was terminated");
    for (const p of this._pending.values()) p.fail(err);
    this._pending.clear();
  }
}
