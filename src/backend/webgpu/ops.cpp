#include "backend/webgpu/ops.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/webgpu/kernel_source.h"
#include "hearth/error.h"
#include "model/transformer.h"

namespace hearth::webgpu {

namespace {

constexpr uint32_t kSlotBytes = 256;  // minUniformBufferOffsetAlignment on every adapter we know
constexpr int kTokenTile = 8;         // tokens per matvec workgroup in prefill
constexpr int kMatvecThreads = 64;

// round_output()'s mode (float_formats.wgsl) and quantize_row_in_group()'s (quantize_in_group.wgsl).
uint32_t round_mode(ActFormat f) { return f == ActFormat::F16 ? 1 : f == ActFormat::BF16 ? 2 : 0; }
uint32_t quant_mode(ActFormat f) { return f == ActFormat::Q8_0 ? 1 : f == ActFormat::Q8_K ? 2 : 0; }

void check_fold(const ActFold& f, int64_t n) {
  const bool quantized = f.format == ActFormat::Q8_0 || f.format == ActFormat::Q8_K;
  if (quantized && !f.xq) throw Error("WebGPU: a quantizing fold needs its output buffer");
  if ((f.format == ActFormat::Q8_0 && n % 32) || (f.format == ActFormat::Q8_K && n % 256))
    throw Error("WebGPU: a row of " + std::to_string(n) + " values is not whole quantization blocks");
}

const char* weight_file(TensorType t) {
  switch (t) {
    case TensorType::F32:
      return "weight_f32";
    case TensorType::F16:
      return "weight_f16";
    case TensorType::BF16:
      return "weight_bf16";
    case TensorType::Q4_0:
      return "weight_q4_0";
    case TensorType::Q8_0:
      return "weight_q8_0";
    case TensorType::Q4_K:
      return "weight_q4_k";
    case TensorType::Q5_K:
      return "weight_q5_k";
    case TensorType::Q6_K:
      return "weight_q6_k";
    default:
      throw Error("WebGPU backend: no kernel for weight type " + std::string(tensor_type_name(t)));
  }
}

const char* act_file(ActFormat f) {
  switch (f) {
    case ActFormat::Q8_0:
      return "act_q8_0";
    case ActFormat::Q8_K:
      return "act_q8_k";
    default:
      return "act_f32";
  }
}

template <typename T>
void put(uint8_t* slot, const T& params) {
  static_assert(sizeof(T) <= kSlotBytes);
  std::memcpy(slot, &params, sizeof(T));
}

uint32_t u32(int64_t v) {
  if (v < 0 || v > int64_t(UINT32_MAX)) throw Error("WebGPU: value " + std::to_string(v) + " overflows a kernel parameter");
  return uint32_t(v);
}

uint32_t ceil_div(int64_t a, int64_t b) { return u32((a + b - 1) / b); }

// attention_common.wgsl's Params, shared by the two-pass and the tiled attention kernels.
struct AttentionParams {
  uint32_t n_tok, n_head, n_head_kv, hd, hdv, n_ctx, k_layer_base, v_layer_base;
  float scale, softcap;
  uint32_t window, tiles_x, round_out;
};

AttentionParams attention_params(const Ops::AttentionArgs& a, int64_t tiles_x) {
  return {u32(a.n_tok), u32(a.n_head), u32(a.n_head_kv), u32(a.hd), u32(a.hdv), u32(a.n_ctx),
          u32(int64_t(a.k_layer_word)), u32(int64_t(a.v_layer_word)), a.scale, a.softcap, u32(a.window),
          u32(tiles_x), round_mode(a.out_format)};
}

}  // namespace

// cos/sin of every rotary angle for positions [0, n_ctx), computed exactly as the CPU backend's rope():
// the same float recurrence for the angles and the same libm, so GPU and CPU rotate identically.
std::vector<float> rope_table(int64_t n_ctx, int64_t n_rot, float base, float scale, const std::vector<float>& factors) {
  std::vector<float> t(size_t(n_ctx * n_rot));
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_rot));
  for (int64_t pos = 0; pos < n_ctx; pos++) {
    float theta_base = static_cast<float>(pos);
    for (int64_t i0 = 0; i0 < n_rot; i0 += 2) {
      const float ff = factors.empty() ? 1.0f : factors[size_t(i0 / 2)];
      const float theta = scale * (theta_base / ff);
      t[size_t(pos * n_rot + i0)] = std::cos(theta);
      t[size_t(pos * n_rot + i0 + 1)] = std::sin(theta);
      theta_base *= theta_scale;
    }
  }
  return t;
}


bool webgpu_supports_weight_type(TensorType t) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q4_0:
    case TensorType::Q8_0:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

ActFormat act_format(TensorType t) {
  switch (t) {
    case TensorType::F16:
      return ActFormat::F16;
    case TensorType::BF16:
      return ActFormat::BF16;
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return ActFormat::Q8_0;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return ActFormat::Q8_K;
    default:
      return ActFormat::F32;
  }
}

uint32_t act_words(ActFormat f, int64_t cols) {
  switch (f) {
    case ActFormat::Q8_0:
      return u32(cols / 32 * 9);
    case ActFormat::Q8_K:
      return u32(cols / 256 * 65);
    default:
      return u32(cols);
  }
}

