// WebGPU benchmarks (native, Dawn): per weight type, the matvec's achieved GB/s (decode shape, weights
// larger than L2) and the matmul's TFLOP/s (512-token prefill), then end to end on a GGUF model: prefill
// tok/s at 512 tokens and greedy decode tok/s, with the bandwidth floor (weight bytes / read ceiling).
// For each model it also breaks a decode step down: dispatches per token, and each of the model's own
// matvecs timed alone (layer 0's matrices and the LM head), summed over the layers.
// Prints one JSON object per line. Never a CI gate.
//   hearth-webgpu-bench [--micro] [--dispatch-cost] [--matvec q4_K:8192x2048[:512] ...] [--reps N] [--hot]
//                       [--model M.gguf ...] [--no-breakdown] [--ceiling-gbs 2900] [--prompt 512] [--decode 128]
// Matvec timings read the weights cold (rotating over copies worth 256 MB, as a decode step meets them);
// --hot times one L2-resident copy.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "backend/cpu/kernels.h"
#include "backend/webgpu/device.h"
#include "backend/webgpu/ops.h"
#include "backend/webgpu/webgpu_transformer.h"
#include "hearth/engine.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "model/model_config.h"
#include "model/model_weights.h"

using namespace hearth;
using namespace hearth::webgpu;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Random weights in `type`'s format, quantized from a few distinct random rows (quantizing every row of a
// 1 GiB matrix would take minutes; the kernel's speed does not depend on the values).
std::vector<uint8_t> random_matrix(TensorType type, int64_t rows, int64_t cols) {
  const size_t rb = tensor_row_bytes(type, uint64_t(cols));
  std::vector<uint8_t> m(rb * size_t(rows));
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.5f);
  std::vector<uint8_t> sample(rb * 16);
  std::vector<float> v(static_cast<size_t>(cols));
  for (int s = 0; s < 16; s++) {
    for (auto& x : v) x = dist(rng);
    cpu::quantize_row(type, v.data(), sample.data() + rb * size_t(s), cols);
  }
  for (int64_t r = 0; r < rows; r++) std::memcpy(&m[rb * size_t(r)], &sample[rb * size_t(r % 16)], rb);
  return m;
}

// Times `reps` copies of one recorded dispatch chained in one pass and one submit (per-dispatch cost
// included, the submit and wait amortized over the chain).
template <typename Record>
double time_chain(Device& d, Ops& ops, int reps, Record record) {
  auto submit = [&] {
    Recorder r = ops.begin();
    for (int i = 0; i < reps; i++) record(r);
    ops.submit(r);
  };
  // The H100 drops to its idle clock (345 MHz) between short submits: keep it busy for 100 ms first, and
  // time four submits queued back to back.
  const auto warm = Clock::now();
  do {
    submit();
    d.wait_idle();
  } while (seconds(warm) < 0.1);
  constexpr int kSubmits = 4;
  double best = 1e30;
  for (int trial = 0; trial < 3; trial++) {
    auto t0 = Clock::now();
    for (int i = 0; i < kSubmits; i++) submit();
    d.wait_idle();
    best = std::min(best, seconds(t0));
  }
  return best / (reps * kSubmits);
}

// Weights as a decode step reads them: from memory, not from L2 (50 MB on the H100, which a chain of one
// 2-18 MB matrix would stay in). Cold timings rotate over copies of the matrix totalling 256 MB; --hot
// times one copy (the L2-resident figure).
bool g_hot = false;
std::vector<GpuWeight> weight_copies(Device& d, const cpu::WeightMatrix& m) {
  const uint64_t bytes = uint64_t(m.rows) * tensor_row_bytes(m.type, uint64_t(m.cols));
  const uint64_t n = g_hot ? 1 : std::clamp<uint64_t>((256ull << 20) / std::max<uint64_t>(bytes, 1) + 1, 1, 256);
  std::vector<GpuWeight> ws;
  for (uint64_t i = 0; i < n; i++) ws.push_back(GpuWeight::upload(d, m));
  return ws;
}

