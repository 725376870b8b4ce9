#include "backend/webgpu/webgpu_transformer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth::webgpu {

// Rows of the q/k/v projection that run as one matvec, writing columns [y_offset, y_offset + rows) of the
// per-token q|k|v row.
struct QkvPart {
  GpuWeight w;
  Buffer bias;
  int64_t y_offset = 0;
};

struct WebGpuTransformer::Layer {
  Buffer attn_norm, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm;
  QkvPart qkv[3];  // q, k and v joined where their types allow (then fewer parts; the rest empty)
  GpuWeight wo, w_gate, w_up, w_down;
  GpuWeight w_gate_up;  // gate rows then up rows, one matvec, when both have one type (w_gate/w_up then empty)
};

namespace {

Buffer upload_vector(Device& d, const Vector& v, const char* label) {
  if (v.empty()) return {};
  Buffer b = d.create_buffer(v.size() * sizeof(float), false, label);
  d.write(b, 0, v.data(), v.size() * sizeof(float));
  return b;
}

const Buffer* opt(const Buffer& b) { return b.valid() ? &b : nullptr; }

// The one activation format every weight in `ws` reads (F16, BF16, Q8_0 or Q8_K), which the op producing
// their input then prepares itself; F32 when they differ or read plain floats (nothing to fold).
ActFormat shared_format(std::initializer_list<const GpuWeight*> ws) {
  ActFormat f = ActFormat::F32;
  bool first = true;
  for (const GpuWeight* w : ws) {
    if (!w->valid()) continue;
    const ActFormat a = act_format(w->type);
    if (!first && a != f) return ActFormat::F32;
    f = a;
    first = false;
  }
  return f;
}

// Rows of b after those of a as one matrix (gate/up, q/k/v). Q4_0 is walked in 8-row groups when its row
// count is a multiple of 8 (the CPU's repacked order), so it is joined only when each part keeps its
// grouping.
bool can_join(const cpu::WeightMatrix& a, const cpu::WeightMatrix& b) {
  return a.data && b.data && a.type == b.type && a.cols == b.cols &&
         (a.type != TensorType::Q4_0 || (a.rows % 8 == 0 && b.rows % 8 == 0));
}

GpuWeight upload_joined(Device& d, std::initializer_list<const cpu::WeightMatrix*> ms) {
  const cpu::WeightMatrix& a = **ms.begin();
  const uint64_t rb = tensor_row_bytes(a.type, uint64_t(a.cols));
  int64_t total = 0;
  for (const cpu::WeightMatrix* m : ms) total += m->rows;
  std::vector<uint8_t> rows(rb * uint64_t(total));
  uint64_t at = 0;
  for (const cpu::WeightMatrix* m : ms) {
    std::memcpy(rows.data() + at, m->data, rb * uint64_t(m->rows));
    at += rb * uint64_t(m->rows);
  }
  cpu::WeightMatrix j = a;
  j.data = rows.data();
  j.rows = total;
  return GpuWeight::upload(d, j);
}

// q, k and v as few matvecs as their types allow (all three, q+k, or one each; Llama-style Q4_K_M files
// often give v more bits), each part's biases joined too (a missing one as zeros).
void upload_qkv(Device& d, const cpu::WeightMatrix (&m)[3], const Vector* (&bias)[3], QkvPart (&parts)[3]) {
  int64_t offset = 0;
  int n_parts = 0;
  for (int i = 0; i < 3;) {
    int end = i + 1;
    while (end < 3 && can_join(m[end - 1], m[end])) end++;
    QkvPart& p = parts[n_parts++];
    p.y_offset = offset;
    p.w = end == i + 1 ? GpuWeight::upload(d, m[i])
          : end == i + 2 ? upload_joined(d, {&m[i], &m[i + 1]})
                         : upload_joined(d, {&m[i], &m[i + 1], &m[i + 2]});
    bool any_bias = false;
    for (int j = i; j < end; j++) any_bias |= !bias[j]->empty();
    if (any_bias) {
      std::vector<float> b;
      for (int j = i; j < end; j++) {
        if (bias[j]->empty()) b.insert(b.end(), size_t(m[j].rows), 0.0f);
        else b.insert(b.end(), bias[j]->data(), bias[j]->data() + bias[j]->size());
      }
      p.bias = d.create_buffer(b.size() * sizeof(float), false, "qkv bias");
      d.write(p.bias, 0, b.data(), b.size() * sizeof(float));
    }
    for (int j = i; j < end; j++) offset += m[j].rows;
    i = end;
  }
}

// Rows [r0, r0 + rows) of a matrix, as their own matrix (fused qkv and gate/up are split at load).
cpu::WeightMatrix row_range(const cpu::WeightMatrix& w, int64_t r0, int64_t rows) {
  cpu::WeightMatrix s = w;
  s.data = static_cast<const uint8_t*>(w.data) + uint64_t(r0) * tensor_row_bytes(w.type, uint64_t(w.cols));
  s.rows = rows;
  return s;
}

}  // namespace

