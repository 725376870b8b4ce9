// hearth WASM (CPU) vs @wllama/wllama (llama.cpp in WASM) in the same headless Chromium, same GGUF, same
// prompt: prefill and decode tok/s and their ratio. Printed, not a test.
//   node bench/wasm_vs_wllama.mjs [--model tests/data/fixtures/models/llama-spm-q8_0.gguf] [--prompt-tokens 128]
//        [--decode 64] [--artifact threads|single] [--reps 2]
// Needs web/dist (scripts/build_wasm.sh) and web/node_modules (cd web && npm install).
import { existsSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { startServer, repoRoot, webRoot } from "../web/tests/static_server.mjs";

const require = createRequire(path.join(webRoot, "package.json"));
const { chromium } = require("playwright-core");

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const model = path.resolve(repoRoot, args.model || "tests/data/fixtures/models/llama-spm-q8_0.gguf");
const promptTokens = Number(args["prompt-tokens"] || 128);
const decode = Number(args.decode || 64);
const artifact = args.artifact || "threads";
const reps = Number(args.reps || 2);
if (!existsSync(model)) throw new Error(`${model} not found`);

const server = await startServer({ fixtureDir: path.dirname(model) });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
const page = await browser.newPage();
page.on("pageerror", (e) => console.error("page error:", e.message));
await page.goto(`${server.url}/demo/`);   // any same-origin page: the demo's module graph is not used here
const modelUrl = `/fixtures/${path.basename(model)}`;
// One prompt for both: a repeated word, cut to promptTokens by hearth's own tokenizer.
const result = await page.evaluate(async ({ modelUrl, promptTokens, decode, artifact, reps }) => {
  const { Hearth } = await import("/src/index.js");
  const h = await Hearth.create({ artifact });
  await h.loadModel({ url: modelUrl });
  const ids = (await h.tokenize(" hello".repeat(promptTokens))).slice(0, promptTokens);
  const text = " hello".repeat(promptTokens - 1);
  const hearth = [];
  for (let r = 0; r < reps; r++) {
    await h.reset();
    const run = h.query({ promptTokens: ids, maxTokens: decode, temperature: 0, ignoreEos: true });
    for await (const _ of run) { /* drain */ }
    const u = (await run.result).usage;
    hearth.push({ prefill: u.prefillTokensPerSecond, decode: u.decodeTokensPerSecond, threads: h.runtime.threads });
  }
  h.terminate();

  const { Wllama } = await import("/node_modules/@wllama/wllama/esm/index.js");
  const w = new Wllama({ default: "/node_modules/@wllama/wllama/esm/wasm/wllama.wasm" }, { suppressNativeLog: true });
  const threads = artifact === "threads" ? Math.min(navigator.hardwareConcurrency, 16) : 1;
  await w.loadModelFromUrl(location.origin + modelUrl, { n_threads: threads, n_ctx: 1024, n_gpu_layers: 0, useCache: false });
  const wllama = [];
  for (let r = 0; r < reps; r++) {
    const res = await w.createCompletion({ prompt: text, max_tokens: decode, temperature: 0, ignore_eos: true, cache_prompt: false });
    const t = res.timings || {};
    wllama.push({ prefill: t.prompt_per_second, decode: t.predicted_per_second, promptN: t.prompt_n, predictedN: t.predicted_n, threads });
  }
  return { hearth, wllama };
}, { modelUrl, promptTokens, decode, artifact, reps });

const best = (xs, k) => Math.max(...xs.map((x) => x[k] || 0));
const h = { prefill: best(result.hearth, "prefill"), decode: best(result.hearth, "decode") };
const w = { prefill: best(result.wllama, "prefill"), decode: best(result.wllama, "decode") };
console.log(`model ${path.basename(model)} · ${promptTokens}-token prompt · ${decode} decoded tokens · ${artifact} (${result.hearth[0].threads} threads) · best of ${reps}`);
console.log("| engine | prefill tok/s | decode tok/s |\n|---|---|---|");
console.log(`| hearth WASM | ${h.prefill.toFixed(1)} | ${h.decode.toFixed(1)} |`);
console.log(`| wllama ${"3.8.1"} | ${w.prefill.toFixed(1)} | ${w.decode.toFixed(1)} |`);
console.log(`| ratio hearth / wllama | ${(h.prefill / w.prefill).toFixed(2)}x | ${(h.decode / w.decode).toFixed(2)}x |`);
console.log("raw:", JSON.stringify(result));
await browser.close();
await server.close();