// One matvec (or, from 16 tokens, the prefill matmul) timed as time_chain does: the activations quantized
// once, then `reps` dispatches per submit (each on the next of the weight's copies) with the clock warmed
// first.
double time_matvec(Device& d, Ops& ops, const std::vector<GpuWeight>& ws, const Buffer& x, const Buffer& xq,
                   const Buffer& y, int64_t n_tok, int reps, bool rotate = true) {
  const GpuWeight& w = ws.front();
  const ActFormat f = act_format(w.type);
  Recorder q = ops.begin();
  ops.quantize(q, f, x, n_tok, w.cols, w.cols, xq);
  ops.submit(q);
  d.wait_idle();
  size_t next = 0;
  return time_chain(d, ops, reps, [&](Recorder& r) {
    const GpuWeight& wi = ws[rotate ? next++ % ws.size() : 0];
    ops.matvec(r, wi, f == ActFormat::F32 ? x : xq, n_tok, w.cols, y, w.rows);
  });
}

// One shape, e.g. "q4_K:8192x2048" (decode) or "f16:8192x2048:512" (prefill): its time, GB/s and TFLOP/s.
void time_shape(Device& d, const std::string& spec, double ceiling_gbs, int reps) {
  int64_t rows = 0, cols = 0, n_tok = 1;
  const size_t colon = spec.find(':');
  const std::string type_name = spec.substr(0, colon);
  if (colon == std::string::npos || std::sscanf(spec.c_str() + colon + 1, "%ldx%ld:%ld", &rows, &cols, &n_tok) < 2 ||
      rows < 1 || cols < 1 || n_tok < 1)
    throw Error("--matvec wants TYPE:ROWSxCOLS[:TOKENS], got " + spec);
  TensorType t{};
  bool found = false;
  for (int i = 0; i < 64 && !found; i++) {
    const TensorType c = TensorType(i);
    if (tensor_type_name(c) == type_name) t = c, found = true;
  }
  if (!found) throw Error("--matvec: unknown type " + type_name);
  Ops ops(d, 8192);
  Buffer x = d.create_buffer(uint64_t(n_tok * cols) * 4);
  std::vector<float> xs(size_t(n_tok * cols), 0.25f);
  d.write(x, 0, xs.data(), xs.size() * 4);
  Buffer xq = d.create_buffer(uint64_t(n_tok * cols) * 4);
  Buffer y = d.create_buffer(uint64_t(n_tok * rows) * 4);
  const uint64_t bytes = uint64_t(rows) * tensor_row_bytes(t, uint64_t(cols));
  std::vector<uint8_t> m = random_matrix(t, rows, cols);
  const std::vector<GpuWeight> ws = weight_copies(d, {m.data(), t, rows, cols});
  const double sec = time_matvec(d, ops, ws, x, xq, y, n_tok, reps);
  fmt::print("{{\"bench\":\"kernel\",\"shape\":\"{}\",\"copies\":{},\"ms\":{:.4f},\"GBps\":{:.1f},\"pct_of_read_ceiling\":{:.1f},"
             "\"TFLOPs\":{:.3f},\"fused_fma\":{},\"exact_unpack_half\":{}}}\n",
             spec, ws.size(), sec * 1e3, double(bytes) / sec / 1e9, 100.0 * double(bytes) / sec / 1e9 / ceiling_gbs,
             2.0 * double(rows) * double(cols) * double(n_tok) / sec / 1e12, ops.fused_fma(), ops.exact_unpack_half());
  std::fflush(stdout);
}

