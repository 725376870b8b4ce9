#include "model/transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "backend/cpu/thread_pool.h"
#include "hearth/error.h"

namespace hearth {

using cpu::ThreadPool;

Transformer::Transformer(const ModelConfig& c, const ModelWeights& w, ThreadPool& pool, int64_t max_batch)
    : c_(c), w_(w), pool_(pool), max_batch_(max_batch) {
  const size_t B = size_t(max_batch);
  const size_t ff = size_t(c.fused_gate_up ? 2 * c.n_ff : c.n_ff);
  x_.resize(B * c.n_embd);
  xn_.resize(B * c.n_embd);
  q_.resize(B * c.q_dim());
  k_.resize(B * c.kv_dim_k());
  v_.resize(B * c.kv_dim_v());
  if (c.fused_qkv) qkv_.resize(B * (c.q_dim() + c.kv_dim_k() + c.kv_dim_v()));
  attn_.resize(B * c.n_head * c.head_dim_v);
  ffn_a_.resize(B * ff);
  ffn_b_.resize(B * c.n_ff);
  tmp_.resize(B * std::max<int64_t>(c.n_embd, c.n_vocab));
}

void Transformer::matmul(const cpu::WeightMatrix& w, const float* x, int64_t n, float* y, int64_t y_stride) {
  cpu::matmul(w, x, n, y, y_stride, pool_, mm_scratch_);
}

void Transformer::add_bias(float* y, const std::vector<float>& b, int64_t n, int64_t rows, int64_t stride) {
  if (b.empty()) return;
  for (int64_t t = 0; t < n; t++)
    for (int64_t r = 0; r < rows; r++) y[t * stride + r] += b[size_t(r)];
}

void Transformer::forward(const BatchToken* batch, int64_t n, KvCache& cache, float* logits_out) {
  if (n <= 0) return;
  run_layers(batch, n, cache);
  // Logits only for the rows that want them.
  const int64_t n_out = output_norm_rows(batch, n, xn_.data());
  if (n_out == 0) return;
  matmul(w_.output, xn_.data(), n_out, logits_out, c_.n_vocab);
  if (c_.final_logit_softcap > 0) {
    const float cap = c_.final_logit_softcap;
    for (int64_t i = 0; i < n_out * c_.n_vocab; i++) logits_out[i] = std::tanh(logits_out[i] / cap) * cap;
  }
}

void Transformer::forward_hidden(const BatchToken* batch, int64_t n, KvCache& cache, float* hidden_out) {
  if (n <= 0) return;
  run_layers(batch, n, cache);
  output_norm_rows(batch, n, hidden_out);
}

int64_t Transformer::output_norm_rows(const BatchToken* batch, int64_t n, float* out) {
  const int64_t E = c_.n_embd;
  int64_t n_out = 0;
  for (int64_t t = 0; t < n; t++) {
    if (!batch[t].logits) continue;
    cpu::rms_norm(&x_[size_t(t * E)], w_.output_norm.data(), out + n_out * E, E, c_.norm_eps);
    n_out++;
  }
  return n_out;
}

void Transformer::run_layers(const BatchToken* batch, int64_t n, KvCache& cache) {
  if (n > max_batch_) throw Error(fmt::format("batch of {} tokens exceeds the maximum {}", n, max_batch_));
  for (int64_t t = 0; t < n; t++) {
    const BatchToken& b = batch[t];
    if (b.token < 0 || b.token >= c_.n_vocab)
      throw Error(fmt::format("token id {} is outside the vocabulary (0..{})", b.token, c_.n_vocab - 1));
    if (b.pos < 0 || b.pos >= cache.n_ctx())
      throw Error(fmt::format("position {} is outside the context of {} tokens", b.pos, cache.n_ctx()));
    if (b.seq < 0 || b.seq >= cache.n_seq()) throw Error(fmt::format("sequence {} does not exist", b.seq));
  }
  const int64_t E = c_.n_embd;
  const int64_t QD = c_.q_dim(), KD = c_.kv_dim_k(), VD = c_.kv_dim_v();
  const bool many = n > 1;
  auto for_tokens = [&](auto&& fn) {
    if (many) pool_.parallel_for(n, [&](int64_t a, int64_t z) { for (int64_t t = a; t < z; t++) fn(t); });
    else fn(0);
  };

  // Embeddings.
  const float embd_scale = c_.embed_scale_sqrt ? std::sqrt(float(E)) : 1.0f;
  for_tokens([&](int64_t t) {
    float* x = &x_[size_t(t * E)];
    cpu::get_row(w_.token_embd, batch[t].token, x);
    if (embd_scale != 1.0f) for (int64_t i = 0; i < E; i++) x[i] *= embd_scale;
  });

  for (int64_t il = 0; il < c_.n_layer; il++) {
    const LayerWeights& L = w_.layers[size_t(il)];
    for_tokens([&](int64_t t) { cpu::rms_norm(&x_[size_t(t * E)], L.attn_norm.data(), &xn_[size_t(t * E)], E, c_.norm_eps); });

    // Projections.
    if (c_.fused_qkv) {
      const int64_t R = QD + KD + VD;
      matmul(L.wqkv, xn_.data(), n, qkv_.data(), R);
      for (int64_t t = 0; t < n; t++) {
        std::memcpy(&q_[size_t(t * QD)], &qkv_[size_t(t * R)], size_t(QD) * 4);
        std::memcpy(&k_[size_t(t * KD)], &qkv_[size_t(t * R + QD)], size_t(KD) * 4);
        std::memcpy(&v_[size_t(t * VD)], &qkv_[size_t(t * R + QD + KD)], size_t(VD) * 4);
      }
    } else {
      matmul(L.wq, xn_.data(), n, q_.data(), QD);
      matmul(L.wk, xn_.data(), n, k_.data(), KD);
      matmul(L.wv, xn_.data(), n, v_.data(), VD);
    }
    add_bias(q_.data(), L.bq, n, QD, QD);
    add_bias(k_.data(), L.bk, n, KD, KD);
    add_bias(v_.data(), L.bv, n, VD, VD);

    // Per-head norms, rotary embedding, then keys and values into the cache.
    const bool swa = c_.layer_uses_swa(il);
    const float base = swa ? c_.rope_freq_base_swa : c_.rope_freq_base;
    const float fscale = swa ? c_.rope_freq_scale_swa : c_.rope_freq_scale;
    const float* ff = w_.rope_freqs.empty() ? nullptr : w_.rope_freqs.data();
    const int mode = int(c_.rope_mode);
    const int64_t hd = c_.head_dim_k;
    const float q_scale = c_.attn_scale > 0 ? c_.attn_scale : 1.0f / std::sqrt(float(hd));
    for_tokens([&](int64_t t) {
      const BatchToken& b = batch[t];
      for (int64_t h = 0; h < c_.n_head; h++) {
        float* qh = &q_[size_t(t * QD + h * hd)];
        if (c_.qk_norm) cpu::rms_norm(qh, L.q_norm.data(), qh, hd, c_.norm_eps);
        cpu::rope(qh, hd, c_.n_rot, b.pos, base, fscale, ff, mode);
        if (c_.prescale_q) for (int64_t i = 0; i < hd; i++) qh[i] *= q_scale;
      }
      for (int64_t h = 0; h < c_.n_head_kv; h++) {
        float* kh = &k_[size_t(t * KD + h * hd)];
        if (c_.qk_norm) cpu::rms_norm(kh, L.k_norm.data(), kh, hd, c_.norm_eps);
        cpu::rope(kh, hd, c_.n_rot, b.pos, base, fscale, ff, mode);
      }
      if (cache.type() == KvType::F16) {
        cpu::fp32_to_fp16_row(&k_[size_t(t * KD)], static_cast<uint16_t*>(cache.k_row(il, b.seq, b.pos)), KD);
        cpu::fp32_to_fp16_row(&v_[size_t(t * VD)], static_cast<uint16_t*>(cache.v_row(il, b.seq, b.pos)), VD);
      } else {
        std::memcpy(cache.k_row(il, b.seq, b.pos), &k_[size_t(t * KD)], size_t(KD) * 4);
        std::memcpy(cache.v_row(il, b.seq, b.pos), &v_[size_t(t * VD)], size_t(VD) * 4);
      }
    });

    attention(il, batch, n, cache);

    matmul(L.wo, attn_.data(), n, tmp_.data(), E);
    for_tokens([&](int64_t t) {
      float* o = &tmp_[size_t(t * E)];
      if (c_.post_norms) cpu::rms_norm(o, L.post_attn_norm.data(), o, E, c_.norm_eps);
      float* x = &x_[size_t(t * E)];
      cpu::add(x, o, x, E);
      cpu::rms_norm(x, L.ffn_norm.data(), &xn_[size_t(t * E)], E, c_.norm_eps);
    });

    // Feed-forward: down(act(gate) * up).
    const int64_t F = c_.n_ff;
    if (c_.fused_gate_up) {
      matmul(L.w_up, xn_.data(), n, ffn_a_.data(), 2 * F);
      for_tokens([&](int64_t t) {
        const float* g = &ffn_a_[size_t(t * 2 * F)];
        float* y = &ffn_b_[size_t(t * F)];
        if (c_.ffn_act == FfnActivation::GeluGated) cpu::gelu_mul(g, g + F, y, F);
        else cpu::silu_mul(g, g + F, y, F);
      });
    } else {
      matmul(L.w_gate, xn_.data(), n, ffn_a_.data(), F);
      matmul(L.w_up, xn_.data(), n, ffn_b_.data(), F);
      for_tokens([&](int64_t t) {
        float* g = &ffn_a_[size_t(t * F)];
        float* u = &ffn_b_[size_t(t * F)];
        if (c_.ffn_act == FfnActivation::GeluGated) cpu::gelu_mul(g, u, u, F);
        else cpu::silu_mul(g, u, u, F);
      });
    }
    matmul(L.w_down, ffn_b_.data(), n, tmp_.data(), E);
    for_tokens([&](int64_t t) {
      float* o = &tmp_[size_t(t * E)];
      if (c_.post_norms) cpu::rms_norm(o, L.post_ffn_norm.data(), o, E, c_.norm_eps);
      float* x = &x_[size_t(t * E)];
      cpu::add(x, o, x, E);
    });
  }
}

// Causal attention of each batch token over its sequence's cached positions, one (token, head) pair per
// task. Mirrors llama.cpp's f16 cache path: the query is rounded to f16 for the K dot products and the
// probabilities are rounded to f16 for the V sum. The V sum runs in chunks (kAttentionValueChunk) so that
// the WebGPU kernel can sum the chunks in parallel and still agree with it exactly.
void Transformer::attention(int64_t il, const BatchToken* batch, int64_t n, KvCache& cache) {
  const int64_t hd = c_.head_dim_k, hdv = c_.head_dim_v;
  const int64_t QD = c_.q_dim();
  const int64_t group = c_.n_head / c_.n_head_kv;
  const int64_t n_ctx = cache.n_ctx();
  const int n_threads = pool_.size();
  if (int64_t(scores_.size()) < n_threads * n_ctx) scores_.resize(size_t(n_threads * n_ctx));
  if (int64_t(q16_.size()) < n_threads * hd) q16_.resize(size_t(n_threads * hd));
  if (int64_t(value_part_.size()) < n_threads * hdv) value_part_.resize(size_t(n_threads * hdv));
  const bool f16 = cache.type() == KvType::F16;
  const float scale = c_.prescale_q ? 1.0f : (c_.attn_scale > 0 ? c_.attn_scale : 1.0f / std::sqrt(float(hd)));
  const float softcap = c_.attn_logit_softcap;
  const int64_t window = c_.layer_uses_swa(il) ? c_.sliding_window : 0;
  const int64_t tasks = n * c_.n_head;

  pool_.run([&](int ith, int nth) {
    float* scores = &scores_[size_t(ith * n_ctx)];
    uint16_t* q16 = &q16_[size_t(ith * hd)];
    float* part = &value_part_[size_t(ith * hdv)];
    for (int64_t task = ith; task < tasks; task += nth) {
      const int64_t t = task / c_.n_head, h = task % c_.n_head, hk = h / group;
      const BatchToken& b = batch[t];
      const float* q = &q_[size_t(t * QD + h * hd)];
      const int64_t p_end = b.pos + 1;
      const int64_t p_begin = window > 0 ? std::max<int64_t>(0, b.pos - window + 1) : 0;
      float mx = -INFINITY;
      if (f16) cpu::fp32_to_fp16_row(q, q16, hd);
      for (int64_t p = p_begin; p < p_end; p++) {
        float s;
        if (f16) s = cpu::vec_dot_f16(hd, static_cast<const uint16_t*>(cache.k_row(il, b.seq, p)) + hk * hd, q16);
        else s = cpu::vec_dot_f32(hd, static_cast<const float*>(cache.k_row(il, b.seq, p)) + hk * hd, q);
        s *= scale;
        if (softcap > 0) s = std::tanh(s / softcap) * softcap;
        scores[p] = s;
        mx = std::max(mx, s);
      }
      double sum = 0;
      for (int64_t p = p_begin; p < p_end; p++) {
        float e = std::exp(scores[p] - mx);
        scores[p] = e;
        sum += e;
      }
      const float inv = float(1.0 / sum);
      float* out = &attn_[size_t(t * c_.n_head * hdv + h * hdv)];
      std::fill(out, out + hdv, 0.0f);
      for (int64_t c0 = p_begin; c0 < p_end; c0 += kAttentionValueChunk) {
        const int64_t c1 = std::min(p_end, c0 + kAttentionValueChunk);
        std::fill(part, part + hdv, 0.0f);
        for (int64_t p = c0; p < c1; p++) {
          float w = scores[p] * inv;
          if (f16) {
            w = cpu::fp16_to_fp32(cpu::fp32_to_fp16(w));
            cpu::vec_mad_f16(hdv, part, static_cast<const uint16_t*>(cache.v_row(il, b.seq, p)) + hk * hdv, w);
          } else {
            const float* v = static_cast<const float*>(cache.v_row(il, b.seq, p)) + hk * hdv;
            for (int64_t d = 0; d < hdv; d++) part[d] += w * v[d];
          }
        }
        for (int64_t d = 0; d < hdv; d++) out[d] += part[d];
      }
    }
  });
}

}  // namespace hearth
