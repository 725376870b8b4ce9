#pragma once
// Hyperparameters of a decoder-only transformer, read from GGUF metadata (`{arch}.*` keys).
#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

class GgufFile;

enum class RopeMode { Normal = 0, Neox = 2 };
enum class FfnActivation { SiluGated, GeluGated };

struct ModelConfig {
  std::string arch;          // general.architecture: llama, qwen2, qwen3, gemma3, phi3, ...
  std::string name;          // general.name
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;    // per-head key/query size
  int64_t head_dim_v = 0;    // per-head value size
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  float norm_eps = 1e-5f;

  // Rotary embedding.
  RopeMode rope_mode = RopeMode::Normal;
  int64_t n_rot = 0;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;        // 1 / linear scaling factor
  float rope_freq_base_swa = 10000.0f; // sliding-window layers (gemma3)
  float rope_freq_scale_swa = 1.0f;

  // Architecture switches; the forward pass reads these instead of the architecture name.
  FfnActivation ffn_act = FfnActivation::SiluGated;
  bool embed_scale_sqrt = false;       // gemma: token embeddings scaled by sqrt(n_embd)
  bool qk_norm = false;                // qwen3, gemma3: RMSNorm per head on q and k
  bool post_norms = false;             // gemma2/3: norms after attention and ffn outputs
  bool fused_qkv = false;              // phi3: one attn_qkv tensor
  bool fused_gate_up = false;          // phi3: ffn_up holds gate then up
  float attn_scale = 0.0f;             // 0 = 1/sqrt(head_dim_k)
  bool prescale_q = false;             // gemma3, phi3: q is scaled before attention (as llama.cpp does)
  float attn_logit_softcap = 0.0f;     // gemma2
  float final_logit_softcap = 0.0f;    // gemma2
  int64_t sliding_window = 0;          // 0 = none
  int swa_pattern = 0;                 // every swa_pattern-th layer is global (gemma3: 6)

  bool layer_uses_swa(int64_t il) const;
  int64_t q_dim() const { return n_head * head_dim_k; }
  int64_t kv_dim_k() const { return n_head_kv * head_dim_k; }
  int64_t kv_dim_v() const { return n_head_kv * head_dim_v; }

  static ModelConfig from_gguf(const GgufFile& file);
};

// Architectures the CPU transformer implements.
const std::vector<std::string>& supported_architectures();

}  // namespace hearth