void micro(Device& d, double ceiling_gbs) {
  Ops ops(d, 8192);
  const TensorType types[] = {TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K,
                              TensorType::Q6_K, TensorType::F16,  TensorType::BF16, TensorType::F32};
  struct Shape {
    const char* name;
    int64_t rows, cols, n_tok;
  };
  const Shape shapes[] = {{"decode 8192x2048 (ffn of a 1B model)", 8192, 2048, 1},
                          {"decode 32768x8192 (beyond L2)", 32768, 8192, 1},
                          {"decode 128256x2048 (LM head)", 128256, 2048, 1},
                          {"prefill 8192x2048 x 512 tokens", 8192, 2048, 512}};
  for (const Shape& s : shapes) {
    Buffer x = d.create_buffer(uint64_t(s.n_tok * s.cols) * 4);
    std::vector<float> xs(size_t(s.n_tok * s.cols), 0.25f);
    d.write(x, 0, xs.data(), xs.size() * 4);
    Buffer xq = d.create_buffer(uint64_t(s.n_tok * s.cols) * 4);
    Buffer y = d.create_buffer(uint64_t(s.n_tok * s.rows) * 4);
    for (TensorType t : types) {
      const uint64_t bytes = uint64_t(s.rows) * tensor_row_bytes(t, uint64_t(s.cols));
      if (bytes > d.info().max_storage_binding_bytes * 4) continue;
      std::vector<uint8_t> m = random_matrix(t, s.rows, s.cols);
      const std::vector<GpuWeight> ws = weight_copies(d, {m.data(), t, s.rows, s.cols});
      const int reps = s.n_tok > 1 ? 3 : 20;
      const double sec = time_matvec(d, ops, ws, x, xq, y, s.n_tok, reps);
      const double gbs = double(bytes) / sec / 1e9;
      const double tflops = 2.0 * double(s.rows) * double(s.cols) * double(s.n_tok) / sec / 1e12;
      fmt::print("{{\"bench\":\"kernel\",\"shape\":\"{}\",\"type\":\"{}\",\"ms\":{:.4f},\"GBps\":{:.1f},"
                 "\"pct_of_read_ceiling\":{:.1f},\"TFLOPs\":{:.3f}}}\n",
                 s.name, tensor_type_name(t), sec * 1e3, gbs, 100.0 * gbs / ceiling_gbs, tflops);
      std::fflush(stdout);
    }
  }
  // The fixed costs the dispatch-bound decode pays.
  {
    Buffer b = d.create_buffer(1024);
    Buffer rb = d.create_readback_buffer(1024);
    double best = 1e30;
    for (int i = 0; i < 50; i++) {
      auto t0 = Clock::now();
      Recorder r = d.record();
      r.copy(b, 0, rb, 0, 1024);
      uint8_t sink[1024];
      d.submit_and_read(r, rb, sink, 1024);
      best = std::min(best, seconds(t0));
    }
    fmt::print("{{\"bench\":\"submit_copy_readback_1KiB\",\"us\":{:.1f}}}\n", best * 1e6);
  }
}

void end_to_end(const std::string& path, double ceiling_gbs, int prompt_len, int decode_len) {
  EngineOptions eo;
  eo.backend = Backend::WebGpu;
  eo.ctx = prompt_len + decode_len + 8;
  eo.batch = prompt_len;
  auto t0 = Clock::now();
  auto engine = Engine::load(path, eo);
  const double load_s = seconds(t0);
  const ModelInfo& info = engine->info();
  std::mt19937 rng(1);
  std::vector<TokenId> prompt;
  for (int i = 0; i < prompt_len; i++) prompt.push_back(TokenId(1000 + rng() % 20000));
  GenerateOptions g;
  g.max_tokens = decode_len;
  g.ignore_eos = true;
  g.sampling = SamplingParams::greedy();
  // Warm once (pipelines compile on first use), then measure fresh runs.
  engine->generate(prompt, g);
  double best_prefill = 0, best_decode = 0;
  std::vector<TokenId> tokens;
  for (int trial = 0; trial < 3; trial++) {
    engine->reset();
    GenerateResult r = engine->generate(prompt, g);
    best_prefill = std::max(best_prefill, r.prefill_tps());
    best_decode = std::max(best_decode, r.decode_tps());
    tokens = r.tokens;
  }
  // The greedy tokens' FNV-1a hash: settings that only re-tile the same arithmetic must print the same one.
  uint64_t hash = 1469598103934665603ull;
  for (TokenId t : tokens) hash = (hash ^ uint64_t(uint32_t(t))) * 1099511628211ull;
  const double floor_tps = ceiling_gbs * 1e9 / double(info.weight_bytes);
  fmt::print("{{\"bench\":\"end_to_end\",\"model\":\"{}\",\"weights_MB\":{:.1f},\"gpu\":\"{}\",\"load_s\":{:.2f},"
             "\"prefill_tokens\":{},\"prefill_tps\":{:.1f},\"decode_tokens\":{},\"decode_tps\":{:.1f},"
             "\"bandwidth_floor_tps\":{:.0f},\"pct_of_floor\":{:.1f},\"tokens_hash\":\"{:016x}\"}}\n",
             path, double(info.weight_bytes) / 1e6, info.gpu, load_s, prompt_len, best_prefill, decode_len,
             best_decode, floor_tps, 100.0 * best_decode / floor_tps, hash);
  std::fflush(stdout);
}


Buffer random_buffer(Device& d, int64_t floats, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(floats));
  for (auto& x : v) x = nd(rng);
  Buffer b = d.create_buffer(uint64_t(floats) * 4);
  d.write(b, 0, v.data(), v.size() * 4);
  return b;
}

