#pragma once
// Everything a local endpoint runs on, loaded once: the mapped GGUF, weights, the model's tokenizer and chat
// template, a thread pool, a KV cache of n_seq sequences and a transformer sized for one tick's batch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "hearth/chat_template.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/transformer.h"

namespace hearth {

struct LocalModelOptions {
  int threads = 0;          // 0: all hardware threads
  int64_t ctx = 0;          // per sequence; 0: min(trained context, 4096)
  int n_seq = 1;
  int64_t max_batch = 256;  // rows per forward pass
  bool kv_f32 = false;
};

struct LocalModel {
  static std::unique_ptr<LocalModel> load(const std::string& path, const LocalModelOptions& options);

  std::string path;
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;   // null when the model has none
  std::unique_ptr<cpu::ThreadPool> pool;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Transformer> transformer;

  std::vector<TokenId> tokenize_prompt(const std::string& text) const;
  // Renders the chat template and tokenizes the result (the template writes BOS itself).
  std::vector<TokenId> tokenize_chat(const nlohmann::json& messages) const;

  explicit LocalModel(GgufFile f) : file(std::move(f)) {}
};

}  // namespace hearth
