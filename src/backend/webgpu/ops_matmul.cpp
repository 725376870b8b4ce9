// Prefill: the matvec of many tokens as tiled matmul kernels, where the matvec kernels re-read weights and
// activations for every 8 tokens. Quantized weights take matmul_int8.wgsl (both operands staged as bytes,
// llama.cpp's order: close to the CPU, not bit-equal; H100 run 15: prefill +37% on Q4_K_M, +65% on Q8_0
// over the others) or, with HEARTH_PREFILL_MATMUL=exact, matmul_k.wgsl / matmul_q0.wgsl, which keep each
// output's float operations in matvec's order and so stay bit-equal to the CPU backend. Float weights take
// matmul_float.wgsl.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "backend/webgpu/kernel_source.h"
#include "backend/webgpu/ops.h"
#include "hearth/error.h"

namespace hearth::webgpu {

namespace {

constexpr int64_t kMinTokens = 16;
constexpr int64_t kSoftwareMaxMatvecTokens = 64;

uint32_t to_u32(int64_t v) {
  if (v < 0 || v > int64_t(UINT32_MAX)) throw Error("WebGPU: value " + std::to_string(v) + " overflows a kernel parameter");
  return uint32_t(v);
}

// A kernel's source and its tile: rows and tokens per workgroup.
struct MatmulKernel {
  std::string name;
  std::string file;
  KernelVars vars;
  int64_t tile_rows = 0, tile_tokens = 0;
};

// Per thread R rows x T tokens; TG token groups per workgroup of 256 threads (LANES threads per output).
MatmulKernel quantized_kernel(TensorType t, int64_t rows, const char* fma) {
  const bool kq = t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K;
  // matvec_q0.wgsl's orders: Q4_0 with rows a multiple of 8 as one chain per output, else eight lanes.
  const int lanes = (t == TensorType::Q4_0 && rows % 8 == 0) ? 1 : 8;
  const int r = 4, tok = lanes == 1 ? 4 : 8, tg = lanes == 1 ? 8 : 4;
  MatmulKernel k;
  k.tile_rows = int64_t(256 / lanes / tg) * r;
  k.tile_tokens = int64_t(tg) * tok;
  k.vars = {{"R", std::to_string(r)}, {"T", std::to_string(tok)}, {"TG", std::to_string(tg)}, {"FMA", fma}};
  if (kq) {
    const std::string lane_file = t == TensorType::Q4_K ? "matmul_k_q4_k" : t == TensorType::Q5_K ? "matmul_k_q5_k" : "matmul_k_q6_k";
    k.file = "matmul_k.wgsl";
    k.vars["LANE_FILE"] = lane_file;
    k.name = "matmul." + lane_file;
  } else {
    const bool q4 = t == TensorType::Q4_0;
    k.file = "matmul_q0.wgsl";
    k.vars["BLOCK_BYTES"] = q4 ? "18" : "34";
    k.vars["Q4"] = q4 ? "true" : "false";
    k.vars["LANES"] = std::to_string(lanes);
    k.name = std::string("matmul_q0.") + (q4 ? "q4_0" : "q8_0") + ".lanes" + std::to_string(lanes);
  }
  k.name += ".r" + std::to_string(r) + ".t" + std::to_string(tok) + ".tg" + std::to_string(tg) + "." + fma;
  return k;
}

// matmul_int8.wgsl: 16 rt rows x 64 tokens a workgroup, K in steps of `subs` sub-blocks, staged by the
// weight type's file (Ops::int8_tile).
MatmulKernel int8_kernel(TensorType t, int rt, int subs, bool prefetch, bool float_mins, bool halves) {
  std::string stage = "matmul_int8_";
  stage.append(tensor_type_name(t));
  std::transform(stage.begin(), stage.end(), stage.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return {stage + ".rt" + std::to_string(rt) + ".s" + std::to_string(subs) + (prefetch ? ".pre" : "") +
              (float_mins ? ".fmins" : "") + (halves ? ".halves" : ""),
          "matmul_int8.wgsl",
          {{"STAGE", stage}, {"RT", std::to_string(rt)}, {"SUBS", std::to_string(subs)},
           {"PREFETCH", prefetch ? "true" : "false"}, {"FLOAT_MINS", float_mins ? "true" : "false"},
           {"HALVES", halves ? "true" : "false"}},
          16 * rt,
          64};
}

// Workgroup memory of matmul_int8.wgsl's tile (its var<workgroup> arrays).
int64_t int8_tile_bytes(int rt, int subs) {
  const int64_t rows = 16 * rt, toks = 64, rs = 2 * subs + 1;
  return rows * rs * 16 + toks * rs * 16 + rows * subs * (16 + 8) + toks * subs * 8;
}

// matmul_float.wgsl: 16 rt rows x 64 tokens a workgroup (rt 4 or 8: Ops::float_rows); F16
// halves by unpack2x16float where the adapter converts them exactly.
MatmulKernel float_kernel(TensorType t, int rt, bool prefetch, bool unpack_half) {
  const char* weight = t == TensorType::F32    ? "weight_f32"
                       : t == TensorType::BF16 ? "weight_bf16"
                       : unpack_half           ? "weight_f16_unpacked"
                                               : "weight_f16";
  return {std::string("matmul_float.") + weight + ".rt" + std::to_string(rt) + (prefetch ? ".pre" : ""),
          "matmul_float.wgsl",
          {{"WEIGHT", weight}, {"RT", std::to_string(rt)}, {"PREFETCH", prefetch ? "true" : "false"}},
          16 * rt,
          64};
}

}  // namespace

bool Ops::matmul(Recorder& r, const GpuWeight& w, const Buffer& x, int64_t n_tok, int64_t x_stride, const Buffer& y,
                 int64_t y_stride, int64_t y_offset, const Buffer* bias, float softcap, bool accumulate) {
  // Below this, most of a tile's tokens would idle and its wide row tiles leave few workgroups (batched
  // decode of a few sequences, the logits of a prefill's last tokens): the matvec kernels' 8-token tile
  // serves those. A first guess, to be measured on the H100.
  if (n_tok < kMinTokens) return false;
  // Software adapters (SwiftShader) run the thread-per-row matvec kernels, which have no barrier, faster
  // than the tiled kernels up to prompt sizes (a layer of the grid per token).
  if (software_ && n_tok <= kSoftwareMaxMatvecTokens) return false;
  const bool plain = w.type == TensorType::F32 || w.type == TensorType::F16 || w.type == TensorType::BF16;
  // The measuring settings, read once a process.
  static const bool int8_prefetch = !std::getenv("HEARTH_INT8_NO_PREFETCH");
  static const bool float_prefetch = !std::getenv("HEARTH_FLOAT_NO_PREFETCH");

  int rt = int8_tile_.rt, subs = int8_tile_.subs;
  if (int8_tile_bytes(rt, subs) > int64_t(d_.info().max_workgroup_storage_bytes)) rt = 4, subs = 2;
  const MatmulKernel k = plain         ? float_kernel(w.type, float_rows_, float_prefetch, exact_unpack_half_)
                        : int8_matmul_ ? int8_kernel(w.type, rt, subs, int8_prefetch, int8_tile_.float_mins, int8_tile_.halves)
                                       : quantized_kernel(w.type, w.rows, fused_fma_ ? "fma" : "fma_exact");
  const Pipeline& pl = cached_pipeline(k.name, [&] { return kernel_source(k.file, k.vars); });
  const ActFormat af = act_format(w.type);
  const uint32_t xs = af == ActFormat::F32 ? to_u32(x_stride) : act_words(af, w.cols);
  const uint32_t max_dim = d_.info().max_workgroups_per_dimension;
  const uint32_t token_tiles = to_u32((n_tok + k.tile_tokens - 1) / k.tile_tokens);
  if (token_tiles > max_dim) throw Error("WebGPU: " + std::to_string(n_tok) + " tokens in one matmul are too many");
  dispatch_matvec(r, pl, w, {x, to_u32(n_tok), xs, y, y_stride, y_offset, bias, softcap, accumulate}, k.tile_rows,
                  token_tiles);
  return true;
}

}  // namespace hearth::webgpu