// The other dispatches of a step at the model's shapes, timed as time_chain does, plus an empty-work
// dispatch: the fixed cost every dispatch pays. n_tok 1: a decode step (one token at position `pos` of an
// n_ctx cache); more: a prefill of n_tok tokens at positions 0..n_tok-1 (attention timed both ways: the
// tiled kernel and the two passes). Returns the sum per step (each op times how often a step runs it).
double time_other_ops(Device& d, Ops& ops, const std::string& path, const ModelConfig& c, ActFormat af, int64_t n_ctx,
                      int64_t pos, int64_t n_tok = 1) {
  std::mt19937 rng(5);
  const int64_t E = c.n_embd, F = c.n_ff, QD = c.q_dim(), KD = c.kv_dim_k(), VD = c.kv_dim_v(), n = n_tok;
  Buffer x = random_buffer(d, n * E, rng), o = random_buffer(d, n * E, rng), xn = random_buffer(d, n * E, rng);
  Buffer nw = random_buffer(d, E, rng);
  Buffer q = random_buffer(d, n * QD, rng), qkv = random_buffer(d, n * (QD + KD + VD), rng);
  Buffer attn = random_buffer(d, n * c.n_head * c.head_dim_v, rng);
  Buffer kc = random_buffer(d, n_ctx * KD / 2, rng), vc = random_buffer(d, n_ctx * VD / 2, rng);
  Buffer scores = random_buffer(d, n * c.n_head * n_ctx, rng);
  Buffer g = random_buffer(d, n * F, rng), u = random_buffer(d, n * F, rng), h = random_buffer(d, n * F, rng);
  Buffer logits = random_buffer(d, c.n_vocab, rng);
  Buffer xq = d.create_buffer(uint64_t(n * F) * 4 + 1024), ids = d.create_buffer(16);
  std::vector<float> rope = rope_table(n_ctx, c.n_rot, c.rope_freq_base, c.rope_freq_scale, {});
  Buffer rope_buf = d.create_buffer(rope.size() * 4);
  d.write(rope_buf, 0, rope.data(), rope.size() * 4);
  std::vector<uint32_t> bt;
  for (int64_t t = 0; t < n; t++) bt.insert(bt.end(), {1000u, uint32_t(n == 1 ? pos : t), 0u, 0u});
  Buffer batch = d.create_buffer(bt.size() * 4);
  d.write(batch, 0, bt.data(), bt.size() * 4);
  const float eps = c.norm_eps;
  const float scale = 1.0f / std::sqrt(float(c.head_dim_k));
  const int64_t L = c.n_layer;
  struct Row {
    const char* name;
    int64_t per_step;
    double sec;
  };
  std::vector<Row> rows;
  const int reps = n == 1 ? 50 : 10;
  auto add = [&](const char* name, int64_t per_step, auto record) {
    rows.push_back({name, per_step, time_chain(d, ops, reps, record)});
  };
  // The activation format the model's weights ask for is prepared by the norms and the gated activation
  // themselves (ActFold); only the attention output (the wo input) has a pass of its own.
  if (af != ActFormat::F32)
    add("quantize_activations", L, [&](Recorder& r) { ops.quantize(r, af, x, n, E, E, xq); });
  const ActFold fold{af, (af == ActFormat::Q8_0 || af == ActFormat::Q8_K) ? &xq : nullptr};
  add("rms_norm", 2, [&](Recorder& r) { ops.rms_norm(r, x, &nw, xn, n, E, E, E, eps, nullptr, fold); });
  add("residual_norm", 2 * L, [&](Recorder& r) { ops.residual_norm(r, x, o, nullptr, &nw, xn, n, E, eps, fold); });
  Ops::RopeStoreArgs ra{n, c.n_head, c.n_head_kv, c.head_dim_k, c.head_dim_v, c.n_rot, n_ctx,
                        c.rope_mode == RopeMode::Neox, false, eps, 1.0f, 0, 0};
  add("rope_store", L, [&](Recorder& r) { ops.rope_store(r, ra, qkv, q, kc, vc, nullptr, nullptr, rope_buf, batch); });
  Ops::AttentionArgs aa{n, c.n_head, c.n_head_kv, c.head_dim_k, c.head_dim_v, n_ctx, 0, 0, scale, 0.0f, 0};
  add("attention", L, [&](Recorder& r) { ops.attention(r, aa, q, kc, vc, attn, scores, batch); });
  if (n > 1 && ops.tiled_attention()) {
    ops.set_tiled_attention(false);
    add("attention_two_pass", 0, [&](Recorder& r) { ops.attention(r, aa, q, kc, vc, attn, scores, batch); });
    ops.set_tiled_attention(true);
  }
  add("ffn_act", L, [&](Recorder& r) { ops.ffn_act(r, false, g, F, 0, u, F, 0, h, n, F, fold); });
  add("argmax", 1, [&](Recorder& r) { ops.argmax(r, logits, 1, c.n_vocab, c.n_vocab, ids); });
  // ffn_act over 2 values: one workgroup that does next to nothing.
  add("empty_dispatch", 0, [&](Recorder& r) { ops.ffn_act(r, false, g, 2, 0, u, 2, 0, h, 1, 2); });
  double total = 0;
  for (const Row& row : rows) {
    total += row.sec * double(row.per_step);
    if (n == 1)
      fmt::print("{{\"bench\":\"model_op\",\"model\":\"{}\",\"op\":\"{}\",\"us\":{:.1f},\"per_token\":{},"
                 "\"ms_per_token\":{:.3f}}}\n",
                 path, row.name, row.sec * 1e6, row.per_step, row.sec * 1e3 * double(row.per_step));
    else
      fmt::print("{{\"bench\":\"prefill_op\",\"model\":\"{}\",\"op\":\"{}\",\"tokens\":{},\"us\":{:.1f},"
                 "\"per_prefill\":{},\"ms_per_prefill\":{:.3f}}}\n",
                 path, row.name, n, row.sec * 1e6, row.per_step, row.sec * 1e3 * double(row.per_step));
  }
  std::fflush(stdout);
  return total;
}

