// Shared helpers for recording llama.cpp (node-llama-cpp, prebuilt, CPU) outputs as test references.
import { getLlama } from "node-llama-cpp";

let llamaPromise = null;
export function llama() {
  // CPU only, no source build; 2 threads (the default oversubscribes this machine's 2 cores).
  llamaPromise ??= getLlama({ gpu: false, build: "never", maxThreads: 2, logLevel: "error" });
  return llamaPromise;
}

export async function loadModel(path, options = {}) {
  const l = await llama();
  return l.loadModel({ modelPath: path, gpuLayers: 0, ...options });
}

// Prompt tokens exactly as llama.cpp's common tokenize: BOS when the vocabulary asks for it, special
// token texts parsed.
export function promptTokens(model, text) {
  const toks = model.tokenize(text, true);
  if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) return [model.tokens.bos, ...toks];
  return toks;
}
