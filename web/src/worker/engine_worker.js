// The engine's Web Worker: loads the WebAssembly artifact (WebGPU when asked for or when `auto` finds a
// hardware adapter; else threaded when the page is cross-origin isolated, single-thread otherwise), stages
// GGUF files in OPFS, and runs the engine. The page talks to it
// with {id, op, args} messages; replies are {id, type: "progress" | "piece" | "result" | "error", ...}.
// Classic worker (importScripts) because Emscripten 3.1.6's pthread glue loads the main script that way.
/* global importScripts, HearthOpfs, createHearthModule, self */
"use strict";

importScripts("./opfs_shards.js");

let module = null;     // the Emscripten module
let engine = null;     // the engine's operations, as promises (see embindEngine / asyncEngine)
let runtime = null;    // what init chose and found
let loadedKey = null;
let queue = Promise.resolve();   // one operation at a time: the engine is not re-entrant

function post(message) {
  self.postMessage(message);
}

// The binding returns JSON text; errors come back as {"error": "..."}.
function call(fn) {
  const out = JSON.parse(fn());
  if (out && typeof out.error === "string") throw new Error(out.error);
  return out;
}

// The CPU artifacts' engine is an embind class whose calls return at once.
function embindEngine(m) {
  const e = new m.Engine();
  return {
    load: async (path, options, progress) => call(() => e.load(path, options, progress)),
    info: async () => call(() => e.info()),
    tokenize: async (text) => call(() => e.tokenize(text)),
    applyChatTemplate: async (messages, addGenerationPrompt) => call(() => e.applyChatTemplate(messages, addGenerationPrompt)),
    generate: async (prompt, options, onPiece) => call(() => e.generate(prompt, options, onPiece)),
    embed: async (inputs, normalize) => call(() => e.embed(inputs, normalize)),
    reset: async () => e.reset(),
    unload: async () => e.unload(),
  };
}

// The WebGPU artifact suspends inside its calls while the GPU works (Asyncify), so every operation goes
// through one C entry point called with ccall's async mode; progress and pieces come back through hooks
// on the module (src/wasm/engine_hooks_library.js).
function asyncEngine(m) {
  const invoke = async (op, a = "", b = "", flag = 0) => {
    const text = await m.ccall("hearth_call", "string", ["string", "string", "string", "number"], [op, a, b, flag], { async: true });
    return call(() => text);
  };
  const withHook = async (name, fn, body) => {
    m[name] = fn || null;
    try {
      return await body();
    } finally {
      m[name] = null;
    }
  };
  return {
    load: (path, options, progress) => withHook("hearthProgress", progress, () => invoke("load", path, options)),
    info: () => invoke("info"),
    tokenize: (text) => invoke("tokenize", text),
    applyChatTemplate: (messages, addGenerationPrompt) => invoke("applyChatTemplate", messages, "", addGenerationPrompt ? 1 : 0),
    generate: (prompt, options, onPiece) => withHook("hearthPiece", onPiece, () => invoke("generate", prompt, options)),
    embed: (inputs, normalize) => invoke("embed", inputs, "", normalize ? 1 : 0),
    reset: () => invoke("reset"),
    unload: () => invoke("unload"),
  };
}

// A software adapter (SwiftShader, or one the browser marks as fallback) runs WGSL on the CPU, slower than
// the WASM CPU build: `auto` does not pick it; `webgpu` still may.
function isSoftwareAdapter(gpu) {
  return gpu.isFallbackAdapter === true || /swiftshader/i.test(`${gpu.vendor} ${gpu.architecture} ${gpu.description}`);
}

