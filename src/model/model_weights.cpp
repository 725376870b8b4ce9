#include "model/model_weights.h"

#include <fmt/format.h>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

class TensorLoader {
 public:
  TensorLoader(const GgufFile& f, uint64_t& total) : f_(f), total_(total) {}

  const GgufTensorInfo* find(const std::string& name) const { return f_.find_tensor(name); }

  // A 2-D weight of logical shape [rows][cols] (ggml dims {cols, rows}).
  cpu::WeightMatrix matrix(const std::string& name, int64_t cols, int64_t rows, bool optional = false) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return {};
      throw Error(fmt::format("tensor {} is missing", name));
    }
    uint64_t r = t->dims.size() > 1 ? t->dims[1] : 1;
    bool extra_dims = false;
    for (size_t i = 2; i < t->dims.size(); i++) extra_dims |= t->dims[i] != 1;
    if (t->dims[0] != uint64_t(cols) || r != uint64_t(rows) || extra_dims)
      throw Error(fmt::format("tensor {}: shape {} does not match the expected [{}, {}]", name, shape(*t), cols, rows));
    check_type(*t);
    total_ += t->n_bytes();
    return cpu::WeightMatrix{f_.tensor_data(*t).data(), t->type, rows, cols};
  }

  Vector vector(const std::string& name, int64_t n, bool optional = false) {
    const GgufTensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return {};
      throw Error(fmt::format("tensor {} is missing", name));
    }
    if (t->n_elements() != uint64_t(n))
      throw Error(fmt::format("tensor {}: shape {} does not match the expected [{}]", name, shape(*t), n));
    check_type(*t);
    total_ += t->n_bytes();
    Vector v(static_cast<size_t>(n));
    cpu::dequantize_row(t->type, f_.tensor_data(*t).data(), v.data(), n);
    return v;
  }

 private:
  static std::string shape(const GgufTensorInfo& t) {
    std::string s = "[";
    for (size_t i = 0; i < t.dims.size(); i++) s += (i ? ", " : "") + std::to_string(t.dims[i]);
    return s + "]";
  }
  static void check_type(const GgufTensorInfo& t) {
    switch (t.type) {
      case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q4_0:
      case TensorType::Q8_0: case TensorType::Q4_K: case TensorType::Q5_K: case TensorType::Q6_K:
        return;
      default:
        throw Error(fmt::format("tensor {}: type {} is not supported by the CPU backend", t.name,
                                tensor_type_name(t.type)));
    }
  }
  const GgufFile& f_;
  uint64_t& total_;
};

}  // namespace

ModelWeights ModelWeights::load(const GgufFile& file, ModelConfig& c) {
  ModelWeights w;
  TensorLoader L(file, w.total_bytes);
  const GgufTensorInfo* embd = L.find("token_embd.weight");
  if (!embd || embd->dims.size() < 2) throw Error("tensor token_embd.weight is missing or not 2-D");
  if (c.n_vocab == 0) c.n_vocab = int64_t(embd->dims[1]);
  w.token_embd = L.matrix("token_embd.weight", c.n_embd, c.n_vocab);
  w.output_norm = L.vector("output_norm.weight", c.n_embd);
  w.output = L.matrix("output.weight", c.n_embd, c.n_vocab, /*optional=*/true);
  if (!w.output.data) w.output = w.token_embd;
  w.rope_freqs = L.vector("rope_freqs.weight", c.n_rot / 2, /*optional=*/true);

  const int64_t q = c.q_dim(), k = c.kv_dim_k(), v = c.kv_dim_v();
  for (int64_t il = 0; il < c.n_layer; il++) {
    const std::string b = fmt::format("blk.{}.", il);
    LayerWeights lw;
    lw.attn_norm = L.vector(b + "attn_norm.weight", c.n_embd);
    if (c.fused_qkv) {
      lw.wqkv = L.matrix(b + "attn_qkv.weight", c.n_embd, q + k + v);
    } else {
      lw.wq = L.matrix(b + "attn_q.weight", c.n_embd, q);
      lw.wk = L.matrix(b + "attn_k.weight", c.n_embd, k);
      lw.wv = L.matrix(b + "attn_v.weight", c.n_embd, v);
    }
    lw.bq = L.vector(b + "attn_q.bias", q, true);
    lw.bk = L.vector(b + "attn_k.bias", k, true);
    lw.bv = L.vector(b + "attn_v.bias", v, true);
    if (c.qk_norm) {
      lw.q_norm = L.vector(b + "attn_q_norm.weight", c.head_dim_k);
      lw.k_norm = L.vector(b + "attn_k_norm.weight", c.head_dim_k);
    }
    lw.wo = L.matrix(b + "attn_output.weight", q / c.head_dim_k * c.head_dim_v, c.n_embd);
    if (c.post_norms) {
      lw.post_attn_norm = L.vector(b + "post_attention_norm.weight", c.n_embd);
      lw.post_ffn_norm = L.vector(b + "post_ffw_norm.weight", c.n_embd);
    }
    lw.ffn_norm = L.vector(b + "ffn_norm.weight", c.n_embd);
    if (c.fused_gate_up) {
      lw.w_up = L.matrix(b + "ffn_up.weight", c.n_embd, 2 * c.n_ff);
    } else {
      lw.w_gate = L.matrix(b + "ffn_gate.weight", c.n_embd, c.n_ff);
      lw.w_up = L.matrix(b + "ffn_up.weight", c.n_embd, c.n_ff);
    }
    lw.w_down = L.matrix(b + "ffn_down.weight", c.n_ff, c.n_embd);
    w.layers.push_back(std::move(lw));
  }
  return w;
}

}  // namespace hearth