GpuWeight GpuWeight::upload(Device& d, const cpu::WeightMatrix& w, uint64_t max_part_bytes) {
  if (!webgpu_supports_weight_type(w.type))
    throw Error("WebGPU backend: weight type " + std::string(tensor_type_name(w.type)) + " is not supported");
  GpuWeight g;
  g.type = w.type;
  g.rows = w.rows;
  g.cols = w.cols;
  g.row_bytes = tensor_row_bytes(w.type, uint64_t(w.cols));
  const int64_t chunk = (w.type == TensorType::Q4_K || w.type == TensorType::Q5_K || w.type == TensorType::Q6_K) ? 256 : 32;
  if (w.cols % chunk != 0)
    throw Error("WebGPU backend: a row of " + std::to_string(w.cols) + " values is not a multiple of " +
                std::to_string(chunk));
  uint64_t limit = d.info().max_storage_binding_bytes;
  if (max_part_bytes) limit = std::min(limit, max_part_bytes);
  limit = std::min(limit, d.info().max_buffer_bytes);
  const int64_t rows_per_part = int64_t(limit / g.row_bytes);
  if (rows_per_part < 1) throw Error("WebGPU backend: one weight row exceeds the GPU's binding limit");
  const auto* src = static_cast<const uint8_t*>(w.data);
  for (int64_t r0 = 0; r0 < w.rows; r0 += rows_per_part) {
    Part p;
    p.row_begin = r0;
    p.rows = std::min(rows_per_part, w.rows - r0);
    const uint64_t bytes = uint64_t(p.rows) * g.row_bytes;
    p.buffer = d.create_buffer(bytes + 4, false, "weight");  // +4: the unaligned reader peeks one word ahead
    d.write(p.buffer, 0, src + uint64_t(r0) * g.row_bytes, bytes);
    g.parts.push_back(std::move(p));
  }
  return g;
}

Ops::Ops(Device& device, uint32_t max_dispatches) : d_(device) {
  dummy_ = d_.create_buffer(16, false, "dummy");
  dummy_out_ = d_.create_buffer(16, false, "dummy_out");
  slot_capacity_ = max_dispatches;
  params_ = d_.create_buffer(uint64_t(slot_capacity_) * kSlotBytes, true, "params");
  params_host_.assign(size_t(slot_capacity_) * kSlotBytes, 0);
  fused_fma_ = probe_fused_fma();
  exact_unpack_half_ = probe_exact_unpack_half();
  const AdapterInfo& a = d_.info();
  std::string names = a.vendor + " " + a.architecture + " " + a.device + " " + a.description;
  std::transform(names.begin(), names.end(), names.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  software_ = names.find("swiftshader") != std::string::npos;
  float_decode_ = !software_;
  // Software adapters: a thread per row, no barrier (SwiftShader, q4_K 128,256 x 256: 164 ms vs 609 with the
  // rows kernel; every K-quant shape tried was faster).
  kq_decode_ = software_ ? KqDecode::Thread : KqDecode::Wide;
  // Benchmarks compare the one-token kernels: HEARTH_KQ_DECODE=thread (matvec_k_thread.wgsl), slots
  // (matvec_k_decode.wgsl), wide[N]
  // (matvec_k_wide.wgsl) or rows[N] (matvec_k_rows.wgsl, with N rows per workgroup for every matrix);
  // HEARTH_Q0_DECODE=wide[N]|lanes (matvec_q0_wide.wgsl, for matrices of at most N rows, or matvec_q0.wgsl).
  if (const char* kq = std::getenv("HEARTH_KQ_DECODE")) {
    const std::string v = kq;
    if (v == "slots") kq_decode_ = KqDecode::Slots;
    if (v == "thread") kq_decode_ = KqDecode::Thread;
    // wideN: the wide kernel for rows of up to N super-blocks, the slots kernel past that.
    if (v.rfind("wide", 0) == 0) kq_decode_ = KqDecode::Wide;
    if (v.rfind("wide", 0) == 0 && v.size() > 4) kq_wide_max_nb_ = std::max(1, std::atoi(v.c_str() + 4));
    if (v.rfind("rows", 0) == 0) kq_decode_ = KqDecode::Rows;
    if (v.rfind("rows", 0) == 0 && v.size() > 4) kq_rows_per_wg_ = std::clamp(std::atoi(v.c_str() + 4), 1, 32);
  }
  // Tall matrices read faster with more rows per workgroup and one thread per row lane than with the wide
  // kernels: the K-quant LM head (128,256 rows) with matvec_k_rows.wgsl, Q8_0's gate+up (16,384) and LM
  // head with matvec_q0.wgsl. H100 run 17, Llama-3.2-1B shape, decode tok/s: Q4_K_M 527.5 vs 516.0 with
  // every matrix wide; Q8_0 369.7 vs 336.9 (gate+up wide) vs 319.8 (all wide).
  kq_wide_max_rows_ = software_ ? INT64_MAX : 65535;
  q0_wide_max_rows_ = software_ ? 0 : 16383;
  // HEARTH_KQ_WIDE_MAX_ROWS=N: K-quant matrices of more rows take the rows kernel (with the wide one chosen).
  if (const char* n = std::getenv("HEARTH_KQ_WIDE_MAX_ROWS")) kq_wide_max_rows_ = std::max<int64_t>(0, std::atoll(n));
  // Software adapters: a thread per row, no barrier (SwiftShader, q8_0 1024 x 256: 0.84 vs 5.2 ms with
  // matvec_q0.wgsl; a 262,144-row LM head about even, 251 vs 245 ms).
  q0_thread_ = software_;
  if (const char* m = std::getenv("HEARTH_PREFILL_MATMUL")) int8_matmul_ = std::string(m) != "exact";
  if (const char* m = std::getenv("HEARTH_PREFILL_ATTENTION")) tiled_attention_ = std::string(m) != "exact";
  float_rows_ = software_ ? 4 : 8;
  if (const char* tile = std::getenv("HEARTH_INT8_TILE")) {
    int a = 0, b = 0;
    if (std::sscanf(tile, "%dx%d", &a, &b) == 2 && (a == 4 || a == 8) && (b == 2 || b == 4)) int8_tile_.rt = a, int8_tile_.subs = b;
  }
  if (std::getenv("HEARTH_INT8_FLOAT_MINS")) int8_tile_.float_mins = true;
  if (std::getenv("HEARTH_INT8_HALVES")) int8_tile_.halves = true;
  if (const char* t = std::getenv("HEARTH_FLOAT_TILE")) set_float_rows(std::atoi(t));
  // HEARTH_Q0_DECODE=wide (every Q8_0 matrix), lanes (none), wideN (matrices of at most N rows) or thread.
  if (const char* q0 = std::getenv("HEARTH_Q0_DECODE")) {
    const std::string v = q0;
    q0_thread_ = v == "thread";
    q0_wide_max_rows_ = 0;
    if (v.rfind("wide", 0) == 0) q0_wide_max_rows_ = v == "wide" ? INT64_MAX : std::max<int64_t>(0, std::atoll(v.c_str() + 4));
  }
}

// fma(a, b, -round(a * b)) is the product's rounding error when fused and 0 when rounded twice; the other
// half of the inputs are plain random triples. Fused only if every result equals the host's std::fma.
bool Ops::probe_fused_fma() {
  constexpr size_t kN = 64;
  std::vector<float> in(3 * kN);
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return 1.0f + float(state >> 8) * 0x1p-24f;  // [1, 2) with 24 random bits
  };
  std::vector<float> want(kN);
  for (size_t i = 0; i < kN; i++) {
    const float a = next(), b = (i & 2) ? -next() : next();
    const float c = (i & 1) ? next() * 0.5f : -(a * b);
    in[3 * i] = a;
    in[3 * i + 1] = b;
    in[3 * i + 2] = c;
    want[i] = std::fma(a, b, c);
  }
  Buffer a = d_.create_buffer(in.size() * 4, false, "fma probe in");
  Buffer y = d_.create_buffer(kN * 4, false, "fma probe out");
  d_.write(a, 0, in.data(), in.size() * 4);
  const Pipeline& p = d_.pipeline("matvec_fma_probe", kernel_source("matvec_fma_probe.wgsl"));
  BindGroup g = d_.bind(p, {{0, &a}, {1, &y}});
  Recorder r = d_.record();
  r.dispatch(p, g, 1);
  d_.submit(r);
  std::vector<float> got(kN);
  d_.read(y, 0, got.data(), kN * 4);
  return std::memcmp(got.data(), want.data(), kN * 4) == 0;
}