std::string WebGpuTransformer::unsupported_reason(const ModelConfig& c, const ModelWeights& w, const AdapterInfo& a,
                                                  int64_t n_ctx, int n_seq) {
  auto check = [&](const cpu::WeightMatrix& m, const std::string& name) -> std::string {
    if (!m.data) return {};
    if (!webgpu_supports_weight_type(m.type))
      return fmt::format("{} has type {}, which the WebGPU kernels do not cover", name, tensor_type_name(m.type));
    if (tensor_row_bytes(m.type, uint64_t(m.cols)) > a.max_storage_binding_bytes)
      return fmt::format("{}: one row exceeds the adapter's binding limit", name);
    return {};
  };
  std::string why = check(w.token_embd, "token_embd") + check(w.output, "output");
  for (size_t i = 0; i < w.layers.size() && why.empty(); i++) {
    const LayerWeights& L = w.layers[i];
    for (const cpu::WeightMatrix* m : {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down})
      why += check(*m, fmt::format("layer {} weight", i));
  }
  if (!why.empty()) return why;
  if (c.head_dim_k > 512 || c.head_dim_k % 2 || c.head_dim_v % 2)
    return fmt::format("head size {} is outside what the attention kernel handles", c.head_dim_k);
  const uint64_t kv = uint64_t(c.n_layer) * uint64_t(n_seq) * uint64_t(n_ctx) *
                      uint64_t(std::max(c.kv_dim_k(), c.kv_dim_v())) * 2;
  if (kv > a.max_storage_binding_bytes)
    return fmt::format("the KV cache ({} MiB) exceeds the adapter's binding limit", kv >> 20);
  return {};
}

