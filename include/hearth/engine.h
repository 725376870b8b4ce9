#pragma once
// A loaded model ready to generate on the CPU: weights mapped from the GGUF file, the model's own
// tokenizer and chat template, and one KV-cached session that reuses the longest common prefix between
// calls (so a chat turn only computes the new tokens).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/backend.h"
#include "hearth/sampling.h"
#include "hearth/tokenizer.h"

namespace hearth {

struct EngineOptions {
  Backend backend = Backend::Cpu;
  int threads = 0;           // 0: all hardware threads
  int64_t ctx = 0;           // context length; 0: min(the model's trained context, 4096)
  int64_t batch = 256;       // most tokens per forward pass during prefill
  bool kv_f32 = false;       // f16 KV cache (default, as llama.cpp) or f32
  // Called while the weights are paged in, with the fraction done (0..1).
  std::function<void(double)> on_progress;
};

struct ModelInfo {
  std::string path;
  std::string arch;
  std::string name;
  uint64_t n_params = 0;
  uint64_t weight_bytes = 0;
  int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0;
  int64_t n_ctx_train = 0;
  int64_t n_ctx = 0;          // the context this engine was opened with
  int threads = 0;
  std::string simd;
  std::string backend;        // "cpu" or "webgpu"
  std::string gpu;            // the WebGPU adapter's description (empty on the CPU)
  std::string backend_note;   // why auto chose the CPU, when it did
  std::string chat_template;  // empty when the model has none
};

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;   // generation ends before the first occurrence of any of these
  bool ignore_eos = false;
};

struct GenerateResult {
  std::vector<TokenId> tokens;     // generated tokens (stop strings' tokens included, EOS excluded)
  std::string text;                // generated text, cut before a stop string
  std::string finish_reason;       // "stop" (EOS or stop string), "length", "cancelled"
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;       // prompt tokens reused from the KV cache
  double prefill_seconds = 0, decode_seconds = 0;
  double prefill_tps() const { return prefill_seconds > 0 ? double(prompt_tokens - cached_tokens) / prefill_seconds : 0; }
  double decode_tps() const {
    return decode_seconds > 0 && tokens.size() > 1 ? double(tokens.size() - 1) / decode_seconds : 0;
  }
};

// Receives each piece of text as it becomes final; return false to stop generating.
using TextCallback = std::function<bool(const std::string& piece)>;

class Engine {
 public:
  static std::unique_ptr<Engine> load(const std::string& path, const EngineOptions& options = {});
  ~Engine();

  const ModelInfo& info() const;
  const Tokenizer& tokenizer() const;

  // Renders the model's chat template; throws when the model has none.
  std::string apply_chat_template(const nlohmann::json& messages, bool add_generation_prompt = true) const;
  // Tokenizes as for a prompt: BOS per the vocabulary's flag, special tokens parsed.
  std::vector<TokenId> tokenize_prompt(const std::string& text) const;

  GenerateResult generate(const std::vector<TokenId>& prompt, const GenerateOptions& options,
                          const TextCallback& on_text = {});
  // Runs the prompt and returns the logits after its last token (for checks against references).
  std::vector<float> evaluate(const std::vector<TokenId>& prompt);
  // Forgets the cached context.
  void reset();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth
