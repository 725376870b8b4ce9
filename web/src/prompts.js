// prompt:// references in the browser: the same behaviour as the C++ hearth::PromptResolver
// (src/prompts/prompt_resolver.cpp). `prompt://name@stage`, `prompt://name@3` or `prompt://name` (= @prod) is
// fetched from a registry's /v1/prompts/{name}, cached per reference and caller key for a TTL, revalidated
// by ETag after it (a 304 keeps the cached version), and served from the last-known-good copy, marked
// `stale: true`, while the registry cannot be reached. A/B stages are decided by the registry itself: the
// caller key travels as ?caller=, so the browser and the gateway pick the same version for the same key.
//
//   const prompts = new PromptResolver({ registryUrl: "https://gw.example.com", token: () => getToken() });
//   const { text, usage } = await prompts.resolveAndRender("prompt://greet@prod", { name: "Ada" }, { caller: userId });
//   hearth.query({ prompt: text, promptSource: { usage } });    // the run's usage.prompt records the version
//
// The bearer token (a string or a function returning one, called per request) never appears in an error.
// Rendering uses @huggingface/jinja; it is imported on first use, so pages that never render load nothing,
// and a page without a bundler can pass `jinja` in the options. It renders what hearth's Jinja renders
// (tests/prompts/render_vectors.json, checked by both sides) with three differences:
// - no `round` filter (nor `format`): rendering fails with a PromptError;
// - a number with no fraction prints as an integer: a JavaScript number cannot remember that it was written
//   1.0, so `{{ x }}` with x = 1.0 gives "1" here and "1.0" in C++, where the value arrived as a JSON float
//   (a float default in a prompt file, say). Arithmetic agrees: {{ x * 2 }} with x = 1.5 is "3.0" in both;
// - an object variable keeps its keys in the order written here; hearth holds them sorted (tojson, loops).
// To render the same in both, declare whole numbers `integer`, pass a number whose digits matter as a
// string, and write object keys sorted.
import { validateBaseUrl } from "./gateway.js";

const PROMPT_SCHEME = "prompt://";
const DEFAULT_TTL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const RETRY_PAUSE_MS = 5_000;            // after a failed revalidation, at most this long before asking again
const DEFAULT_MAX_ENTRIES = 1_000;       // cached references (per caller key); the oldest go first
const MAX_COMPILED = 64;                 // parsed templates kept, by content hash
const MAX_ERROR_BODY = 4_096;            // bytes of an error body read for its message
const MAX_BODY = 4 << 20;                // a prompt record larger than this is refused
const STORAGE_PREFIX = "hearth.prompt:";
const VAR_TYPES = ["string", "integer", "number", "boolean", "array", "object"];

export class PromptError extends Error {
  // status: the registry's HTTP status (0: unreachable; undefined: not from the registry)
  constructor(message, { status, code } = {}) {
    super(message);
    this.name = "PromptError";
    this.status = status;
    this.code = code;
  }
}

export function isPromptRef(text) {
  return typeof text === "string" && text.startsWith(PROMPT_SCHEME);
}

// Same rules as src/prompts/prompt_content.cpp: ASCII letters, digits and a few separators.
function isValidPromptName(name) {
  return /^[A-Za-z0-9._-]{1,128}$/.test(name) && name !== "." && name !== "..";
}
function isValidStageName(name) {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name);
}

// {name, stage, version}: exactly one of stage ("" when by version) and version (0 when by stage) is set.
export function parsePromptRef(ref) {
  if (!isPromptRef(ref))
    throw new PromptError(`prompt reference "${String(ref)}" must look like prompt://name@stage or prompt://name@3`);
  const rest = ref.slice(PROMPT_SCHEME.length);
  const at = rest.lastIndexOf("@");
  const name = at < 0 ? rest : rest.slice(0, at);
  const selector = at < 0 ? "prod" : rest.slice(at + 1);
  if (!isValidPromptName(name)) throw new PromptError(`prompt reference "${ref}": bad prompt name`);
  if (/^[0-9]{1,18}$/.test(selector)) {
    const version = Number(selector);
    if (version <= 0) throw new PromptError(`prompt reference "${ref}": versions start at 1`);
    if (!Number.isSafeInteger(version)) throw new PromptError(`prompt reference "${ref}": version is too large`);
    return { name, stage: "", version };
  }
  if (isValidStageName(selector)) return { name, stage: selector, version: 0 };
  throw new PromptError(`prompt reference "${ref}": bad stage or version after '@'`);
}

function isPlainObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function jsonKind(v) {
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function matchesType(v, type) {
  switch (type) {
    case "string": return typeof v === "string";
    case "integer": return Number.isInteger(v);
    case "number": return typeof v === "number" && Number.isFinite(v);
    case "boolean": return typeof v === "boolean";
    case "array": return Array.isArray(v);
    case "object": return isPlainObject(v);
    default: return false;
  }
}

// Checks `given` against the declarations ({name: {type, default?}}), rejects undeclared and missing
// names, applies defaults; returns the render context. Messages match hearth::bind_prompt_variables.
export function bindPromptVariables(declared, given) {
  if (given !== undefined && given !== null && !isPlainObject(given))
    throw new PromptError("prompt variables must be a JSON object");
  const context = Object.create(null);   // a variable named __proto__ must stay a plain key
  for (const [name, value] of Object.entries(given || {})) {
    const spec = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!spec) throw new PromptError(`prompt variable "${name}" is not declared by the prompt`);
    if (!matchesType(value, spec.type))
      throw new PromptError(`prompt variable "${name}" must be ${spec.type}, got ${jsonKind(value)}`);
    context[name] = value;
  }
  for (const [name, spec] of Object.entries(declared)) {
    if (Object.hasOwn(context, name)) continue;
    if (!Object.hasOwn(spec, "default")) throw new PromptError(`prompt variable "${name}" is required and has no default`);
    context[name] = spec.default;
  }
  return context;
}

// The registry's answer is input like any other: check every field the resolver relies on.
function promptFromRecord(record, ref, label) {
  const bad = (what) => new PromptError(`${label}: the registry's answer ${what}`);
  if (!isPlainObject(record)) throw bad("is not a JSON object");
  const { name, version, hash, template, variables, hints, resolved } = record;
  if (name !== ref.name) throw bad(`names prompt "${String(name)}", not "${ref.name}"`);
  if (!Number.isSafeInteger(version) || version <= 0) throw bad("has no valid version");
  if (ref.version && version !== ref.version) throw bad(`is version ${version}, not ${ref.version}`);
  if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) throw bad("has no sha256 hash");
  if (typeof template !== "string") throw bad("has no template text");
  if (variables !== undefined && !isPlainObject(variables)) throw bad("has variables that are not an object");
  const declared = Object.create(null);   // names come from the network: no prototype to pollute
  for (const [v, spec] of Object.entries(variables || {})) {
    if (!isPlainObject(spec) || !VAR_TYPES.includes(spec.type)) throw bad(`declares variable "${v}" without a known type`);
    if (Object.hasOwn(spec, "default") && !matchesType(spec.default, spec.type))
      throw bad(`declares variable "${v}" as ${spec.type} with a default that is not`);
    declared[v] = spec;
  }
  const stage = isPlainObject(resolved) && typeof resolved.stage === "string" ? resolved.stage : null;
  return {
    name,
    version,
    hash,
    stage: ref.version ? null : stage ?? ref.stage,
    stale: false,
    template,
    variables: declared,
    hints: isPlainObject(hints) ? hints : {},
  };
}

// The raw text of each top-level member of a JSON object text (already known to be valid JSON).
function topLevelMembers(text) {
  const members = new Map();
  let i = 0;
  const space = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const skipString = () => {
    for (i++; i < text.length;) {
      const c = text[i++];
      if (c === "\\") i++;
      else if (c === '"') return;
    }
  };
  const skipValue = () => {
    if (text[i] === '"') return skipString();
    if (text[i] !== "{" && text[i] !== "[") {
      while (i < text.length && !",}] \t\n\r".includes(text[i])) i++;
      return;
    }
    for (let depth = 0; i < text.length;) {
      const c = text[i];
      if (c === '"') { skipString(); continue; }
      i++;
      if (c === "{" || c === "[") depth++;
      else if ((c === "}" || c === "]") && --depth === 0) return;
    }
  };
  space();
  for (i++; ; i++) {   // past "{", then past each ","
    space();
    if (text[i] !== '"') break;
    const keyStart = i;
    skipString();
    const key = JSON.parse(text.slice(keyStart, i));
    space();
    i++;   // ":"
    space();
    const valueStart = i;
    skipValue();
    members.set(key, text.slice(valueStart, i));
    space();
    if (text[i] !== ",") break;
  }
  return members;
}

// The registry names a version by sha256 of its content's canonical JSON ({hints, template, variables},
// keys sorted, compact: src/prompts/prompt_content.cpp). Its answer is that same compact, key-sorted JSON,
// so the members' raw text rebuilds the hashed bytes exactly (number formatting included). Without
// crypto.subtle (a page on plain http to a remote host) there is nothing to check with, and it is skipped.
async function verifyContentHash(body, hash, label) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) return;
  const m = topLevelMembers(body);
  const canonical = `{"hints":${m.get("hints")},"template":${m.get("template")},"variables":${m.get("variables")}}`;
  const digest = new Uint8Array(await subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== hash) throw new PromptError(`${label}: the registry sent content that does not match its hash ${hash}`);
}