// Where a dispatch's fixed cost is paid: a chain of n near-empty dispatches in one pass, timed as host
// recording, the submit call (Dawn turns its commands into Vulkan ones there) and the wait for the GPU.
void dispatch_cost(Device& d) {
  Ops ops(d, 4096);
  std::mt19937 rng(9);
  Buffer g = random_buffer(d, 64, rng), u = random_buffer(d, 64, rng), h = random_buffer(d, 64, rng);
  for (int n : {1, 10, 100, 1000}) {
    double rec = 1e30, sub = 1e30, wait = 1e30, total = 1e30;
    for (int trial = 0; trial < 6; trial++) {
      auto t0 = Clock::now();
      Recorder r = ops.begin();
      for (int i = 0; i < n; i++) ops.ffn_act(r, false, g, 2, 0, u, 2, 0, h, 1, 2);
      auto t1 = Clock::now();
      ops.submit(r);
      auto t2 = Clock::now();
      d.wait_idle();
      auto t3 = Clock::now();
      if (trial == 0) continue;  // pipeline compile
      rec = std::min(rec, std::chrono::duration<double>(t1 - t0).count());
      sub = std::min(sub, std::chrono::duration<double>(t2 - t1).count());
      wait = std::min(wait, std::chrono::duration<double>(t3 - t2).count());
      total = std::min(total, std::chrono::duration<double>(t3 - t0).count());
    }
    fmt::print("{{\"bench\":\"dispatch_cost\",\"dispatches\":{},\"record_us\":{:.1f},\"submit_us\":{:.1f},"
               "\"wait_us\":{:.1f},\"total_us\":{:.1f},\"us_per_dispatch\":{:.2f}}}\n",
               n, rec * 1e6, sub * 1e6, wait * 1e6, total * 1e6, total * 1e6 / n);
  }
  std::fflush(stdout);
}