bool Ops::probe_exact_unpack_half() {
  Buffer count = d_.create_buffer(4, false, "unpack probe count");
  const uint32_t zero = 0;
  d_.write(count, 0, &zero, 4);
  const Pipeline& p = d_.pipeline("half_unpack_probe", kernel_source("half_unpack_probe.wgsl"));
  BindGroup g = d_.bind(p, {{0, &count}});
  Recorder r = d_.record();
  r.dispatch(p, g, 32768 / 256);
  d_.submit(r);
  uint32_t mismatches = 1;
  d_.read(count, 0, &mismatches, 4);
  return mismatches == 0;
}

Recorder Ops::begin() {
  slots_used_ = 0;
  return d_.record();
}

Ops::Slot Ops::param_slot() {
  if (slots_used_ == slot_capacity_)
    throw Error("WebGPU: more than " + std::to_string(slot_capacity_) + " dispatches in one submit");
  Slot s{slots_used_, &params_host_[size_t(slots_used_) * kSlotBytes]};
  std::memset(s.data, 0, kSlotBytes);
  slots_used_++;
  return s;
}

void Ops::submit(Recorder& r) {
  if (slots_used_) d_.write(params_, 0, params_host_.data(), uint64_t(slots_used_) * kSlotBytes);
  last_dispatches_ = r.dispatch_count();
  d_.submit(r);
}

void Ops::submit_and_read(Recorder& r, const Buffer& readback, void* dst, uint64_t bytes) {
  if (slots_used_) d_.write(params_, 0, params_host_.data(), uint64_t(slots_used_) * kSlotBytes);
  last_dispatches_ = r.dispatch_count();
  d_.submit_and_read(r, readback, dst, bytes);
}

// Looks the pipeline up by name before expanding its WGSL: expanding the source on every dispatch cost
// ~10 µs of host time each (measured on the H100 machine), about half of a decode token.
const Pipeline& Ops::cached_pipeline(const std::string& name, const std::function<std::string()>& source) {
  auto it = pipelines_.find(name);
  if (it != pipelines_.end()) return *it->second;
  const Pipeline& p = d_.pipeline(name, source());
  pipelines_.emplace(name, &p);
  return p;
}

const Pipeline& Ops::simple_pipeline(const std::string& file) {
  return cached_pipeline(file, [&] { return kernel_source(file + ".wgsl"); });
}

const Pipeline& Ops::matvec_pipeline(TensorType t, int tile, int lanes, int threads, int decode_rows) {
  const std::string weight = t == TensorType::F16 && exact_unpack_half_ ? "weight_f16_unpacked" : weight_file(t);
  const char* fma = fused_fma_ ? "fma" : "fma_exact";
  const std::string name = "matvec." + weight + ".tt" + std::to_string(tile) + ".lanes" + std::to_string(lanes) +
                           ".wg" + std::to_string(threads) + ".rows" + std::to_string(decode_rows) + "." + fma;
  KernelVars vars{{"WEIGHT", weight},
                  {"ACT", act_file(act_format(t))},
                  {"WG", std::to_string(threads)},
                  {"TT", std::to_string(tile)},
                  {"LANES", std::to_string(lanes)},
                  {"ROWS", std::to_string(decode_rows)},
                  {"FMA", fma}};
  // Plain float rows take the coalesced word-per-lane kernel; Q8_0/Q4_0 and the K-quants the kernels
  // that sum in the CPU's order.
  const bool plain = t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
  const bool q0 = t == TensorType::Q8_0 || t == TensorType::Q4_0;
  const bool kq = t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K;
  const char* file = plain                ? "matvec_float.wgsl"
                     : q0 && decode_rows  ? "matvec_q0_decode.wgsl"
                     : q0                 ? "matvec_q0.wgsl"
                     : kq && decode_rows  ? "matvec_k_decode.wgsl"
                     : kq                 ? "matvec_k.wgsl"
                                          : "matvec.wgsl";
  return cached_pipeline(name, [&] { return kernel_source(file, vars); });
}

