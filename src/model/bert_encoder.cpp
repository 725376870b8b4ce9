#include "model/bert_encoder.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "backend/cpu/thread_pool.h"
#include "hearth/error.h"

namespace hearth {

BertEncoder::BertEncoder(const BertConfig& c, const BertWeights& w, cpu::ThreadPool& pool, int64_t max_tokens)
    : c_(c), w_(w), pool_(pool), max_tokens_(std::min(max_tokens, c.n_ctx_train)) {
  if (max_tokens_ <= 0) throw Error("BERT encoder: the context must hold at least one token");
  const size_t T = size_t(max_tokens_), E = size_t(c.n_embd);
  x_.resize(T * E);
  q_.resize(T * E);
  k_.resize(T * E);
  v_.resize(T * E);
  attn_.resize(T * E);
  tmp_.resize(T * E);
  ffn_.resize(T * size_t(c.n_ff));
  scores_.resize(size_t(pool.size()) * T);
  input_begin_.resize(T);
  input_end_.resize(T);
}

void BertEncoder::matmul_bias(const cpu::WeightMatrix& w, const std::vector<float>& b, const float* x, int64_t n,
                              float* y) {
  cpu::matmul(w, x, n, y, w.rows, pool_, mm_scratch_);
  // One captured pointer keeps the closure inside std::function's inline buffer: no allocation per call.
  struct Rows { float* y; const float* b; int64_t len; } rows{y, b.data(), w.rows};
  pool_.parallel_for(n, [&rows](int64_t a, int64_t z) {
    for (int64_t t = a; t < z; t++) cpu::add(rows.y + t * rows.len, rows.b, rows.y + t * rows.len, rows.len);
  });
}

const float* BertEncoder::encode(const int32_t* tokens, int64_t n) {
  const int64_t bounds[2] = {0, n};
  return encode_packed(tokens, bounds, 1);
}

const float* BertEncoder::encode_packed(const int32_t* tokens, const int64_t* bounds, int64_t n_inputs) {
  if (n_inputs <= 0 || bounds[0] != 0) throw Error("BERT encoder: no inputs");
  const int64_t n = bounds[n_inputs];
  if (n > max_tokens_)
    throw Error(fmt::format("{} tokens are more than the encoder's context of {} tokens", n, max_tokens_));
  for (int64_t s = 0; s < n_inputs; s++)
    if (bounds[s + 1] <= bounds[s] || bounds[s + 1] > n)
      throw Error(fmt::format("BERT encoder: input {} has no tokens or lies outside the batch", s));
  for (int64_t s = 0; s < n_inputs; s++) {
    for (int64_t t = bounds[s]; t < bounds[s + 1]; t++) {
      input_begin_[size_t(t)] = bounds[s];
      input_end_[size_t(t)] = bounds[s + 1];
    }
  }
  for (int64_t t = 0; t < n; t++)
    if (tokens[t] < 0 || tokens[t] >= c_.n_vocab)
      throw Error(fmt::format("token id {} is outside the vocabulary (0..{})", tokens[t], c_.n_vocab - 1));
  const int64_t E = c_.n_embd;
  const float eps = c_.norm_eps;
  auto for_tokens = [&](auto&& fn) {
    pool_.parallel_for(n, [&](int64_t a, int64_t z) { for (int64_t t = a; t < z; t++) fn(t); });
  };

  // Embeddings: token + segment A + position (llama.cpp's order of additions), then LayerNorm.
  for_tokens([&](int64_t t) {
    float* x = &x_[size_t(t * E)];
    float* row = &tmp_[size_t(t * E)];
    cpu::get_row(w_.token_embd, tokens[t], x);
    if (!w_.token_type0.empty()) cpu::add(x, w_.token_type0.data(), x, E);
    cpu::get_row(w_.position_embd, t - input_begin_[size_t(t)], row);
    cpu::add(row, x, x, E);
    cpu::layer_norm(x, w_.embd_norm.data(), w_.embd_norm_b.data(), x, E, eps);
  });

  for (const BertLayerWeights& L : w_.layers) {
    matmul_bias(L.wq, L.bq, x_.data(), n, q_.data());
    matmul_bias(L.wk, L.bk, x_.data(), n, k_.data());
    matmul_bias(L.wv, L.bv, x_.data(), n, v_.data());
    attention(n);
    matmul_bias(L.wo, L.bo, attn_.data(), n, tmp_.data());
    for_tokens([&](int64_t t) {
      float* x = &x_[size_t(t * E)];
      cpu::add(&tmp_[size_t(t * E)], x, x, E);
      cpu::layer_norm(x, L.attn_out_norm.data(), L.attn_out_norm_b.data(), x, E, eps);
    });

    const int64_t F = c_.n_ff;
    matmul_bias(L.ffn_up, L.ffn_up_b, x_.data(), n, ffn_.data());
    for_tokens([&](int64_t t) { cpu::gelu(&ffn_[size_t(t * F)], &ffn_[size_t(t * F)], F); });
    matmul_bias(L.ffn_down, L.ffn_down_b, ffn_.data(), n, tmp_.data());
    for_tokens([&](int64_t t) {
      float* x = &x_[size_t(t * E)];
      cpu::add(&tmp_[size_t(t * E)], x, x, E);
      cpu::layer_norm(x, L.layer_out_norm.data(), L.layer_out_norm_b.data(), x, E, eps);
    });
  }
  return x_.data();
}

// Every token attends to every token of its input (or to those before it when the model is causal), one
// (query token, head) pair per task, in f32 as llama.cpp's cache-less path computes it.
void BertEncoder::attention(int64_t n) {
  // Captures fit std::function's inline buffer (no allocation per layer).
  pool_.run([this, n](int ith, int nth) {
    const int64_t E = c_.n_embd, hd = c_.head_dim, H = c_.n_head;
    const float scale = 1.0f / std::sqrt(float(hd));
    const int64_t tasks = n * H;
    const bool causal = c_.causal;
    float* scores = &scores_[size_t(ith) * size_t(max_tokens_)];
    for (int64_t task = ith; task < tasks; task += nth) {
      const int64_t i = task / H, h = task % H;
      const float* q = &q_[size_t(i * E + h * hd)];
      const int64_t j_begin = input_begin_[size_t(i)], j_end = causal ? i + 1 : input_end_[size_t(i)];
      float mx = -INFINITY;
      for (int64_t j = j_begin; j < j_end; j++) {
        const float s = cpu::vec_dot_f32(hd, &k_[size_t(j * E + h * hd)], q) * scale;
        scores[j] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t j = j_begin; j < j_end; j++) {
        const float e = std::exp(scores[j] - mx);
        scores[j] = e;
        sum += e;
      }
      const float inv = float(1.0 / sum);
      float* out = &attn_[size_t(i * E + h * hd)];
      std::fill(out, out + hd, 0.0f);
      for (int64_t j = j_begin; j < j_end; j++) {
        const float p = scores[j] * inv;
        const float* v = &v_[size_t(j * E + h * hd)];
        for (int64_t d = 0; d < hd; d++) out[d] += p * v[d];
      }
    }
  });
}

}  // namespace hearth