// What a run records: {name, version, hash, stage, stale} (stage null when resolved by version number).
export function promptUsage(prompt) {
  return { name: prompt.name, version: prompt.version, hash: prompt.hash, stage: prompt.stage, stale: prompt.stale };
}

async function readBounded(response, limit) {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) return null;
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

export class PromptResolver {
  // options: {registryUrl, token (string | () => string | Promise<string>), ttlMs (30 s), timeoutMs (2 s),
  // maxEntries (1000), storage (optional Web Storage, e.g. localStorage: last-known-good copies survive a
  // reload), jinja (optional: the @huggingface/jinja module), fetch, now (ms clock, for tests)}
  constructor(options) {
    if (!options || !options.registryUrl) throw new PromptError("PromptResolver: registryUrl is required");
    this.registryUrl = validateBaseUrl(options.registryUrl);
    this._token = options.token;
    this._ttl = options.ttlMs ?? DEFAULT_TTL_MS;
    this._timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this._maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this._storage = options.storage || null;
    this._jinja = options.jinja || null;
    this._fetch = options.fetch || globalThis.fetch.bind(globalThis);
    this._now = options.now || (() => performance.now());
    this._cache = new Map();       // key -> {prompt, etag, freshUntil, retryAfter, stale}
    this._inFlight = new Map();    // key -> promise of a registry round trip, shared by concurrent callers
    this._compiled = new Map();    // content hash -> parsed template
    this._secrets = [];
  }