WebGpuTransformer::WebGpuTransformer(const ModelConfig& c, const ModelWeights& w, Device& d, int64_t max_batch,
                                     int64_t n_ctx, int n_seq)
    : c_(c),
      d_(d),
      ops_(d, uint32_t(c.n_layer * 24 + 64)),
      max_batch_(max_batch),
      n_ctx_(n_ctx),
      n_seq_(n_seq) {
  if (std::string why = unsupported_reason(c, w, d.info(), n_ctx, n_seq); !why.empty())
    throw Error("WebGPU backend: " + why);
  const int64_t B = max_batch, E = c.n_embd, F = c.n_ff;
  const int64_t QD = c.q_dim(), KD = c.kv_dim_k(), VD = c.kv_dim_v();

  token_embd_ = GpuWeight::upload(d, w.token_embd);
  output_ = GpuWeight::upload(d, w.output);
  output_norm_ = upload_vector(d, w.output_norm, "output_norm");
  layers_.resize(size_t(c.n_layer));
  for (int64_t il = 0; il < c.n_layer; il++) {
    const LayerWeights& L = w.layers[size_t(il)];
    Layer& G = layers_[size_t(il)];
    G.attn_norm = upload_vector(d, L.attn_norm, "attn_norm");
    G.q_norm = upload_vector(d, L.q_norm, "q_norm");
    G.k_norm = upload_vector(d, L.k_norm, "k_norm");
    G.post_attn_norm = upload_vector(d, L.post_attn_norm, "post_attn_norm");
    G.ffn_norm = upload_vector(d, L.ffn_norm, "ffn_norm");
    G.post_ffn_norm = upload_vector(d, L.post_ffn_norm, "post_ffn_norm");
    const cpu::WeightMatrix qkv[3] = {c.fused_qkv ? row_range(L.wqkv, 0, QD) : L.wq,
                                      c.fused_qkv ? row_range(L.wqkv, QD, KD) : L.wk,
                                      c.fused_qkv ? row_range(L.wqkv, QD + KD, VD) : L.wv};
    const Vector* qkv_bias[3] = {&L.bq, &L.bk, &L.bv};
    upload_qkv(d, qkv, qkv_bias, G.qkv);
    G.wo = GpuWeight::upload(d, L.wo);
    if (c.fused_gate_up && can_join(row_range(L.w_up, 0, F), row_range(L.w_up, F, F))) {
      G.w_gate_up = GpuWeight::upload(d, L.w_up);
    } else if (c.fused_gate_up) {
      G.w_gate = GpuWeight::upload(d, row_range(L.w_up, 0, F));
      G.w_up = GpuWeight::upload(d, row_range(L.w_up, F, F));
    } else if (can_join(L.w_gate, L.w_up)) {
      G.w_gate_up = upload_joined(d, {&L.w_gate, &L.w_up});
    } else {
      G.w_gate = GpuWeight::upload(d, L.w_gate);
      G.w_up = GpuWeight::upload(d, L.w_up);
    }
    G.w_down = GpuWeight::upload(d, L.w_down);
  }

  const int64_t n_rot = c.n_rot;
  std::vector<float> rope = rope_table(n_ctx, n_rot, c.rope_freq_base, c.rope_freq_scale, w.rope_freqs);
  rope_ = d.create_buffer(rope.size() * 4, false, "rope");
  d.write(rope_, 0, rope.data(), rope.size() * 4);
  if (c.sliding_window > 0 &&
      (c.rope_freq_base_swa != c.rope_freq_base || c.rope_freq_scale_swa != c.rope_freq_scale)) {
    std::vector<float> swa = rope_table(n_ctx, n_rot, c.rope_freq_base_swa, c.rope_freq_scale_swa, w.rope_freqs);
    rope_swa_ = d.create_buffer(swa.size() * 4, false, "rope_swa");
    d.write(rope_swa_, 0, swa.data(), swa.size() * 4);
  }

  const uint64_t cache_k = uint64_t(c.n_layer) * uint64_t(n_seq) * uint64_t(n_ctx) * uint64_t(KD) * 2;
  const uint64_t cache_v = uint64_t(c.n_layer) * uint64_t(n_seq) * uint64_t(n_ctx) * uint64_t(VD) * 2;
  k_cache_ = d.create_buffer(cache_k, false, "k_cache");
  v_cache_ = d.create_buffer(cache_v, false, "v_cache");

  // Logits rows per forward: the whole batch when that stays small, else a few (the engine asks for one).
  max_out_ = std::clamp<int64_t>(int64_t((64ull << 20) / uint64_t(c.n_vocab * 4)), 1, B);
  const int64_t widest = std::max({E, F, QD, c.n_head * c.head_dim_v});
  batch_ = d.create_buffer(uint64_t(B) * 16, false, "batch");
  batch_host_.resize(size_t(B) * 4);
  auto f32s = [&](int64_t n, const char* label) { return d.create_buffer(uint64_t(n) * 4, false, label); };
  x_ = f32s(B * E, "x");
  xn_ = f32s(B * E, "xn");
  q_ = f32s(B * QD, "q");
  qkv_ = f32s(B * (QD + KD + VD), "qkv");
  attn_ = f32s(B * c.n_head * c.head_dim_v, "attn");
  ffn_a_ = f32s(B * 2 * F, "ffn_gate_up");
  ffn_b_ = f32s(B * F, "ffn_up");
  ffn_h_ = f32s(B * F, "ffn_hidden");
  tmp_ = f32s(B * E, "block_out");
  xq0_ = d.create_buffer(uint64_t(B) * act_words(ActFormat::Q8_0, widest / 32 * 32) * 4 + 64, false, "x_q8_0");
  xqk_ = d.create_buffer(uint64_t(B) * (uint64_t(widest) / 256 + 1) * 65 * 4, false, "x_q8_k");
  xh_ = f32s(B * widest, "x_f16");
  scores_ = f32s(B * c.n_head * n_ctx, "scores");
  x_out_ = f32s(max_out_ * E, "x_out");
  logits_ = f32s(max_out_ * c.n_vocab, "logits");
  ids_ = d.create_buffer(uint64_t(max_out_) * 4, false, "ids");
  readback_logits_ = d.create_readback_buffer(uint64_t(max_out_) * uint64_t(c.n_vocab) * 4);
  readback_ids_ = d.create_readback_buffer(uint64_t(max_out_) * 4);
  readback_step_[0] = d.create_readback_buffer(4);
  readback_step_[1] = d.create_readback_buffer(4);
  d.wait_idle();  // surface any allocation or upload error here, at load
}

