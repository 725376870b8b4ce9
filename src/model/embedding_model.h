#pragma once
// Text embeddings from a GGUF model: a BERT-family encoder (arch "bert": all-MiniLM, bge, e5 style) or a
// decoder whose final-norm hidden states are pooled (Qwen3-Embedding style). Pooling is what the file
// declares in `{arch}.pooling_type`, as llama.cpp reads it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hearth {

class Tokenizer;

class EmbeddingModel {
 public:
  // threads: CPU worker threads (>= 1). Throws hearth::Error for files it cannot embed with.
  static std::unique_ptr<EmbeddingModel> load(const std::string& path, int threads);
  // BERT-family architectures: embedding only, no generation.
  static bool is_encoder(const std::string& path);

  virtual ~EmbeddingModel() = default;
  virtual int64_t n_embd() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;
  // "mean" | "cls" | "last"
  virtual std::string pooling() const = 0;
  // Most tokens one input may have (special tokens included); longer inputs are an error, never cut.
  virtual int64_t max_tokens() const = 0;
  // One vector of n_embd() floats per input, L2-normalized when `normalize`. Inputs are tokenized as
  // llama.cpp does for embeddings (BOS/CLS and EOS/SEP as the vocabulary asks; special-token text is not
  // parsed). An input that tokenizes to nothing is an error. Not thread-safe: one call at a time.
  virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& inputs, bool normalize) = 0;
  // The same for already tokenized input.
  virtual std::vector<float> embed_tokens(const std::vector<int32_t>& tokens, bool normalize) = 0;
};

}  // namespace hearth