void Ops::dispatch(Recorder& r, const Pipeline& p, std::vector<Binding> b, uint32_t param_binding, const Slot& s,
                   uint32_t x, uint32_t y, uint32_t z) {
  b.push_back({param_binding, &params_, uint64_t(s.index) * kSlotBytes, kSlotBytes});
  // The key names the pipeline and every bound range by buffer id, so a cached group is only reused for
  // exactly the same bindings (parameter slots included).
  std::string key = p.name;
  key.reserve(key.size() + b.size() * 24);
  for (const Binding& e : b) {
    const uint64_t parts[4] = {e.binding, e.buffer->id(), e.offset, e.size};
    key.append(reinterpret_cast<const char*>(parts), sizeof(parts));
  }
  auto it = bind_cache_.find(key);
  if (it == bind_cache_.end()) it = bind_cache_.emplace(key, d_.bind(p, b)).first;
  r.dispatch(p, it->second, x, y, z);
}

void Ops::quantize(Recorder& r, ActFormat f, const Buffer& x, int64_t n_tok, int64_t cols, int64_t x_stride,
                   const Buffer& out) {
  if (f == ActFormat::F32) return;
  if (f == ActFormat::F16 || f == ActFormat::BF16) {
    // Rounded once per token here rather than once per weight row in the matvec.
    struct {
      uint32_t cols, n_tok, x_stride, bf16;
    } p{u32(cols), u32(n_tok), u32(x_stride), f == ActFormat::BF16 ? 1u : 0u};
    Slot s = param_slot();
    put(s.data, p);
    dispatch(r, simple_pipeline("round_half"), {{0, &x}, {1, &out}}, 2, s, ceil_div(cols, 256), u32(n_tok));
    return;
  }
  struct {
    uint32_t cols, n_tok, x_stride, out_stride;
  } p{u32(cols), u32(n_tok), u32(x_stride), act_words(f, cols)};
  Slot s = param_slot();
  put(s.data, p);
  // Q8_0: 8 blocks per workgroup; Q8_K: one super-block per workgroup; one row of workgroups per token.
  const uint32_t groups = f == ActFormat::Q8_0 ? ceil_div(cols / 32, 8) : u32(cols / 256);
  dispatch(r, simple_pipeline(f == ActFormat::Q8_0 ? "quantize_q8_0" : "quantize_q8_k"), {{0, &x}, {1, &out}}, 2, s,
           groups, u32(n_tok));
}

void Ops::dispatch_matvec(Recorder& r, const Pipeline& pl, const GpuWeight& w, const MatvecCall& c,
                          int64_t rows_per_wg, uint32_t z) {
  const uint32_t max_dim = d_.info().max_workgroups_per_dimension;
  for (const GpuWeight::Part& part : w.parts) {
    struct {
      uint32_t rows, cols, n_tok, row_bytes, x_stride, y_stride, y_offset, row_base, grid_x, has_bias;
      float softcap;
      uint32_t accumulate;
    } p{u32(part.rows), u32(w.cols), c.n_tok, u32(int64_t(w.row_bytes)), c.x_stride, u32(c.y_stride),
        u32(c.y_offset), u32(part.row_begin), 0, c.bias ? 1u : 0u, c.softcap, c.accumulate ? 1u : 0u};
    const int64_t groups = (part.rows + rows_per_wg - 1) / rows_per_wg;
    const uint32_t gx = std::min<uint32_t>(u32(groups), max_dim);
    p.grid_x = gx;
    Slot s = param_slot();
    put(s.data, p);
    dispatch(r, pl, {{0, &part.buffer}, {1, &c.x}, {2, &c.y}, {3, &or_dummy(c.bias)}}, 4, s, gx, ceil_div(groups, gx),
             z);
  }
}

bool Ops::float_decode_matvec(Recorder& r, const GpuWeight& w, const Buffer& x, const Buffer& y, int64_t y_stride,
                              int64_t y_offset, const Buffer* bias, float softcap, bool accumulate) {
  const int values = w.type == TensorType::F32 ? 4 : 8;  // per 16 bytes
  if (w.row_bytes % 16 || w.cols % values) return false;
  const int kind = w.type == TensorType::F32 ? 0 : w.type == TensorType::BF16 ? 3 : exact_unpack_half_ ? 2 : 1;
  // Rows per workgroup: as many as keep ~1,000 workgroups in flight (the activation loads are shared by
  // them; the H100 has 132 cores).
  int rows_per_wg = 1;
  while (rows_per_wg < 8 && w.rows >= int64_t(rows_per_wg) * 2 * 1024) rows_per_wg *= 2;
  const std::string name = "matvec_float_decode.k" + std::to_string(kind) + ".r" + std::to_string(rows_per_wg);
  const Pipeline& pl = cached_pipeline(name, [&] {
    return kernel_source("matvec_float_decode.wgsl",
                         {{"KIND", std::to_string(kind)}, {"ROWS", std::to_string(rows_per_wg)}});
  });
  dispatch_matvec(r, pl, w, {x, 1, 0, y, y_stride, y_offset, bias, softcap, accumulate}, rows_per_wg, 1);
  return true;
}

