#include "model/model_config.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> archs = {"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "phi3"};
  return archs;
}

bool ModelConfig::layer_uses_swa(int64_t il) const {
  if (sliding_window <= 0) return false;
  if (swa_pattern <= 0) return true;
  return (il + 1) % swa_pattern != 0;
}

namespace {

int64_t required_positive(const GgufFile& f, const std::string& key) {
  const GgufValue& v = f.get(key);
  int64_t x = v.as_i64();
  if (x <= 0 || x > (int64_t(1) << 32)) throw Error(fmt::format("metadata {}: value {} out of range", key, x));
  return x;
}

}  // namespace

ModelConfig ModelConfig::from_gguf(const GgufFile& f) {
  ModelConfig c;
  c.arch = f.get_string("general.architecture");
  if (c.arch.empty()) throw Error("metadata general.architecture is missing");
  const auto& archs = supported_architectures();
  if (std::find(archs.begin(), archs.end(), c.arch) == archs.end()) {
    std::string list;
    for (auto& a : archs) list += (list.empty() ? "" : ", ") + a;
    throw Error(fmt::format("architecture '{}' is not supported (supported: {})", c.arch, list));
  }
  c.name = f.get_string("general.name", c.arch);
  const std::string p = c.arch + ".";

  c.n_embd = required_positive(f, p + "embedding_length");
  c.n_layer = required_positive(f, p + "block_count");
  c.n_head = required_positive(f, p + "attention.head_count");
  c.n_head_kv = int64_t(f.get_u64(p + "attention.head_count_kv", uint64_t(c.n_head)));
  if (c.n_head_kv <= 0 || c.n_head % c.n_head_kv != 0)
    throw Error(fmt::format("attention.head_count_kv {} must divide head_count {}", c.n_head_kv, c.n_head));
  c.n_ff = required_positive(f, p + "feed_forward_length");
  c.n_ctx_train = int64_t(f.get_u64(p + "context_length", 2048));
  c.head_dim_k = int64_t(f.get_u64(p + "attention.key_length", uint64_t(c.n_embd / c.n_head)));
  c.head_dim_v = int64_t(f.get_u64(p + "attention.value_length", uint64_t(c.head_dim_k)));
  if (c.head_dim_k <= 0 || c.head_dim_k % 2 != 0 || c.head_dim_v <= 0)
    throw Error(fmt::format("attention head size {} must be positive and even", c.head_dim_k));
  c.norm_eps = float(f.get_f64(p + "attention.layer_norm_rms_epsilon", 1e-5));
  c.n_rot = int64_t(f.get_u64(p + "rope.dimension_count", uint64_t(c.head_dim_k)));
  if (c.n_rot <= 0 || c.n_rot > c.head_dim_k || c.n_rot % 2 != 0)
    throw Error(fmt::format("rope.dimension_count {} invalid for head size {}", c.n_rot, c.head_dim_k));
  c.rope_freq_base = float(f.get_f64(p + "rope.freq_base", 10000.0));
  c.rope_freq_base_swa = c.rope_freq_base;

  std::string scaling = f.get_string(p + "rope.scaling.type", "none");
  double factor = f.get_f64(p + "rope.scaling.factor", 0.0);
  if (scaling == "linear" && factor > 0) c.rope_freq_scale = float(1.0 / factor);
  else if (scaling != "none" && scaling != "linear" && !scaling.empty())
    throw Error(fmt::format("rope scaling type '{}' is not supported yet", scaling));

  c.n_vocab = int64_t(f.get_u64(p + "vocab_size", 0));  // filled from the embedding tensor if absent

  // Family-specific switches, as llama.cpp's model loader sets them.
  if (c.arch == "qwen2" || c.arch == "qwen3" || c.arch == "phi3" || c.arch.rfind("gemma", 0) == 0)
    c.rope_mode = RopeMode::Neox;
  if (c.arch == "qwen3") c.qk_norm = true;
  if (c.arch == "gemma2" || c.arch == "gemma3" || c.arch == "phi3") c.prescale_q = true;
  if (c.arch == "phi3") {
    c.fused_qkv = true;
    c.fused_gate_up = true;
  }
  if (c.arch.rfind("gemma", 0) == 0) {
    c.ffn_act = FfnActivation::GeluGated;
    c.embed_scale_sqrt = true;
  }
  if (c.arch == "gemma2" || c.arch == "gemma3") c.post_norms = true;
  if (c.arch == "gemma2") {
    c.attn_logit_softcap = float(f.get_f64(p + "attn_logit_softcapping", 50.0));
    c.final_logit_softcap = float(f.get_f64(p + "final_logit_softcapping", 30.0));
    c.sliding_window = int64_t(f.get_u64(p + "attention.sliding_window", 4096));
    c.swa_pattern = 2;
  }
  if (c.arch == "gemma3") {
    c.qk_norm = true;
    c.sliding_window = int64_t(f.get_u64(p + "attention.sliding_window", 0));
    c.swa_pattern = 6;
    c.rope_freq_base_swa = 10000.0f;
    c.rope_freq_scale_swa = 1.0f;
  } else {
    c.rope_freq_scale_swa = c.rope_freq_scale;
  }
  if (c.arch == "phi3") {
    c.sliding_window = int64_t(f.get_u64(p + "attention.sliding_window", 0));
    c.swa_pattern = 0;
  }
  return c;
}

}  // namespace hearth