WebGpuTransformer::~WebGpuTransformer() = default;

ActFold WebGpuTransformer::fold_for(ActFormat f) const {
  return {f, f == ActFormat::Q8_0 ? &xq0_ : f == ActFormat::Q8_K ? &xqk_ : nullptr};
}

const Buffer& WebGpuTransformer::input_for(const GpuWeight& w, const Buffer& x, ActFormat folded) const {
  switch (act_format(w.type)) {
    case ActFormat::Q8_0:
      return xq0_;
    case ActFormat::Q8_K:
      return xqk_;
    case ActFormat::F16:
    case ActFormat::BF16:
      return folded == act_format(w.type) ? x : xh_;
    default:
      return x;
  }
}

// Quantizes x once per activation format the given weights need (as the CPU quantizes per matmul, with
// the same result for the same input), except the format x's producer prepared itself (`folded`).
void WebGpuTransformer::prepare_input(Recorder& r, const Buffer& x, int64_t n, int64_t cols,
                                      std::initializer_list<const GpuWeight*> ws, ActFormat folded) {
  bool q0 = false, qk = false, h16 = false, b16 = false;
  for (const GpuWeight* w : ws) {
    if (!w->valid()) continue;
    q0 |= act_format(w->type) == ActFormat::Q8_0;
    qk |= act_format(w->type) == ActFormat::Q8_K;
    h16 |= act_format(w->type) == ActFormat::F16;
    b16 |= act_format(w->type) == ActFormat::BF16;
  }
  if (h16 && b16) throw Error("WebGPU backend: F16 and BF16 weights share one input");
  if (q0 && folded != ActFormat::Q8_0) ops_.quantize(r, ActFormat::Q8_0, x, n, cols, cols, xq0_);
  if (qk && folded != ActFormat::Q8_K) ops_.quantize(r, ActFormat::Q8_K, x, n, cols, cols, xqk_);
  if (h16 && folded != ActFormat::F16) ops_.quantize(r, ActFormat::F16, x, n, cols, cols, xh_);
  if (b16 && folded != ActFormat::BF16) ops_.quantize(r, ActFormat::BF16, x, n, cols, cols, xh_);
}