void Ops::dispatch_decode_kernel(Recorder& r, const char* file, const GpuWeight& w,
                                 std::initializer_list<std::pair<const char*, int64_t>> sizes, int64_t rows_per_wg,
                                 const MatvecCall& c) {
  const std::string weight = weight_file(w.type);
  const char* fma = fused_fma_ ? "fma" : "fma_exact";
  std::string name = file;
  name.append(".").append(weight).append(".").append(fma);
  for (const auto& [key, value] : sizes) name.append(".").append(key).append(std::to_string(value));
  const Pipeline& pl = cached_pipeline(name, [&] {
    KernelVars vars{{"WEIGHT", weight}, {"FMA", fma}};
    for (const auto& [key, value] : sizes) vars[key] = std::to_string(value);
    return kernel_source(file, vars);
  });
  dispatch_matvec(r, pl, w, c, rows_per_wg, c.n_tok);  // tokens along z (the kernels read wid.z)
}

bool Ops::kq_rows_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c) {
  const int64_t nb = w.cols / 256;
  // The group sums of every super-block sit in workgroup memory (64 bytes each; 16 KiB is WebGPU's floor).
  if (nb * 64 > 8192) return false;
  // 8 threads per row: 8 rows per 64-thread workgroup keep a 2,048-row matrix on ~256 workgroups (the
  // H100 has 132 cores); larger matrices take 32 rows, sharing the group sums more widely (not on
  // SwiftShader, where 8 rows ran a 128,256-row LM head 2.6x faster than 32).
  const int64_t rows_per_wg = kq_rows_per_wg_ ? kq_rows_per_wg_ : w.rows >= 8192 && !software_ ? 32 : 8;
  dispatch_decode_kernel(r, "matvec_k_rows.wgsl", w, {{"NB", nb}, {"ROWS", rows_per_wg}}, rows_per_wg, c);
  return true;
}

bool Ops::kq_thread_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c) {
  dispatch_decode_kernel(r, "matvec_k_thread.wgsl", w, {{"NB", w.cols / 256}}, 64, c);  // 64 rows per workgroup
  return true;
}

bool Ops::kq_wide_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c) {
  const int64_t nb = w.cols / 256;
  // Eight slots per row lane: one super-block per thread for a 2,048-wide row, four for 8,192. Per row
  // and super-block 52 bytes of workgroup memory (8 lanes, 4 mins, 2 scales) plus the 64-byte group sums;
  // four rows per 256-thread workgroup, two past 32 super-blocks (16 KiB is WebGPU's floor).
  const int64_t slots = std::min<int64_t>(nb, 8);
  const int64_t rows_per_wg = nb > 32 ? 2 : 4;
  if (nb * 64 + rows_per_wg * nb * 56 + rows_per_wg * 64 > 16384) return false;
  dispatch_decode_kernel(r, "matvec_k_wide.wgsl", w, {{"NB", nb}, {"SLOTS", slots}, {"ROWS", rows_per_wg}},
                         rows_per_wg, c);
  return true;
}

bool Ops::q0_wide_matvec(Recorder& r, const GpuWeight& w, const MatvecCall& c) {
  const int64_t nb = w.cols / 32;
  // 36 bytes of workgroup memory per row and block (8 lane dots and a scale); up to four rows while they
  // fit in 12 KiB, 256 threads in all (a 2,048-wide row: 4 rows, 8 slots of 8 blocks; 8,192: 1 row, 32).
  const int64_t rows_per_wg = std::clamp<int64_t>(12288 / (nb * 36), 1, 4);
  if (rows_per_wg * (nb * 36 + 32) > 16384) return false;
  const int64_t slots = std::min<int64_t>(nb, 256 / (8 * rows_per_wg));
  dispatch_decode_kernel(r, "matvec_q0_wide.wgsl", w, {{"NB", nb}, {"SLOTS", slots}, {"ROWS", rows_per_wg}},
                         rows_per_wg, c);
  return true;
}

