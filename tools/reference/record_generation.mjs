// Records llama.cpp's greedy continuations (and next-token probabilities after each prompt) for every fixture
// model in tests/data/fixtures/models/, into tests/data/model/<fixture>.json.
//   node tools/reference/record_generation.mjs [fixture-name ...]
// The fixture's sha256 is stored so a test can tell when the fixture no longer matches its reference.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel, promptTokens } from "./llama_reference.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "tests/data/fixtures/models");
const outDir = join(root, "tests/data/model");
mkdirSync(outDir, { recursive: true });

export const PROMPTS = [
  "The capital of France is",
  "def fibonacci(n):\n    if n < 2:\n        return n\n",
  "Once upon a time, in a village by the sea, there lived an old fisherman who",
];
const N_GEN = 32;
const TOP = 256;

const only = process.argv.slice(2);
const files = readdirSync(fixtures).filter((f) => f.endsWith(".gguf")).sort();
for (const file of files) {
  const name = basename(file, ".gguf");
  if (only.length && !only.includes(name)) continue;
  const path = join(fixtures, file);
  const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
  const model = await loadModel(path);
  const cases = [];
  for (const prompt of PROMPTS) {
    const tokens = promptTokens(model, prompt);
    // Greedy continuation, f16 KV cache, no flash attention (the classic path hearth mirrors).
    const ctx = await model.createContext({ contextSize: 512, batchSize: 512, threads: 2, flashAttention: false, sequences: 1 });
    const seq = ctx.getSequence();
    const generated = [];
    for await (const t of seq.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
      generated.push(t);
      if (generated.length >= N_GEN || model.isEogToken(t)) break;
    }
    await ctx.dispose();
    // The full next-token distribution after the prompt (temperature 1, no truncation): top TOP tokens.
    const ctx2 = await model.createContext({ contextSize: 512, batchSize: 512, threads: 2, flashAttention: false, sequences: 1 });
    const seq2 = ctx2.getSequence();
    let top = [];
    for await (const out of seq2.evaluateWithMetadata(tokens, { probabilities: true },
        { temperature: 1, topK: 0, topP: 1, minP: 0 })) {
      for (const [id, p] of out.probabilities) {
        if (top.length >= TOP || p <= 0) break;
        top.push([id, Math.log(p)]);
      }
      break;
    }
    await ctx2.dispose();
    cases.push({ prompt, prompt_tokens: tokens, greedy_tokens: generated, top_logprobs: top });
  }
  await model.dispose();
  const record = { fixture: file, sha256, reference: "llama.cpp via node-llama-cpp 3.22.1 (CPU, f16 KV, no flash attention)", cases };
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(record) + "\n");
  console.log(`${name}: ${cases.map((c) => c.greedy_tokens.length).join("/")} tokens recorded`);
}
process.exit(0);
