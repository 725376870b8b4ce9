// The browser's WebGPU artifact (web/dist/hearth-webgpu.{js,wasm}) under Node with Dawn's Node binding
// (dawn.node) standing in for navigator.gpu: decode and prefill speed of the wasm + JS device layer, to
// compare with the native WebGPU build on the same GPU (`hearth run --backend webgpu` or hearth-webgpu-bench).
//   node web/bench/webgpu_node.mjs --dawn PATH/dawn.node -m MODEL.gguf [-n 128] [-p "prompt"] [--runs 3]
//     [--ctx N] [--dist DIR]   (DIR holds hearth-webgpu.{js,wasm}; default web/dist)
// Without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));

function args(argv) {
  const o = { n: 128, prompt: "Once upon a time", runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === "--dawn") o.dawn = v;
    else if (k === "-m") o.model = v;
    else if (k === "-n") o.n = Number(v);
    else if (k === "-p") o.prompt = v;
    else if (k === "--runs") o.runs = Number(v);
    else if (k === "--ctx") o.ctx = Number(v);
    else if (k === "--dist") o.dist = v;
    else continue;
    i++;
  }
  if (!o.dawn || !o.model) throw new Error("usage: webgpu_node.mjs --dawn PATH/dawn.node -m MODEL.gguf [-n N] [-p PROMPT] [--runs R]");
  return o;
}

const opt = args(process.argv.slice(2));
const dist = path.resolve(opt.dist || path.resolve(here, "../dist"));
const { create, globals } = createRequire(import.meta.url)(path.resolve(opt.dawn));
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true, writable: true });
// The artifact is built for web and worker environments: present a worker-like global to it.
globalThis.self = globalThis;
globalThis.importScripts = () => {};
globalThis.location = { href: pathToFileURL(dist + "/").href };
vm.runInThisContext(readFileSync(path.join(dist, "hearth-webgpu.js"), "utf8"), { filename: "hearth-webgpu.js" });
const m = await globalThis.createHearthModule({ wasmBinary: readFileSync(path.join(dist, "hearth-webgpu.wasm")) });

async function call(op, a = "", b = "", flag = 0) {
  const out = JSON.parse(await m.ccall("hearth_call", "string", ["string", "string", "string", "number"], [op, a, b, flag], { async: true }));
  if (out && typeof out.error === "string") throw new Error(out.error);
  return out;
}

m.FS.writeFile("/model.gguf", readFileSync(opt.model));
const t0 = performance.now();
const info = await call("load", "/model.gguf", JSON.stringify({ backend: "webgpu", ctx: opt.ctx || 0, batch: 512 }));
const loadSeconds = (performance.now() - t0) / 1000;
console.log(`model ${path.basename(opt.model)} · ${info.arch} · backend ${info.backend} (${info.gpu}) · load ${loadSeconds.toFixed(2)} s`);
const gen = { maxTokens: opt.n, temperature: 0, ignoreEos: true };
for (let r = 0; r <= opt.runs; r++) {
  await call("reset");
  const before = m.hearthGpuStats();
  const t0 = performance.now();
  const res = await call("generate", JSON.stringify({ text: opt.prompt }), JSON.stringify(gen));
  const wallMs = performance.now() - t0;
  const after = m.hearthGpuStats();
  const delta = Object.fromEntries(Object.keys(after).map((k) => [k, Math.round((after[k] - before[k]) * 10) / 10]));
  console.log(`  wall ${wallMs.toFixed(0)} ms; device layer: ${JSON.stringify(delta)}`);
  const u = res.usage;
  console.log(`${r === 0 ? "warm-up" : `run ${r}`}: prompt ${u.promptTokens} tokens, prefill ${u.prefillTokensPerSecond.toFixed(1)} tok/s, ` +
    `${u.completionTokens} tokens, decode ${u.decodeTokensPerSecond.toFixed(1)} tok/s; first ids ${res.tokens.slice(0, 8).join(",")}`);
}
process.exit(0);