async function webgpuAdapterInfo() {
  if (!self.navigator || !navigator.gpu) return { available: false, reason: "navigator.gpu is missing" };
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return { available: false, reason: `requestAdapter failed: ${e.message || e}` };
  }
  if (!adapter) return { available: false, reason: "no WebGPU adapter" };
  let info = adapter.info;
  if (!info && adapter.requestAdapterInfo) info = await adapter.requestAdapterInfo();
  return {
    available: true,
    vendor: info ? info.vendor : "",
    architecture: info ? info.architecture : "",
    device: info ? info.device : "",
    description: info ? info.description : "",
    isFallbackAdapter: adapter.isFallbackAdapter === true || (info && info.isFallbackAdapter === true),
    shaderF16: adapter.features.has("shader-f16"),
    subgroups: adapter.features.has("subgroups"),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}

// Which artifact runs, and on which backend, from what was asked and what exists.
function chooseRuntime(requestedArtifact, requestedBackend, gpu) {
  const isolated = self.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined";
  const artifact = requestedArtifact === undefined ? "auto" : requestedArtifact;
  const backend = requestedBackend === undefined ? "auto" : requestedBackend;
  if (!["auto", "threads", "single", "webgpu"].includes(artifact))
    throw new Error(`unknown artifact '${artifact}' (auto|threads|single|webgpu)`);
  if (!["cpu", "webgpu", "auto"].includes(backend)) throw new Error(`unknown backend '${backend}' (cpu|webgpu|auto)`);
  if (artifact === "threads" && !isolated)
    throw new Error("the threaded build needs a cross-origin isolated page (COOP: same-origin, COEP: require-corp)");
  const cpuArtifact = artifact === "threads" || artifact === "single" ? artifact : isolated ? "threads" : "single";
  const adapter = gpu.available ? `adapter: ${gpu.vendor} ${gpu.architecture}` : gpu.reason;
  if (backend === "webgpu" || artifact === "webgpu") {
    if (backend === "cpu") throw new Error("the webgpu artifact runs backend 'webgpu' or 'auto', not 'cpu'");
    if (artifact === "threads" || artifact === "single")
      throw new Error(`backend 'webgpu' needs the webgpu artifact, not '${artifact}'`);
    if (!gpu.available) throw new Error(`backend 'webgpu': ${gpu.reason}; use 'cpu' or 'auto'`);
    return { artifact: "webgpu", backend: "webgpu", reason: backend === "webgpu" ? `requested (${adapter})` : "webgpu artifact requested" };
  }
  if (backend === "cpu") return { artifact: cpuArtifact, backend: "cpu", reason: "requested" };
  if (artifact !== "auto") return { artifact: cpuArtifact, backend: "cpu", reason: `the ${artifact} artifact runs on the CPU` };
  if (!gpu.available) return { artifact: cpuArtifact, backend: "cpu", reason: `no WebGPU (${gpu.reason})` };
  if (isSoftwareAdapter(gpu))
    return { artifact: cpuArtifact, backend: "cpu", reason: `the WebGPU adapter is software (${adapter}); the WASM CPU build is faster` };
  return { artifact: "webgpu", backend: "auto", reason: `WebGPU ${adapter}` };
}