int64_t WebGpuTransformer::record_forward(Recorder& r, const BatchToken* batch, int64_t n) {
  if (n > max_batch_) throw Error(fmt::format("batch of {} tokens exceeds the maximum {}", n, max_batch_));
  int64_t n_out = 0;
  for (int64_t t = 0; t < n; t++) {
    const BatchToken& b = batch[t];
    if (b.token < 0 || b.token >= c_.n_vocab)
      throw Error(fmt::format("token id {} is outside the vocabulary (0..{})", b.token, c_.n_vocab - 1));
    if (b.pos < 0 || b.pos >= n_ctx_)
      throw Error(fmt::format("position {} is outside the context of {} tokens", b.pos, n_ctx_));
    if (b.seq < 0 || b.seq >= n_seq_) throw Error(fmt::format("sequence {} does not exist", b.seq));
    batch_host_[size_t(4 * t)] = uint32_t(b.token);
    batch_host_[size_t(4 * t + 1)] = uint32_t(b.pos);
    batch_host_[size_t(4 * t + 2)] = uint32_t(b.seq);
    if (b.logits) {
      if (n_out == max_out_)
        throw Error(fmt::format("WebGPU backend: at most {} logits rows per forward pass", max_out_));
      batch_host_[size_t(4 * n_out + 3)] = uint32_t(t);
      n_out++;
    }
  }
  d_.write(batch_, 0, batch_host_.data(), uint64_t(n) * 16);

  const int64_t E = c_.n_embd, F = c_.n_ff, hd = c_.head_dim_k, hdv = c_.head_dim_v;
  const int64_t QD = c_.q_dim(), KD = c_.kv_dim_k(), VD = c_.kv_dim_v(), AD = c_.n_head * hdv;
  const float eps = c_.norm_eps;
  const float q_scale = c_.attn_scale > 0 ? c_.attn_scale : 1.0f / std::sqrt(float(hd));
  const uint64_t layer_k_words = uint64_t(n_seq_) * uint64_t(n_ctx_) * uint64_t(KD) / 2;
  const uint64_t layer_v_words = uint64_t(n_seq_) * uint64_t(n_ctx_) * uint64_t(VD) / 2;

  ops_.get_rows(r, token_embd_, batch_, n, x_, c_.embed_scale_sqrt ? std::sqrt(float(E)) : 1.0f);
  // The op that produces a matvec input (a norm, the gated activation) also prepares the activation
  // format its readers share (f16/bf16 rounding, Q8_0/Q8_K blocks), instead of a pass of its own.
  auto qkv_format = [&](const Layer& L) { return shared_format({&L.qkv[0].w, &L.qkv[1].w, &L.qkv[2].w}); };
  ActFormat qkv_f = qkv_format(layers_[0]);
  ops_.rms_norm(r, x_, opt(layers_[0].attn_norm), xn_, n, E, E, E, eps, nullptr, fold_for(qkv_f));
  for (int64_t il = 0; il < c_.n_layer; il++) {
    Layer& L = layers_[size_t(il)];
    prepare_input(r, xn_, n, E, {&L.qkv[0].w, &L.qkv[1].w, &L.qkv[2].w}, qkv_f);
    for (const QkvPart& p : L.qkv) {
      if (!p.w.valid()) continue;
      ops_.matvec(r, p.w, input_for(p.w, xn_, qkv_f), n, E, qkv_, QD + KD + VD, p.y_offset, opt(p.bias));
    }

    const bool swa = c_.layer_uses_swa(il);
    Ops::RopeStoreArgs rs{n, c_.n_head, c_.n_head_kv, hd, hdv, c_.n_rot, n_ctx_,
                          c_.rope_mode == RopeMode::Neox, c_.qk_norm, eps, c_.prescale_q ? q_scale : 1.0f,
                          uint64_t(il) * layer_k_words, uint64_t(il) * layer_v_words};
    ops_.rope_store(r, rs, qkv_, q_, k_cache_, v_cache_, opt(L.q_norm), opt(L.k_norm),
                    swa && rope_swa_.valid() ? rope_swa_ : rope_, batch_);
    Ops::AttentionArgs as{n, c_.n_head, c_.n_head_kv, hd, hdv, n_ctx_, rs.k_layer_word, rs.v_layer_word,
                          c_.prescale_q ? 1.0f : q_scale, c_.attn_logit_softcap, swa ? c_.sliding_window : 0};
    // Half-precision wo weights read the attention output rounded: the value pass rounds it as it stores.
    const ActFormat wo_f = shared_format({&L.wo});
    as.out_format = wo_f == ActFormat::F16 || wo_f == ActFormat::BF16 ? wo_f : ActFormat::F32;
    ops_.attention(r, as, q_, k_cache_, v_cache_, attn_, scores_, batch_);

    prepare_input(r, attn_, n, AD, {&L.wo}, as.out_format);
    ops_.matvec(r, L.wo, input_for(L.wo, attn_, as.out_format), n, AD, tmp_, E);
    const ActFormat ffn_f = shared_format({&L.w_gate, &L.w_up, &L.w_gate_up});
    ops_.residual_norm(r, x_, tmp_, opt(L.post_attn_norm), opt(L.ffn_norm), xn_, n, E, eps, fold_for(ffn_f));

    const bool gelu = c_.ffn_act == FfnActivation::GeluGated;
    const ActFormat down_f = shared_format({&L.w_down});
    if (L.w_gate_up.valid()) {
      prepare_input(r, xn_, n, E, {&L.w_gate_up}, ffn_f);
      ops_.matvec(r, L.w_gate_up, input_for(L.w_gate_up, xn_, ffn_f), n, E, ffn_a_, 2 * F);
      ops_.ffn_act(r, gelu, ffn_a_, 2 * F, 0, ffn_a_, 2 * F, F, ffn_h_, n, F, fold_for(down_f));
    } else {
      prepare_input(r, xn_, n, E, {&L.w_gate, &L.w_up}, ffn_f);
      ops_.matvec(r, L.w_gate, input_for(L.w_gate, xn_, ffn_f), n, E, ffn_a_, F);
      ops_.matvec(r, L.w_up, input_for(L.w_up, xn_, ffn_f), n, E, ffn_b_, F);
      ops_.ffn_act(r, gelu, ffn_a_, F, 0, ffn_b_, F, 0, ffn_h_, n, F, fold_for(down_f));
    }
    prepare_input(r, ffn_h_, n, F, {&L.w_down}, down_f);
    ops_.matvec(r, L.w_down, input_for(L.w_down, ffn_h_, down_f), n, F, tmp_, E);
    // The next layer's input norm (and its input format) rides along with the residual add.
    const bool last = il + 1 == c_.n_layer;
    qkv_f = last ? ActFormat::F32 : qkv_format(layers_[size_t(il + 1)]);
    const Buffer* next_norm = last ? nullptr : opt(layers_[size_t(il + 1)].attn_norm);
    ops_.residual_norm(r, x_, tmp_, opt(L.post_ffn_norm), next_norm, xn_, n, E, eps, fold_for(qkv_f));
  }
  if (n_out == 0) return 0;
  const ActFormat out_f = shared_format({&output_});
  ops_.rms_norm(r, x_, opt(output_norm_), x_out_, n_out, E, E, E, eps, &batch_, fold_for(out_f));
  prepare_input(r, x_out_, n_out, E, {&output_}, out_f);
  ops_.matvec(r, output_, input_for(output_, x_out_, out_f), n_out, E, logits_, c_.n_vocab, 0, nullptr,
              c_.final_logit_softcap);
  return n_out;
}

