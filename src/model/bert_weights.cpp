#include "model/bert_weights.h"

#include <fmt/format.h>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

std::string shape_of(const GgufTensorInfo& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.dims.size(); i++) s += (i ? ", " : "") + std::to_string(t.dims[i]);
  return s + "]";
}

void check_type(const GgufTensorInfo& t) {
  switch (t.type) {
    case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q4_0:
    case TensorType::Q8_0: case TensorType::Q4_K: case TensorType::Q5_K: case TensorType::Q6_K:
      return;
    default:
      throw Error(fmt::format("tensor {}: type {} is not supported by the CPU backend", t.name, tensor_type_name(t.type)));
  }
}

const GgufTensorInfo& require(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (!t) throw Error(fmt::format("tensor {} is missing", name));
  check_type(*t);
  return *t;
}

// A 2-D weight of logical shape [rows][cols] (ggml dims {cols, rows}).
cpu::WeightMatrix matrix(const GgufFile& f, const std::string& name, int64_t cols, int64_t rows, uint64_t& total) {
  const GgufTensorInfo& t = require(f, name);
  const uint64_t r = t.dims.size() > 1 ? t.dims[1] : 1;
  bool extra = false;
  for (size_t i = 2; i < t.dims.size(); i++) extra |= t.dims[i] != 1;
  if (t.dims.empty() || t.dims[0] != uint64_t(cols) || r != uint64_t(rows) || extra)
    throw Error(fmt::format("tensor {}: shape {} does not match the expected [{}, {}]", name, shape_of(t), cols, rows));
  total += t.n_bytes();
  return cpu::WeightMatrix{f.tensor_data(t).data(), t.type, rows, cols};
}

// A 1-D parameter (norm weight, bias) converted to f32 once.
std::vector<float> vec(const GgufFile& f, const std::string& name, int64_t n, uint64_t& total) {
  const GgufTensorInfo& t = require(f, name);
  if (t.n_elements() != uint64_t(n))
    throw Error(fmt::format("tensor {}: shape {} does not match the expected [{}]", name, shape_of(t), n));
  total += t.n_bytes();
  std::vector<float> v(static_cast<size_t>(n));
  cpu::dequantize_row(t.type, f.tensor_data(t).data(), v.data(), n);
  return v;
}

}  // namespace

BertWeights BertWeights::load(const GgufFile& f, BertConfig& c) {
  BertWeights w;
  uint64_t& total = w.total_bytes;
  const GgufTensorInfo& embd = require(f, "token_embd.weight");
  if (embd.dims.size() < 2 || embd.dims[1] == 0 || embd.dims[1] > (uint64_t(1) << 31))
    throw Error(fmt::format("tensor token_embd.weight: shape {} is not a vocabulary table", shape_of(embd)));
  c.n_vocab = int64_t(embd.dims[1]);
  w.token_embd = matrix(f, "token_embd.weight", c.n_embd, c.n_vocab, total);
  w.position_embd = matrix(f, "position_embd.weight", c.n_embd, c.n_ctx_train, total);
  if (const GgufTensorInfo* tt = f.find_tensor("token_types.weight")) {
    const int64_t n_types = tt->dims.size() > 1 ? int64_t(tt->dims[1]) : 1;
    if (c.n_token_types != 0 && n_types != c.n_token_types)
      throw Error(fmt::format("tensor token_types.weight has {} rows, tokenizer.ggml.token_type_count says {}",
                              n_types, c.n_token_types));
    c.n_token_types = n_types;
    const cpu::WeightMatrix types = matrix(f, "token_types.weight", c.n_embd, n_types, total);
    w.token_type0.resize(size_t(c.n_embd));
    cpu::get_row(types, 0, w.token_type0.data());
  }
  w.embd_norm = vec(f, "token_embd_norm.weight", c.n_embd, total);
  w.embd_norm_b = vec(f, "token_embd_norm.bias", c.n_embd, total);

  const int64_t E = c.n_embd, F = c.n_ff;
  for (int64_t il = 0; il < c.n_layer; il++) {
    const std::string b = fmt::format("blk.{}.", il);
    BertLayerWeights L;
    L.wq = matrix(f, b + "attn_q.weight", E, E, total);
    L.wk = matrix(f, b + "attn_k.weight", E, E, total);
    L.wv = matrix(f, b + "attn_v.weight", E, E, total);
    L.bq = vec(f, b + "attn_q.bias", E, total);
    L.bk = vec(f, b + "attn_k.bias", E, total);
    L.bv = vec(f, b + "attn_v.bias", E, total);
    L.wo = matrix(f, b + "attn_output.weight", E, E, total);
    L.bo = vec(f, b + "attn_output.bias", E, total);
    L.attn_out_norm = vec(f, b + "attn_output_norm.weight", E, total);
    L.attn_out_norm_b = vec(f, b + "attn_output_norm.bias", E, total);
    L.ffn_up = matrix(f, b + "ffn_up.weight", E, F, total);
    L.ffn_up_b = vec(f, b + "ffn_up.bias", F, total);
    L.ffn_down = matrix(f, b + "ffn_down.weight", F, E, total);
    L.ffn_down_b = vec(f, b + "ffn_down.bias", E, total);
    L.layer_out_norm = vec(f, b + "layer_output_norm.weight", E, total);
    L.layer_out_norm_b = vec(f, b + "layer_output_norm.bias", E, total);
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace hearth