void Ops::matvec(Recorder& r, const GpuWeight& w, const Buffer& x, int64_t n_tok, int64_t x_stride, const Buffer& y,
                 int64_t y_stride, int64_t y_offset, const Buffer* bias, float softcap, bool accumulate) {
  if (matmul(r, w, x, n_tok, x_stride, y, y_stride, y_offset, bias, softcap, accumulate)) return;
  const bool plain = w.type == TensorType::F32 || w.type == TensorType::F16 || w.type == TensorType::BF16;
  const bool kq = w.type == TensorType::Q4_K || w.type == TensorType::Q5_K || w.type == TensorType::Q6_K;
  if (n_tok == 1 && plain && float_decode_ && float_decode_matvec(r, w, x, y, y_stride, y_offset, bias, softcap, accumulate)) return;
  const bool rows = kq_decode_ == KqDecode::Rows || (kq_decode_ == KqDecode::Wide && w.rows > kq_wide_max_rows_);
  const MatvecCall q8k{x, 1, act_words(ActFormat::Q8_K, w.cols), y, y_stride, y_offset, bias, softcap, accumulate};
  if (n_tok == 1 && kq && rows && kq_rows_matvec(r, w, q8k)) return;
  // The thread kernels take every token count below the matmul's (one grid layer per token): software
  // adapters decode several sequences at once with them (SwiftShader, q8_0 262,144 x 128, 3 tokens: 3.2 s
  // with matvec_q0.wgsl's 8-token tile, ~0.46 s with a layer per token).
  const MatvecCall q8k_all{x, u32(n_tok), act_words(ActFormat::Q8_K, w.cols), y, y_stride, y_offset, bias, softcap,
                           accumulate};
  if (kq && kq_decode_ == KqDecode::Thread && kq_thread_matvec(r, w, q8k_all)) return;
  if (n_tok == 1 && kq && kq_decode_ == KqDecode::Wide && w.cols / 256 <= kq_wide_max_nb_ && kq_wide_matvec(r, w, q8k))
    return;
  const int tile = n_tok == 1 ? 1 : kTokenTile;
  int lanes = 4;
  while (lanes < kMatvecThreads && lanes < w.cols / 32) lanes *= 2;
  // A software adapter (SwiftShader) runs small workgroups faster, per row, than large ones (Q4_K LM head of
  // 128,256 x 256, 3 tokens: 2.5 s with 32 threads, 3.6 s with 64, 9.4 s with 256), and plain floats
  // fastest with a row per thread.
  const int threads = software_ ? 32 : kMatvecThreads;
  if (plain && software_) lanes = 1;
  lanes = std::min(lanes, threads);
  if (w.type == TensorType::Q8_0 || w.type == TensorType::Q4_0) {
    // The CPU's order (matvec_q0.wgsl): 8 float lanes per row, or one chain per row where the CPU walks
    // Q4_0 as llama.cpp's repacked 8-row groups (rows a multiple of 8).
    lanes = (w.type == TensorType::Q4_0 && w.rows % 8 == 0) ? 1 : 8;
    const MatvecCall q80{x, 1, act_words(ActFormat::Q8_0, w.cols), y, y_stride, y_offset, bias, softcap, accumulate};
    if (q0_thread_) {  // 64 rows per workgroup, every token count
      dispatch_decode_kernel(r, "matvec_q0_thread.wgsl", w, {{"LANES", lanes}}, 64,
                             {x, u32(n_tok), q80.x_stride, y, y_stride, y_offset, bias, softcap, accumulate});
      return;
    }
    if (tile == 1 && lanes == 8 && w.rows <= q0_wide_max_rows_ && q0_wide_matvec(r, w, q80)) return;
  }
  if (kq) lanes = 8;
  int64_t rows_per_wg = threads / lanes;
  // Decode: a thread per (row, block, lane) for the exact integer parts, the in-order float chains short
  // (matvec_k_decode.wgsl, matvec_q0_decode.wgsl). K-quants: one row per workgroup keeps small matrices
  // spread over every core; large ones take four, sharing the activation sums. Q4_0's one-chain order:
  // four rows. (Q8_0 keeps matvec_q0.wgsl: its eight lanes per row were faster there in one H100 run.)
  int decode_rows = 0;
  if (tile == 1 && kq) decode_rows = w.rows >= 16384 ? 4 : 1;
  if (tile == 1 && w.type == TensorType::Q4_0 && lanes == 1) decode_rows = 4;
  if (decode_rows) rows_per_wg = decode_rows;
  const Pipeline& pl = matvec_pipeline(w.type, tile, lanes, threads, decode_rows);
  const ActFormat af = act_format(w.type);
  const uint32_t xs = af == ActFormat::F32 ? u32(x_stride) : act_words(af, w.cols);
  dispatch_matvec(r, pl, w, {x, u32(n_tok), xs, y, y_stride, y_offset, bias, softcap, accumulate}, rows_per_wg,
                  ceil_div(n_tok, tile));
}

void Ops::get_rows(Recorder& r, const GpuWeight& w, const Buffer& batch, int64_t n_tok, const Buffer& y, float scale) {
  const std::string weight = weight_file(w.type);
  const Pipeline& pl = cached_pipeline("get_rows." + weight, [&] {
    return kernel_source("get_rows.wgsl", {{"WEIGHT", weight}, {"ACT", act_file(act_format(w.type))}});
  });
  for (const GpuWeight::Part& part : w.parts) {
    struct {
      uint32_t rows, cols, n_tok, row_bytes, row_base, y_stride;
      float scale;
    } p{u32(part.rows), u32(w.cols), u32(n_tok), u32(int64_t(w.row_bytes)), u32(part.row_begin), u32(w.cols), scale};
    Slot s = param_slot();
    put(s.data, p);
    dispatch(r, pl, {{0, &part.buffer}, {1, &batch}, {2, &y}}, 3, s, u32(n_tok));
  }
}

void Ops::rms_norm(Recorder& r, const Buffer& x, const Buffer* weight, const Buffer& y, int64_t rows, int64_t n,
                   int64_t x_stride, int64_t y_stride, float eps, const Buffer* gather_batch, ActFold fold) {
  check_fold(fold, n);
  struct {
    uint32_t rows, n, x_stride, y_stride;
    float eps;
    uint32_t has_weight, gather, round_out, quant, q_stride;
  } p{u32(rows), u32(n), u32(x_stride), u32(y_stride), eps, weight ? 1u : 0u, gather_batch ? 1u : 0u,
      round_mode(fold.format), quant_mode(fold.format), act_words(fold.format, n)};
  Slot s = param_slot();
  put(s.data, p);
  dispatch(r, simple_pipeline("rms_norm"),
           {{0, &x}, {1, &or_dummy(weight)}, {2, &y}, {3, &or_dummy(gather_batch)}, {4, &or_dummy_out(fold.xq)}}, 5, s,
           u32(rows));
}