const ops = {
  async init({ distUrl, artifact, backend }) {
    if (module) return runtime;
    const gpu = await webgpuAdapterInfo();
    const chosen = chooseRuntime(artifact, backend, gpu);
    const script = new URL(`hearth-${chosen.artifact}.js`, distUrl).href;
    importScripts(script);
    const threads = chosen.artifact === "threads" ? Math.min(navigator.hardwareConcurrency || 4, 16) : 1;
    module = await createHearthModule({
      locateFile: (path) => new URL(path, distUrl).href,
      mainScriptUrlOrBlob: script,
    });
    module.FS.mkdir("/models");
    engine = chosen.artifact === "webgpu" ? asyncEngine(module) : embindEngine(module);
    const build = chosen.artifact === "webgpu"
      ? call(() => module.ccall("hearth_call", "string", ["string", "string", "string", "number"], ["buildInfo", "", "", 0]))
      : JSON.parse(module.buildInfo());
    // backend "auto" on the webgpu artifact: the engine decides at load (the model must fit the adapter's
    // limits) and the load result says which backend runs.
    runtime = {
      artifact: chosen.artifact,
      threads,
      simd: build.simd,
      crossOriginIsolated: self.crossOriginIsolated === true,
      backend: chosen.backend === "auto" ? "webgpu" : chosen.backend,
      requestedBackend: chosen.backend,
      backendReason: chosen.reason,
      webgpu: gpu,
    };
    return runtime;
  },

  async stage({ key, name, url, file, shardThreshold, shardSize }, id) {
    // A picked file is named by name, size and date, so a different file of the same name is stored anew.
    const storageKey = HearthOpfs.keyFor(key || name || (file ? `${file.name}-${file.size}-${file.lastModified || 0}` : url));
    const existing = await HearthOpfs.readManifest(storageKey);
    if (existing && (!file || existing.size === file.size)) return { key: storageKey, manifest: existing, cached: true };
    let last = 0;
    const manifest = await HearthOpfs.stage({
      key: storageKey,
      name: name || (file && file.name) || url,
      source: file ? { file } : { url: new URL(url, self.location.href).href },
      shardThreshold,
      shardSize,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last > 100 || (p.total && p.loaded === p.total)) {
          last = now;
          post({ id, type: "progress", phase: p.phase, loaded: p.loaded, total: p.total });
        }
      },
    });
    return { key: storageKey, manifest, cached: false };
  },

  async load({ key, ctx, batch }, id) {
    requireModule();
    const opened = await HearthOpfs.openShards(key);
    const path = `/models/${key}.gguf`;
    try {
      mountShards(path, opened);
      const t0 = performance.now();
      const options = { threads: runtime.threads, ctx: ctx || 0, batch: batch || 256 };
      if (runtime.artifact === "webgpu") options.backend = runtime.requestedBackend;
      const info = await engine.load(path, JSON.stringify(options), (f) =>
        post({ id, type: "progress", phase: "load", loaded: f, total: 1 }));
      loadedKey = key;
      if (info.backend) {
        runtime.backend = info.backend;
        if (info.backendNote) runtime.backendReason = info.backendNote;
      }
      return { ...info, key, size: opened.manifest.size, shards: opened.manifest.shards, loadSeconds: (performance.now() - t0) / 1000 };
    } finally {
      opened.close();
      try { module.FS.unlink(path); } catch (_) { /* not created */ }
    }
  },

  info() {
    requireModel();
    return engine.info();
  },

  async tokenize({ text }) {
    requireModel();
    return (await engine.tokenize(String(text))).tokens;
  },

  async applyChatTemplate({ messages, addGenerationPrompt }) {
    requireModel();
    return (await engine.applyChatTemplate(JSON.stringify(messages), addGenerationPrompt !== false)).text;
  },

  // prompt: {text} | {tokens} | {messages}; cancel: an Int32Array on a SharedArrayBuffer (when isolated).
  async generate({ prompt, options, cancel }, id) {
    requireModel();
    let p = prompt;
    if (prompt && prompt.messages) {
      p = { text: (await engine.applyChatTemplate(JSON.stringify(prompt.messages), true)).text };
    }
    const onPiece = (piece) => {
      post({ id, type: "piece", text: piece });
      return !(cancel && Atomics.load(cancel, 0) !== 0);
    };
    const result = await engine.generate(JSON.stringify(p), JSON.stringify(options || {}), onPiece);
    if (p.text !== undefined) result.prompt = p.text;
    return result;
  },

  // The embedding model is opened from the file on first use, so the file is mounted again around it.
  async embed({ inputs, normalize }) {
    requireModel();
    const opened = await HearthOpfs.openShards(loadedKey);
    const path = `/models/${loadedKey}.gguf`;
    try {
      mountShards(path, opened);
      return await engine.embed(JSON.stringify(inputs), normalize !== false);
    } finally {
      opened.close();
      try { module.FS.unlink(path); } catch (_) { /* not created */ }
    }
  },

  async reset() {
    requireModel();
    await engine.reset();
    return true;
  },

  listModels() {
    return HearthOpfs.list();
  },

  async removeModel({ key }) {
    if (key === loadedKey) {
      await engine.unload();
      loadedKey = null;
    }
    return HearthOpfs.remove(key);
  },

  // SHA-256 of a stored model, read back through its shards (proves reassembly).
  async digest({ key }) {
    const opened = await HearthOpfs.openShards(key);
    try {
      const bytes = new Uint8Array(opened.manifest.size);
      const n = HearthOpfs.readAt(opened, bytes, 0);
      if (n !== bytes.length) throw new Error(`read ${n} of ${bytes.length} bytes`);
      const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      return { sha256: Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join(""), manifest: opened.manifest };
    } finally {
      opened.close();
    }
  },
};

