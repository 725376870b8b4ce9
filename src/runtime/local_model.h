#pragma once
// Everything a local endpoint runs on, loaded once: the mapped GGUF, weights, the model's tokenizer and chat
// template, and on the CPU (a thread pool, a KV cache, a transformer) or on WebGPU (a device and a transformer
// holding its KV cache on the GPU): n_seq sequences, a forward pass sized for one tick's batch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/thread_pool.h"
#include "backend/webgpu/device.h"
#include "backend/webgpu/gpu_kv_cache.h"
#include "backend/webgpu/webgpu_transformer.h"
#include "hearth/backend.h"
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
  Backend backend = Backend::Cpu;
};

struct LocalModel {
  static std::unique_ptr<LocalModel> load(const std::string& path, const LocalModelOptions& options);

  std::string path;
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;   // null when the model has none
  std::unique_ptr<cpu::ThreadPool> pool;   // also used on WebGPU: embeddings and sampling stay on the host
  // The CPU backend.
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Transformer> transformer;
  // The WebGPU backend (declared in destruction order: the device outlives what it made).
  std::unique_ptr<webgpu::Device> gpu;
  std::unique_ptr<webgpu::WebGpuTransformer> gpu_transformer;
  std::unique_ptr<webgpu::GpuKvCache> gpu_cache;
  std::string backend_name;   // "cpu" or "webgpu"
  std::string backend_note;   // why auto chose the CPU, when it did

  KvStore& kv() { return gpu_cache ? static_cast<KvStore&>(*gpu_cache) : *cache; }
  const KvStore& kv() const { return gpu_cache ? static_cast<const KvStore&>(*gpu_cache) : *cache; }
  // n_vocab logits for each batch row with logits set, in batch order.
  void forward(const BatchToken* batch, int64_t n, float* logits) {
    if (gpu_transformer) gpu_transformer->forward(batch, n, logits);
    else transformer->forward(batch, n, *cache, logits);
  }

  std::vector<TokenId> tokenize_prompt(const std::string& text) const;
  // Renders the chat template and tokenizes the result (the template writes BOS itself).
  std::vector<TokenId> tokenize_chat(const nlohmann::json& messages) const;

  explicit LocalModel(GgufFile f) : file(std::move(f)) {}
};

}  // namespace hearth