void Ops::residual_norm(Recorder& r, const Buffer& x, const Buffer& o, const Buffer* post_weight,
                        const Buffer* norm_weight, const Buffer& xn, int64_t n_tok, int64_t n, float eps, ActFold fold) {
  check_fold(fold, n);
  struct {
    uint32_t n_tok, n;
    float eps;
    uint32_t has_post, has_norm, round_out, quant, q_stride;
  } p{u32(n_tok), u32(n), eps, post_weight ? 1u : 0u, norm_weight ? 1u : 0u, round_mode(fold.format),
      quant_mode(fold.format), act_words(fold.format, n)};
  Slot s = param_slot();
  put(s.data, p);
  dispatch(r, simple_pipeline("residual_norm"),
           {{0, &x}, {1, &o}, {2, &or_dummy(post_weight)}, {3, &or_dummy(norm_weight)}, {4, &xn},
            {5, &or_dummy_out(fold.xq)}},
           6, s, u32(n_tok));
}

void Ops::rope_store(Recorder& r, const RopeStoreArgs& a, const Buffer& qkv, const Buffer& q_out,
                     const Buffer& k_cache, const Buffer& v_cache, const Buffer* q_norm, const Buffer* k_norm,
                     const Buffer& rope_table, const Buffer& batch) {
  if (a.hd > 1024 || a.hd % 2 || a.hdv % 2) throw Error("WebGPU backend: head size " + std::to_string(a.hd) + " unsupported");
  const int64_t qd = a.n_head * a.hd, kd = a.n_head_kv * a.hd, vd = a.n_head_kv * a.hdv;
  struct {
    uint32_t n_head, n_head_kv, hd, hdv, n_rot, neox, qk_norm;
    float eps, q_scale;
    uint32_t n_ctx, k_layer_base, v_layer_base, qkv_stride, k_offset, v_offset, fused_fma;
  } p{u32(a.n_head), u32(a.n_head_kv), u32(a.hd), u32(a.hdv), u32(a.n_rot), a.neox ? 1u : 0u, a.qk_norm ? 1u : 0u,
      a.eps, a.q_scale, u32(a.n_ctx), u32(int64_t(a.k_layer_word)), u32(int64_t(a.v_layer_word)),
      u32(qd + kd + vd), u32(qd), u32(qd + kd), fused_fma_ ? 1u : 0u};
  Slot s = param_slot();
  put(s.data, p);
  dispatch(r, simple_pipeline("rope_store"),
           {{0, &q_out}, {1, &qkv}, {2, &k_cache}, {3, &v_cache}, {4, &or_dummy(q_norm)}, {5, &or_dummy(k_norm)},
            {6, &rope_table}, {7, &batch}},
           8, s, u32(a.n_head + 2 * a.n_head_kv), u32(a.n_tok));
}

// Two dispatches: the scores (one thread per position; a (token, head)'s tiles of 64 positions spread
// over several workgroups), then softmax and the value sum (workgroups per (token, head, column block),
// the value chunks summed in parallel). Decode at Llama-3.2-1B's shape (32 heads, 8 KV heads of 128) with
// a context of 600: 32 x 10 score workgroups of 64 threads, then 32 x 8 value workgroups of 256.
void Ops::attention(Recorder& r, const AttentionArgs& a, const Buffer& q, const Buffer& k_cache,
                    const Buffer& v_cache, const Buffer& out, const Buffer& scores, const Buffer& batch) {
  if (a.hd < 1 || a.hd > 512 || a.hdv > 512 || a.hdv % 2)
    throw Error("WebGPU backend: head size " + std::to_string(std::max(a.hd, a.hdv)) + " unsupported");
  if (tiled_attention_ && attention_tiled(r, a, q, k_cache, v_cache, out, batch)) return;
  constexpr int64_t kScoreTile = 64;        // attention_scores.wgsl's WG
  constexpr int64_t kScoreWorkgroups = 1024;  // aimed at per dispatch; past it workgroups walk several tiles
  const int64_t span = a.window > 0 ? std::min(a.window, a.n_ctx) : a.n_ctx;
  const int64_t token_heads = a.n_tok * a.n_head;
  const int64_t tiles = std::clamp<int64_t>(kScoreWorkgroups / token_heads, 1, (span + kScoreTile - 1) / kScoreTile);
  // Few (token, head) pairs (decode): narrow column blocks and 32 chunks at once, for many workgroups;
  // many (prefill): 128 columns per workgroup so the softmax is not redone per block.
  const int64_t pairs = token_heads >= 256 ? 64 : 8;  // column pairs per value workgroup
  Slot s = param_slot();  // both passes read the same parameters
  put(s.data, attention_params(a, tiles));
  const Pipeline& score_pass = cached_pipeline("attention_scores.hd" + std::to_string(a.hd), [&] {
    return kernel_source("attention_scores.wgsl", {{"HD", std::to_string(a.hd)}});
  });
  dispatch(r, score_pass, {{0, &q}, {1, &k_cache}, {2, &scores}, {3, &batch}}, 4, s, u32(tiles), u32(a.n_head),
           u32(a.n_tok));
  const Pipeline& value_pass = cached_pipeline("attention_values.pairs" + std::to_string(pairs), [&] {
    return kernel_source("attention_values.wgsl",
                         {{"PAIRS", std::to_string(pairs)}, {"CHUNK", std::to_string(kAttentionValueChunk)}});
  });
  dispatch(r, value_pass, {{0, &v_cache}, {1, &out}, {2, &scores}, {3, &batch}}, 4, s, ceil_div(a.hdv, 2 * pairs),
           u32(a.n_head), u32(a.n_tok));
}