  _redact(text) {
    let out = String(text);
    for (const s of this._secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
    return out;
  }

  // ref: prompt://name@stage | prompt://name@3 | prompt://name. caller: the A/B split key (e.g. a user id).
  // Throws PromptError when the prompt is unknown, or the registry is unreachable with nothing cached.
  async resolve(refText, { caller = "" } = {}) {
    const ref = parsePromptRef(refText);
    if (typeof caller !== "string") throw new PromptError("caller must be a string");
    const selector = ref.version ? String(ref.version) : ref.stage;
    const key = `${ref.name}@${selector}#${caller}`;
    let entry = this._cache.get(key) || await this._load(key, ref, refText);
    const now = this._now();
    if (entry && !entry.stale && now < entry.freshUntil) return this._serve(key, entry, false);
    if (entry && entry.stale && now < entry.retryAfter) return this._serve(key, entry, true);

    let pending = this._inFlight.get(key);
    if (!pending) {
      pending = this._revalidate(key, ref, refText, caller, entry).finally(() => this._inFlight.delete(key));
      this._inFlight.set(key, pending);
    }
    return pending;
  }

  async _revalidate(key, ref, refText, caller, entry) {
    let query = ref.version ? `version=${ref.version}` : `stage=${encodeURIComponent(ref.stage)}`;
    if (caller) query += `&caller=${encodeURIComponent(caller)}`;
    const url = `${this.registryUrl}/v1/prompts/${encodeURIComponent(ref.name)}?${query}`;

    let reply = await this._get(url, entry ? entry.etag : "");
    // Same content under another version number (an identical push): fetch the record itself.
    if (reply.status === 304 && entry && reply.versionHeader !== String(entry.prompt.version)) reply = await this._get(url, "");
    const now = this._now();
    if (reply.status === 304 && entry) {
      entry.freshUntil = now + this._ttl;
      return this._serve(key, entry, false);
    }
    if (reply.status === 200) {
      let record;
      try {
        record = JSON.parse(reply.body);
      } catch (_) {
        throw new PromptError(`${refText}: registry answered HTTP 200 with a body that is not JSON`, { status: 200 });
      }
      const fresh = { prompt: promptFromRecord(record, ref, refText), etag: reply.etag, freshUntil: now + this._ttl, retryAfter: 0, stale: false };
      await verifyContentHash(reply.body, fresh.prompt.hash, refText);
      this._save(key, fresh.etag, reply.body);
      return this._serve(key, fresh, false);
    }
    if (reply.status === 0 || reply.status >= 500) {
      if (entry) {
        // Last-known-good; ask the registry again after a short pause rather than on every call.
        entry.retryAfter = now + Math.min(this._ttl, RETRY_PAUSE_MS);
        return this._serve(key, entry, true);
      }
      throw new PromptError(`${refText}: ${reply.message}, and no cached copy`, { status: reply.status, code: reply.code });
    }
    throw new PromptError(`${refText}: ${reply.message}`, { status: reply.status, code: reply.code });
  }

  // One GET; never throws: {status (0 when unreachable), body, etag, versionHeader, message, code}.
  async _get(url, ifNoneMatch) {
    const headers = { accept: "application/json" };
    try {
      const token = typeof this._token === "function" ? await this._token() : this._token;
      if (token !== undefined && token !== null && token !== "") {
        if (typeof token !== "string") throw new PromptError("the registry token must be a string (or a function returning one)");
        if (/[\r\n]/.test(token)) throw new PromptError("the registry token contains a line break");
        if (!this._secrets.includes(token)) this._secrets.push(token);
        headers.authorization = `Bearer ${token}`;
      }
    } catch (e) {
      if (e instanceof PromptError) throw e;
      // Its message may well hold a credential we never saw: keep it out of ours, reachable as .cause.
      const failure = new PromptError("the registry token provider failed (its error is in .cause)");
      failure.cause = e;
      throw failure;
    }
    if (ifNoneMatch) headers["if-none-match"] = ifNoneMatch;
    let response;
    try {
      // no-store: the browser's HTTP cache must not answer our conditional request in the registry's place.
      response = await this._fetch(url, { headers, cache: "no-store", signal: AbortSignal.timeout(this._timeout) });
    } catch (e) {
      const why = e && e.name === "TimeoutError" ? `no answer within ${this._timeout} ms`
        : (e && e.cause && e.cause.message) || (e && e.message) || String(e);
      return { status: 0, message: `registry unreachable: ${this._redact(why)}` };
    }
    const reply = {
      status: response.status,
      etag: response.headers.get("etag") || "",
      versionHeader: response.headers.get("x-prompt-version") || "",
    };
    if (response.status === 304) return { ...reply, message: "registry: HTTP 304 to a request we had no copy for" };
    const body = await readBounded(response, response.status === 200 ? MAX_BODY : MAX_ERROR_BODY).catch(() => null);
    if (response.status === 200) {
      if (body === null) return { status: 0, message: "registry unreachable: the prompt record was cut off or too large" };
      return { ...reply, body };
    }
    let message = `registry: HTTP ${response.status}`;
    try {
      const error = JSON.parse(body).error;
      if (typeof error.message === "string") message += `: ${error.message.slice(0, 1000)}`;
      if (typeof error.code === "string") reply.code = error.code;
    } catch (_) { /* not JSON, or cut at the bound: the status says enough */ }
    return { ...reply, message: this._redact(message) };
  }

  _serve(key, entry, stale) {
    entry.stale = stale;
    this._cache.delete(key);            // re-insert: Map order is the eviction order (least recent first)
    this._cache.set(key, entry);
    while (this._cache.size > this._maxEntries) this._cache.delete(this._cache.keys().next().value);
    return { ...entry.prompt, stale };
  }

  _save(key, etag, body) {
    if (!this._storage) return;
    try {
      this._storage.setItem(STORAGE_PREFIX + key, JSON.stringify({ etag, body }));
    } catch (_) { /* storage full or disabled: the copy is an optimization, never a failure */ }
  }

  async _load(key, ref, refText) {
    if (!this._storage) return null;
    try {
      const saved = JSON.parse(this._storage.getItem(STORAGE_PREFIX + key));
      if (!saved || typeof saved.etag !== "string" || typeof saved.body !== "string") return null;
      const prompt = promptFromRecord(JSON.parse(saved.body), ref, refText);
      await verifyContentHash(saved.body, prompt.hash, refText);
      return { prompt, etag: saved.etag, freshUntil: 0, retryAfter: 0, stale: false };
    } catch (_) {
      return null;   // a damaged copy is the same as none
    }
  }

  async _template(prompt) {
    let t = this._compiled.get(prompt.hash);
    if (t) return t;
    if (!this._jinja) {
      try {
        this._jinja = await import("@huggingface/jinja");
      } catch (e) {
        throw new PromptError(`rendering a prompt needs @huggingface/jinja (install it, map it in an import map, or pass {jinja} to PromptResolver): ${e.message}`);
      }
    }
    try {
      t = new this._jinja.Template(prompt.template);
    } catch (e) {
      throw new PromptError(`${prompt.name}@${prompt.version}: template does not parse: ${e.message}`);
    }
    if (this._compiled.size >= MAX_COMPILED) this._compiled.delete(this._compiled.keys().next().value);
    this._compiled.set(prompt.hash, t);
    return t;
  }

  // Type-checks `variables` against the prompt's declarations, applies defaults and renders the template.
  async render(prompt, variables) {
    const context = bindPromptVariables(prompt.variables, variables);
    const template = await this._template(prompt);
    try {
      return template.render(context);
    } catch (e) {
      throw new PromptError(`${prompt.name}@${prompt.version}: rendering failed: ${e.message}`);
    }
  }

  // {text, usage: {name, version, hash, stage, stale}, prompt}: pass {usage} as a run's promptSource.
  async resolveAndRender(ref, variables, { caller = "" } = {}) {
    const prompt = await this.resolve(ref, { caller });
    const text = await this.render(prompt, variables);
    return { text, usage: promptUsage(prompt), prompt };
  }
}
