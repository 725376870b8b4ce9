// Records llama.cpp's embeddings (node-llama-cpp 3.22.1, CPU) for the embedding fixtures in
// tests/data/fixtures/embedding/ into tests/data/embedding/<fixture>.json: per input text, the tokens llama.cpp
// embedded and the raw (not normalized) pooled vector llama_get_embeddings_seq returns.
//   node tools/reference/record_embeddings.mjs [fixture-name ...]
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadModel } from "./llama_reference.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "tests/data/fixtures/embedding");
const outDir = join(root, "tests/data/embedding");
mkdirSync(outDir, { recursive: true });

// Fixtures written by scripts/make_fixtures.sh with a pooling type; contextSize bounds the longest input.
export const EMBEDDING_FIXTURES = [
  { name: "bert-wpm-f16", contextSize: 512 },
  { name: "bert-wpm-q8_0-cls", contextSize: 512 },
  { name: "qwen3-bpe-embed-q8_0", contextSize: 1024 },
  { name: "qwen3-bpe-embed-f16-mean", contextSize: 1024 },
];

const sentences = (n) => Array.from({ length: n }, (_, i) =>
  `Sentence ${i + 1} says that embeddings map text to vectors, and similar texts land close together.`).join(" ");
export const TEXTS = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog.",
  "What is the capital of France? Paris is the capital and most populous city of France.",
  "café naïve résumé Ångström — UNICODE accents and CASE",
  "日本語のテキストと中文混合 with English words",
  "def embed(texts):\n    return [model(t) for t in texts]  # code, punctuation & symbols!",
  "a",
  sentences(18),   // ~400 tokens: most of a BERT context
  sentences(40),   // ~750 tokens: longer than one 512-token batch of a decoder (skipped where it does not fit)
];

// The tokens llama.cpp embeds: the text without special-token parsing, then what llama_tokenize adds with
// add_special: CLS/SEP for WordPiece, BOS/EOS as tokenizer.ggml.add_bos_token/add_eos_token say.
// (node-llama-cpp's own helper appends EOS only when the vocabulary also has a BOS token, which
// Qwen3-Embedding's has not; llama.cpp's tokenizer and llama-server append it, so the tokens are passed here.)
function embeddingTokens(model, text) {
  const toks = [...model.tokenize(text, false)];
  const t = model.tokens;
  const wpm = model.vocabularyType === "wpm";
  const addEos = model.fileInfo.metadata?.tokenizer?.ggml?.add_eos_token === true;
  const begin = wpm ? t.bos : (t.shouldPrependBosToken ? t.bos : null);
  const end = wpm ? t.sep : (addEos ? t.eos : null);
  if (begin != null && toks[0] !== begin) toks.unshift(begin);
  if (end != null && toks.at(-1) !== end) toks.push(end);
  return toks;
}

const only = process.argv.slice(2);
for (const fx of EMBEDDING_FIXTURES) {
  if (only.length && !only.includes(fx.name)) continue;
  const path = join(fixtures, `${fx.name}.gguf`);
  if (!existsSync(path)) { console.log(`${fx.name}: fixture missing, run scripts/make_fixtures.sh`); continue; }
  const sha256 = createHash("sha256").update(readFileSync(path)).digest("hex");
  // `embedding`: the classic attention path hearth mirrors (f16 KV cache, no flash attention), as
  // record_generation.mjs uses. `embedding_flash_attention`: node-llama-cpp's default ("auto", which turns
  // flash attention on for the CPU), a second reference that differs from the first by rounding only.
  const vectors = {};
  for (const flash of [false, "auto"]) {
    const model = await loadModel(path, { defaultContextFlashAttention: flash });
    const ctx = await model.createEmbeddingContext({ contextSize: fx.contextSize, batchSize: fx.contextSize, threads: 2 });
    vectors[flash] = [];
    for (const text of TEXTS) {
      const tokens = embeddingTokens(model, text);
      if (tokens.length >= fx.contextSize) continue;
      const embedding = await ctx.getEmbeddingFor(tokens);
      vectors[flash].push({ text, tokens: tokens.map(Number), embedding: [...embedding.vector] });
    }
    await ctx.dispose();
    await model.dispose();
  }
  const cases = vectors[false].map((c, i) => ({ ...c, embedding_flash_attention: vectors["auto"][i].embedding }));
  const record = {
    fixture: `${fx.name}.gguf`, sha256,
    reference: "llama.cpp via node-llama-cpp 3.22.1 (CPU, createEmbeddingContext, raw pooled vector; f16 KV, no flash attention, and flash attention auto)",
    cases,
  };
  writeFileSync(join(outDir, `${fx.name}.json`), JSON.stringify(record) + "\n");
  console.log(`${fx.name}: ${cases.length} inputs, ${cases.map((c) => c.tokens.length).join("/")} tokens`);
}
process.exit(0);