std::pair<int64_t, int64_t> Ops::attention_tile(int64_t hd, int64_t hdv) const {
  if (hd % 2 || hd > 256 || hdv > 256) return {0, 0};
  // HEARTH_ATTENTION_TOKENS=16: 16 tokens a workgroup where 32 fit (for measuring).
  static const int64_t max_bq = [] {
    const char* v = std::getenv("HEARTH_ATTENTION_TOKENS");
    return v && std::string(v) == "16" ? 16 : 32;
  }();
  constexpr int64_t kThreads = 128;  // attention_tiled.wgsl's WG
  for (const auto& tile : {std::pair<int64_t, int64_t>{32, 32}, {16, 32}, {16, 16}}) {
    const int64_t bq = tile.first, bk = tile.second, tpr = kThreads / bq;
    if (bq > max_bq || (hdv / 2) % tpr || bk % tpr) continue;
    // attention_tiled.wgsl's workgroup arrays: qs, ks, vs, ps, red.
    const int64_t bytes = 4 * (bq * (hd / 2 + 1) + bk * (hd / 2 + 1) + bk * (hdv / 2) + bq * (bk + 1) + kThreads);
    if (bytes <= int64_t(d_.info().max_workgroup_storage_bytes)) return tile;
  }
  return {0, 0};
}

bool Ops::attention_tiled(Recorder& r, const AttentionArgs& a, const Buffer& q, const Buffer& k_cache,
                          const Buffer& v_cache, const Buffer& out, const Buffer& batch) {
  // As the matmuls: below 16 tokens the two-pass kernels spread a token over more workgroups, and
  // software adapters keep them up to prompt sizes (so the SwiftShader model tests stay bit-equal).
  if (a.n_tok < 16 || (software_ && a.n_tok <= 64)) return false;
  const auto tile = attention_tile(a.hd, a.hdv);
  const int64_t bq = tile.first, bk = tile.second;  // (clang 14 lambdas cannot capture structured bindings)
  if (bq == 0) return false;
  const int64_t tiles = (a.n_tok + bq - 1) / bq;
  if (tiles > int64_t(d_.info().max_workgroups_per_dimension)) return false;
  Slot s = param_slot();
  put(s.data, attention_params(a, 0));
  const std::string name = "attention_tiled.bq" + std::to_string(bq) + ".bk" + std::to_string(bk) + ".hd" +
                           std::to_string(a.hd) + ".hdv" + std::to_string(a.hdv);
  const Pipeline& pl = cached_pipeline(name, [&] {
    return kernel_source("attention_tiled.wgsl", {{"BQ", std::to_string(bq)},
                                                   {"BK", std::to_string(bk)},
                                                   {"HD", std::to_string(a.hd)},
                                                   {"HDV", std::to_string(a.hdv)}});
  });
  dispatch(r, pl, {{0, &q}, {1, &k_cache}, {2, &v_cache}, {3, &out}, {4, &batch}}, 5, s, u32(tiles), u32(a.n_head));
  return true;
}

void Ops::ffn_act(Recorder& r, bool gelu, const Buffer& g, int64_t g_stride, int64_t g_offset, const Buffer& u,
                  int64_t u_stride, int64_t u_offset, const Buffer& y, int64_t n_tok, int64_t n, ActFold fold) {
  check_fold(fold, n);
  // SiLU's exp follows whichever form this process's CPU kernels use (cpu::silu_mul), for parity with them.
  static const bool ggml_exp = std::strcmp(cpu::simd_name(), "avx512vnni") == 0;
  struct {
    uint32_t n_tok, n, g_stride, g_offset, u_stride, u_offset, gelu, ggml_exp, round_out, quant, q_stride, fused_fma;
  } p{u32(n_tok), u32(n), u32(g_stride), u32(g_offset), u32(u_stride), u32(u_offset), gelu ? 1u : 0u,
      ggml_exp ? 1u : 0u, round_mode(fold.format), quant_mode(fold.format), act_words(fold.format, n),
      fused_fma_ ? 1u : 0u};
  Slot s = param_slot();
  put(s.data, p);
  dispatch(r, simple_pipeline("ffn_act"), {{0, &g}, {1, &u}, {2, &y}, {3, &or_dummy_out(fold.xq)}}, 4, s,
           ceil_div(n, 256), u32(n_tok));
}

void Ops::argmax(Recorder& r, const Buffer& x, int64_t rows, int64_t n, int64_t stride, const Buffer& out) {
  constexpr int64_t kChunk = 4096;  // values per first-stage workgroup: 32 of them for a 128k vocabulary
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const uint64_t part_bytes = uint64_t(rows * chunks) * 8;
  if (argmax_parts_.size() < part_bytes) {
    // Work already recorded may still use the smaller buffer: it stays alive with this Ops.
    if (argmax_parts_.valid()) retired_.push_back(std::move(argmax_parts_));
    argmax_parts_ = d_.create_buffer(std::max<uint64_t>(part_bytes, 4096), false, "argmax_parts");
  }
  const Pipeline& pl = simple_pipeline("argmax");
  for (uint32_t stage = 0; stage < 2; stage++) {
    struct {
      uint32_t rows, n, stride, chunk, n_chunks, stage;
    } p{u32(rows), u32(n), u32(stride), u32(kChunk), u32(chunks), stage};
    Slot s = param_slot();
    put(s.data, p);
    if (stage == 0)
      dispatch(r, pl, {{0, &x}, {1, &argmax_parts_}, {2, &dummy_out_}}, 3, s, u32(chunks), u32(rows));
    else
      dispatch(r, pl, {{0, &dummy_}, {1, &argmax_parts_}, {2, &out}}, 3, s, u32(rows));
  }
}

void Ops::softmax(Recorder& r, const Buffer& x, int64_t rows, int64_t n, int64_t stride) {
  struct {
    uint32_t rows, n, stride;
  } p{u32(rows), u32(n), u32(stride)};
  Slot s = param_slot();
  put(s.data, p);
  dispatch(r, simple_pipeline("softmax"), {{0, &x}}, 1, s, u32(rows));
}

}  // namespace hearth::webgpu