void WebGpuTransformer::forward(const BatchToken* batch, int64_t n, float* logits_out) {
  if (n <= 0) return;
  drop_greedy_steps();
  have_ids_ = false;
  Recorder r = ops_.begin();
  const int64_t n_out = record_forward(r, batch, n);
  if (n_out == 0) {
    ops_.submit(r);
    return;
  }
  const uint64_t bytes = uint64_t(n_out) * uint64_t(c_.n_vocab) * 4;
  r.copy(logits_, 0, readback_logits_, 0, bytes);
  ops_.submit_and_read(r, readback_logits_, logits_out, bytes);
}

void WebGpuTransformer::forward_greedy(const BatchToken* batch, int64_t n, int32_t* tokens_out) {
  if (n <= 0) return;
  drop_greedy_steps();
  Recorder r = ops_.begin();
  const int64_t n_out = record_forward(r, batch, n);
  if (n_out == 0) {
    ops_.submit(r);
    return;
  }
  ops_.argmax(r, logits_, n_out, c_.n_vocab, c_.n_vocab, ids_);
  r.copy(ids_, 0, readback_ids_, 0, uint64_t(n_out) * 4);
  ops_.submit_and_read(r, readback_ids_, tokens_out, uint64_t(n_out) * 4);
  have_ids_ = true;
}

void WebGpuTransformer::submit_greedy_step(int32_t token, int32_t pos, int32_t seq) {
  if (in_flight_.size() == 2) throw Error("WebGPU backend: two greedy steps are in flight already");
  if (token < 0 && !have_ids_) throw Error("WebGPU backend: a chained greedy step needs a previous argmax");
  const int slot = in_flight_.empty() ? 0 : 1 - in_flight_.back();
  const BatchToken b{token < 0 ? 0 : token, pos, seq, true};
  Recorder r = ops_.begin();
  // The batch row is written on the queue before this command buffer runs; the copy then replaces its
  // token with the previous step's argmax, so the host never waits for that id before queueing this step.
  if (token < 0) r.copy(ids_, 0, batch_, 0, 4);
  record_forward(r, &b, 1);
  ops_.argmax(r, logits_, 1, c_.n_vocab, c_.n_vocab, ids_);
  r.copy(ids_, 0, readback_step_[slot], 0, 4);
  ops_.submit(r);
  in_flight_.push_back(slot);
  have_ids_ = true;
}

int32_t WebGpuTransformer::take_greedy_step() {
  if (in_flight_.empty()) throw Error("WebGPU backend: no greedy step is in flight");
  const int slot = in_flight_.front();
  in_flight_.pop_front();
  int32_t id = 0;
  d_.read_mapped(readback_step_[slot], &id, 4);
  return id;
}

void WebGpuTransformer::drop_greedy_steps() {
  while (!in_flight_.empty()) take_greedy_step();
}

}  // namespace hearth::webgpu
