// The peer for bench/h100/run.sh: llama.cpp through node-llama-cpp's prebuilt GPU builds on the same GGUFs,
// measured as hearth-webgpu-bench measures hearth: a 512-token prompt in one batch, then 128 greedy tokens;
// one warm-up run (shader compilation), then the best of --reps fresh contexts. One JSON object per line.
//   node bench/h100/peer_llamacpp.mjs --modules DIR/node_modules --gpu vulkan|cuda|false [--reps 3] M.gguf ...
import { createRequire } from "node:module";
import { resolve } from "node:path";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const modules = opt("modules", "tools/reference/node_modules");
const gpuArg = opt("gpu", "vulkan");
const gpu = gpuArg === "false" ? false : gpuArg;
const reps = Number(opt("reps", 3));
const threads = Number(opt("threads", 4));
const models = args;
const PREFILL = 512, DECODE = 128;

const require = createRequire(resolve(modules, "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));

// The same prompt tokens hearth-webgpu-bench uses are not needed: speed does not depend on token values
// at batch 1, only on count; ids stay in the range every vocabulary has.
function promptTokens() {
  const out = [];
  let s = 12345;
  for (let i = 0; i < PREFILL; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(1000 + ((s >>> 8) % 20000));
  }
  return out;
}

async function once(model, tokens) {
  const ctx = await model.createContext({ contextSize: PREFILL + DECODE + 16, batchSize: PREFILL, threads, sequences: 1 });
  const seq = ctx.getSequence();
  // The whole prompt but its last token in one batch; the last one yields the first generated token.
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens.slice(0, PREFILL - 1));
  const prefillS = (performance.now() - t0) / 1000;
  let n = 0, t1 = 0;
  for await (const _ of seq.evaluate([tokens[PREFILL - 1]], { temperature: 0 })) {
    if (n === 0) t1 = performance.now();
    if (++n >= DECODE) break;
  }
  const decodeS = (performance.now() - t1) / 1000;
  await ctx.dispose();
  return { prefill: (PREFILL - 1) / prefillS, decode: (n - 1) / decodeS, n };
}

const llama = await getLlama({ gpu, build: "never", logLevel: "error" });
const device = gpu ? await llama.getGpuDeviceNames().then((n) => n.join(", "), () => gpu) : "cpu";
for (const path of models) {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: gpu ? "max" : 0 });
  const tokens = promptTokens();
  const warm = await once(model, tokens);
  let best = { prefill: 0, decode: 0 };
  for (let r = 0; r < reps; r++) {
    const m = await once(model, tokens);
    best = { prefill: Math.max(best.prefill, m.prefill), decode: Math.max(best.decode, m.decode) };
  }
  console.log(JSON.stringify({
    bench: "peer", engine: `llama.cpp ${gpu || "cpu"} (node-llama-cpp prebuilt)`, device, model: path,
    prefill_tokens: PREFILL, prefill_tps: +best.prefill.toFixed(1), decode_tokens: DECODE,
    decode_tps: +best.decode.toFixed(1), first_run_decode_tps: +warm.decode.toFixed(1),
  }));
  await model.dispose();
}
process.exit(0);