// Where a decode step's time goes: the transformer's dispatch count per token, the decode rate measured on
// the transformer directly, and the model's matvecs timed one kind at a time (each in a chain of identical
// dispatches in one pass, so the per-dispatch cost is included), summed as one token would run them.
void breakdown(const std::string& path, double ceiling_gbs, int prompt_len, int decode_len) {
  GgufFile file = GgufFile::open(path);
  ModelConfig c = ModelConfig::from_gguf(file);
  ModelWeights w = ModelWeights::load(file, c);
  auto d = Device::open();
  const int64_t ctx = prompt_len + decode_len + 8;
  WebGpuTransformer tr(c, w, *d, prompt_len, ctx);
  std::vector<BatchToken> batch;
  for (int i = 0; i < prompt_len; i++) batch.push_back({TokenId(1000 + i * 7), i, 0, i + 1 == prompt_len});
  int32_t id = 0;
  tr.forward_greedy(batch.data(), prompt_len, &id);  // warm: pipelines compile
  auto t0 = Clock::now();
  tr.forward_greedy(batch.data(), prompt_len, &id);
  const double prefill_s = seconds(t0);
  const int prefill_dispatches = tr.last_dispatch_count();
  // Decode as the Engine does: each step queued before the host waits for the previous one's id.
  t0 = Clock::now();
  tr.submit_greedy_step(id, prompt_len);
  for (int i = 0; i < decode_len; i++) {
    if (i + 1 < decode_len) tr.submit_greedy_step(-1, prompt_len + i + 1);
    id = tr.take_greedy_step();
  }
  const double decode_s = seconds(t0);
  const int decode_dispatches = tr.last_dispatch_count();

  Ops ops(*d, 8192);
  const int64_t widest = std::max(c.n_embd, c.n_ff);
  // Room for a whole prompt's activations: the prefill matmuls are timed on the same buffers.
  Buffer x = d->create_buffer(uint64_t(widest) * uint64_t(prompt_len) * 4);
  std::vector<float> xs(static_cast<size_t>(widest * prompt_len));
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (auto& v : xs) v = nd(rng);
  d->write(x, 0, xs.data(), xs.size() * 4);
  Buffer xq = d->create_buffer(uint64_t(widest) * uint64_t(prompt_len) * 4 + 1024);
  Buffer y = d->create_buffer(uint64_t(std::max(c.n_vocab, widest * prompt_len)) * 4);
  const LayerWeights& L = w.layers[0];
  struct Item {
    const char* name;
    const cpu::WeightMatrix* m;
    int64_t count;
  };
  const Item items[] = {{"attn_q", &L.wq, c.n_layer},      {"attn_k", &L.wk, c.n_layer},
                        {"attn_v", &L.wv, c.n_layer},      {"attn_output", &L.wo, c.n_layer},
                        {"ffn_gate", &L.w_gate, c.n_layer}, {"ffn_up", &L.w_up, c.n_layer},
                        {"ffn_down", &L.w_down, c.n_layer}, {"output", &w.output, 1}};
  double matvec_ms = 0, matmul_ms = 0;
  uint64_t matvec_bytes = 0;
  for (const Item& it : items) {
    if (!it.m->data) continue;
    const std::vector<GpuWeight> gs = weight_copies(*d, *it.m);
    const GpuWeight& g = gs.front();
    const uint64_t bytes = uint64_t(g.rows) * g.row_bytes;
    const double sec = time_matvec(*d, ops, gs, x, xq, y, 1, 20);
    matvec_ms += sec * 1e3 * double(it.count);
    matvec_bytes += bytes * uint64_t(it.count);
    fmt::print("{{\"bench\":\"model_matvec\",\"model\":\"{}\",\"tensor\":\"{}\",\"type\":\"{}\",\"shape\":\"{}x{}\","
               "\"us\":{:.1f},\"GBps\":{:.1f},\"pct_of_read_ceiling\":{:.1f},\"per_token\":{}}}\n",
               path, it.name, tensor_type_name(g.type), g.rows, g.cols, sec * 1e6, double(bytes) / sec / 1e9,
               100.0 * double(bytes) / sec / 1e9 / ceiling_gbs, it.count);
    // The prefill's matmul on the same matrix (the LM head runs only for the last token).
    if (it.m == &w.output || prompt_len < 2) continue;
    // One copy, hot: a prefill matmul reads its weights once per token tile, so it is compute-bound and
    // rotating cold copies (as for the matvecs) only added noise (run 16: two same-shape matrices 1.7x apart).
    const double psec = time_matvec(*d, ops, gs, x, xq, y, prompt_len, 10, /*rotate=*/false);
    matmul_ms += psec * 1e3 * double(it.count);
    fmt::print("{{\"bench\":\"model_matmul\",\"model\":\"{}\",\"tensor\":\"{}\",\"type\":\"{}\",\"tokens\":{},"
               "\"us\":{:.1f},\"TFLOPs\":{:.2f},\"per_prefill\":{}}}\n",
               path, it.name, tensor_type_name(g.type), prompt_len, psec * 1e6,
               2.0 * double(g.rows) * double(g.cols) * prompt_len / psec / 1e12, it.count);
  }
  const double other_ms = time_other_ops(*d, ops, path, c, act_format(L.wq.type), ctx, prompt_len + decode_len / 2) * 1e3;
  const double prefill_other_ms =
      prompt_len > 1 ? time_other_ops(*d, ops, path, c, act_format(L.wq.type), ctx, 0, prompt_len) * 1e3 : 0;
  const double token_ms = decode_s * 1e3 / decode_len;
  fmt::print("{{\"bench\":\"prefill_breakdown\",\"model\":\"{}\",\"tokens\":{},\"prefill_ms\":{:.2f},"
             "\"matmul_ms\":{:.2f},\"other_ops_ms\":{:.2f},\"unaccounted_ms\":{:.2f},\"dispatches\":{}}}\n",
             path, prompt_len, prefill_s * 1e3, matmul_ms, prefill_other_ms, prefill_s * 1e3 - matmul_ms - prefill_other_ms,
             prefill_dispatches);
  fmt::print("{{\"bench\":\"decode_breakdown\",\"model\":\"{}\",\"decode_tps\":{:.1f},\"token_ms\":{:.3f},"
             "\"dispatches_per_token\":{},\"dispatch_floor_ms_at_5us\":{:.3f},\"matvec_ms_per_token\":{:.3f},"
             "\"matvec_GBps\":{:.1f},\"other_ops_ms_per_token\":{:.3f},\"unaccounted_ms_per_token\":{:.3f},"
             "\"prefill_tps\":{:.1f},\"prefill_matmul_ms\":{:.2f},"
             "\"prefill_dispatches\":{},\"bandwidth_floor_ms\":{:.3f}}}\n",
             path, decode_len / decode_s, token_ms, decode_dispatches, decode_dispatches * 5e-3, matvec_ms,
             double(matvec_bytes) / (matvec_ms * 1e-3) / 1e9, other_ms, token_ms - matvec_ms - other_ms, prompt_len / prefill_s, matmul_ms,
             prefill_dispatches, double(matvec_bytes) / (ceiling_gbs * 1e9) * 1e3);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool do_micro = false, do_dispatch_cost = false, do_breakdown = true;
    std::vector<std::string> models, shapes;
    double ceiling = 2900;
    int prompt_len = 512, decode_len = 128, reps = 20;
    for (int i = 1; i < argc; i++) {
      std::string a = argv[i];
      if (a == "--micro") do_micro = true;
      else if (a == "--dispatch-cost") do_dispatch_cost = true;
      else if (a == "--matvec" && i + 1 < argc) shapes.push_back(argv[++i]);
      else if (a == "--reps" && i + 1 < argc) reps = std::stoi(argv[++i]);
      else if (a == "--hot") g_hot = true;
      else if (a == "--no-breakdown") do_breakdown = false;
      else if (a == "--model" && i + 1 < argc) models.push_back(argv[++i]);
      else if (a == "--ceiling-gbs" && i + 1 < argc) ceiling = std::stod(argv[++i]);
      else if (a == "--prompt" && i + 1 < argc) prompt_len = std::stoi(argv[++i]);
      else if (a == "--decode" && i + 1 < argc) decode_len = std::stoi(argv[++i]);
      else throw Error("usage: hearth-webgpu-bench [--micro] [--dispatch-cost] [--matvec TYPE:RxC[:T] ...] [--reps N] [--hot] [--model M.gguf ...] [--no-breakdown] [--ceiling-gbs N] [--prompt N] [--decode N]");
    }
    auto d = Device::open();
    fmt::print("{{\"bench\":\"device\",\"description\":\"{}\",\"vendor\":\"{}\",\"architecture\":\"{}\","
               "\"subgroups\":{},\"shader_f16\":{},\"max_binding_MB\":{}}}\n",
               d->info().description, d->info().vendor, d->info().architecture, d->info().subgroups,
               d->info().shader_f16, d->info().max_storage_binding_bytes >> 20);
    if (do_dispatch_cost) dispatch_cost(*d);
    if (do_micro) micro(*d, ceiling);
    for (const auto& sp : shapes) time_shape(*d, sp, ceiling, reps);
    d.reset();
    if (prompt_len < 1 || decode_len < 2) throw Error("--prompt must be >= 1 and --decode >= 2");
    for (const auto& m : models) {
      end_to_end(m, ceiling, prompt_len, decode_len);
      if (do_breakdown) breakdown(m, ceiling, prompt_len, decode_len);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
