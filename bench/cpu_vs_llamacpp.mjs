// bench/cpu_vs_llamacpp: hearth vs llama.cpp (node-llama-cpp, prebuilt CPU build) on the same GGUF, same
// thread count: prefill (512 tokens) and decode (128 tokens) tok/s and their ratios, for Q4_K and Q8_0.
//   node bench/cpu_vs_llamacpp.mjs [--threads 2] [--shape small|tinyllama] [--reps 2]
// Models are written by hearth-fixture (Llama architecture, Llama 2 vocabulary, random weights) into
// build/bench-models/ on first use.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "tools/reference/package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const threads = Number(arg("threads", 2));
const shape = arg("shape", "small");
const reps = Number(arg("reps", 2));
const PREFILL = 512, DECODE = 128;
const shapes = {
  small: ["--embd", "1024", "--layers", "16", "--heads", "16", "--kv-heads", "4", "--ff", "2816"],
  tinyllama: ["--embd", "2048", "--layers", "22", "--heads", "32", "--kv-heads", "4", "--ff", "5632"],
};
const bin = join(root, "build/release/bin");
const modelsDir = join(root, "build/bench-models");
mkdirSync(modelsDir, { recursive: true });

function benchModel(weights) {
  const path = join(modelsDir, `${shape}-${weights}.gguf`);
  if (!existsSync(path)) {
    console.error(`writing ${path} ...`);
    execFileSync(join(bin, "hearth-fixture"), ["--arch", "llama", "--name", `bench ${shape}`, ...shapes[shape],
      "--spm-model", join(root, "../shared/tokenizers/llama2/tokenizer.model"), "--weights", weights, "--seed", "7",
      "--ctx", "4096", "-o", path], { stdio: "inherit" });
  }
  return path;
}

function promptTokens(nVocab) {
  const out = [];
  let s = 12345;
  const span = Math.min(nVocab, 30000) - 100;
  for (let i = 0; i < PREFILL; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(100 + ((s >>> 8) % span));
  }
  return out;
}

async function llamaCpp(path) {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: "error" });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const tokens = promptTokens(model.tokens.nTokens ?? 32000);
  let bestPrefill = 0, bestDecode = 0;
  for (let r = 0; r < reps; r++) {
    const ctx = await model.createContext({ contextSize: PREFILL + DECODE + 16, batchSize: 512, threads, sequences: 1 });
    const seq = ctx.getSequence();
    let t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, PREFILL - 1));
    const prefillS = (performance.now() - t0) / 1000;
    let n = 0;
    let t1 = 0;
    for await (const _ of seq.evaluate([tokens[PREFILL - 1]], { temperature: 0 })) {
      if (n === 0) t1 = performance.now();  // first token includes the last prompt token; decode starts after
      if (++n >= DECODE) break;
    }
    const decodeS = (performance.now() - t1) / 1000;
    bestPrefill = Math.max(bestPrefill, (PREFILL - 1) / prefillS);
    bestDecode = Math.max(bestDecode, (n - 1) / decodeS);
    await ctx.dispose();
  }
  await model.dispose();
  return { prefill_tps: bestPrefill, decode_tps: bestDecode };
}

function hearth(path) {
  const out = execFileSync(join(bin, "hearth-generate-bench"), ["-m", path, "-t", String(threads),
    "--prefill", String(PREFILL), "--decode", String(DECODE), "--reps", String(reps)]);
  return JSON.parse(out.toString());
}

const rows = [];
for (const weights of ["Q4_K_M", "Q8_0"]) {
  const path = benchModel(weights);
  const h = hearth(path);
  const l = await llamaCpp(path);
  rows.push({ weights, h, l });
}
console.log(`\nhearth vs llama.cpp (node-llama-cpp 3.22.1), shape ${shape}, ${threads} threads, prefill ${PREFILL}, decode ${DECODE}, best of ${reps}`);
console.log("| weights | test | hearth tok/s | llama.cpp tok/s | ratio |");
console.log("|---|---|---|---|---|");
for (const { weights, h, l } of rows) {
  console.log(`| ${weights} | prefill ${PREFILL} | ${h.prefill_tps.toFixed(1)} | ${l.prefill_tps.toFixed(1)} | ${(h.prefill_tps / l.prefill_tps).toFixed(2)}x |`);
  console.log(`| ${weights} | decode ${DECODE} | ${h.decode_tps.toFixed(1)} | ${l.decode_tps.toFixed(1)} | ${(h.decode_tps / l.decode_tps).toFixed(2)}x |`);
}
process.exit(0);