function requireModule() {
  if (!engine) throw new Error("the engine is not initialized (call init first)");
}
function requireModel() {
  requireModule();
  if (!loadedKey) throw new Error("no model is loaded");
}

// Each OPFS read costs about half a millisecond however small it is, and the C++ reader asks for a few
// KiB at a time: small reads are served from a window filled by one large read; large reads go straight
// into the heap.
class ReadAhead {
  constructor(opened, windowBytes = 8 << 20) {
    this.opened = opened;
    this.window = new Uint8Array(Math.min(windowBytes, opened.manifest.size));
    this.start = 0;
    this.end = 0;   // [start, end) of the file is in the window
  }
  read(target, position) {
    const n = target.length;
    if (n >= this.window.length / 2) return HearthOpfs.readAt(this.opened, target, position);
    if (position < this.start || position + n > this.end) {
      this.start = position;
      this.end = position + HearthOpfs.readAt(this.opened, this.window, position);
    }
    const avail = Math.min(n, this.end - position);
    target.set(this.window.subarray(position - this.start, position - this.start + avail));
    return avail;
  }
}

// A read-only file in Emscripten's FS whose reads go through the OPFS sync access handles straight into
// the WebAssembly heap (the `buffer` Emscripten passes is the heap), so no copy of the model is ever held
// in a JavaScript ArrayBuffer.
function mountShards(path, opened) {
  const FS = module.FS;
  const EIO = 29, EINVAL = 28, EROFS = 2;
  const parent = FS.lookupPath("/models").node;
  const name = path.slice("/models/".length);
  const node = FS.createNode(parent, name, 0o100444, 0);
  const size = opened.manifest.size;
  const readAhead = new ReadAhead(opened);
  node.node_ops = {
    getattr: (n) => ({
      dev: 1, ino: n.id, mode: n.mode, nlink: 1, uid: 0, gid: 0, rdev: 0, size,
      atime: new Date(0), mtime: new Date(0), ctime: new Date(0), blksize: 4096, blocks: Math.ceil(size / 4096),
    }),
    setattr: () => { throw new FS.ErrnoError(EROFS); },
  };
  node.stream_ops = {
    read(stream, buffer, offset, length, position) {
      if (position >= size) return 0;
      try {
        return readAhead.read(buffer.subarray(offset, offset + Math.min(length, size - position)), position);
      } catch (e) {
        console.error(`hearth: reading ${path}: ${e.message || e}`);
        throw new FS.ErrnoError(EIO);
      }
    },
    write() { throw new FS.ErrnoError(EROFS); },
    llseek(stream, offset, whence) {
      let position = offset;
      if (whence === 1) position += stream.position;
      else if (whence === 2) position += size;
      if (position < 0) throw new FS.ErrnoError(EINVAL);
      return position;
    },
  };
}

self.onmessage = (event) => {
  const { id, op, args } = event.data || {};
  queue = queue.then(async () => {
    try {
      if (!Object.prototype.hasOwnProperty.call(ops, op)) throw new Error(`unknown operation '${op}'`);
      const result = await ops[op](args || {}, id);
      post({ id, type: "result", result });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      post({ id, type: "error", message: /out of memory|Cannot enlarge memory|Aborted\(OOM\)/i.test(message)
        ? `out of memory: ${message}. The model does not fit in this tab's WebAssembly memory (4 GiB at most).`
        : message });
    }
  });
};
