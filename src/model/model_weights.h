#pragma once
// Views of a model's weight tensors inside the mapped GGUF file; shapes are checked against the config
// at load so the forward pass never indexes out of bounds.
#include <string>
#include <vector>

#include "backend/cpu/kernels.h"
#include "model/model_config.h"

namespace hearth {

class GgufFile;

// A 1-D parameter converted to f32 once at load (norm weights, biases: tiny).
using Vector = std::vector<float>;

struct LayerWeights {
  Vector attn_norm;
  cpu::WeightMatrix wq, wk, wv;   // separate projections
  cpu::WeightMatrix wqkv;         // fused (phi3)
  Vector bq, bk, bv;              // optional biases (qwen2)
  Vector q_norm, k_norm;          // optional per-head norms (qwen3, gemma3)
  cpu::WeightMatrix wo;
  Vector post_attn_norm;          // gemma2/3
  Vector ffn_norm;
  cpu::WeightMatrix w_gate, w_up, w_down;  // w_up holds gate+up when fused
  Vector post_ffn_norm;           // gemma2/3
};

struct ModelWeights {
  cpu::WeightMatrix token_embd;
  Vector output_norm;
  cpu::WeightMatrix output;       // equals token_embd when the embeddings are tied
  Vector rope_freqs;              // optional llama3-style per-pair divisors
  std::vector<LayerWeights> layers;
  uint64_t total_bytes = 0;

  // Fills config.n_vocab when the metadata omitted it.
  static ModelWeights load(const GgufFile& file, ModelConfig& config);
};

}  // namespace hearth
