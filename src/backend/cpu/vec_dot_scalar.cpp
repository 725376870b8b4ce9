// Scalar reference dot products: plain C++ that mirrors each block layout, used as the fallback table and
// as the reference the SIMD kernels are tested against. Integer sums are exact, as in ggml.
#include <algorithm>
#include <cmath>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/reference_quants.h"

namespace hearth::cpu {

using detail::bf16_to_float;
using detail::half_to_float;

namespace {

float dot_f32(int64_t n, const void* w, const void* x) {
  const float* a = static_cast<const float*>(w);
  const float* b = static_cast<const float*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float dot_f16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const uint16_t* b = static_cast<const uint16_t*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += half_to_float(a[i]) * half_to_float(b[i]);
  return sum;
}

float dot_bf16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const uint16_t* b = static_cast<const uint16_t*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_float(a[i]) * bf16_to_float(b[i]);
  return sum;
}

float dot_q4_0(int64_t n, const void* w, const void* x) {
  const BlockQ4_0* a = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < 16; ++j) {
      sumi += ((a[i].qs[j] & 0xF) - 8) * b[i].qs[j] + ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
    }
    sum += sumi * (half_to_float(a[i].d) * half_to_float(b[i].d));
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += a[i].qs[j] * b[i].qs[j];
    sum += sumi * (half_to_float(a[i].d) * half_to_float(b[i].d));
  }
  return sum;
}

// Q4_K/Q5_K share the structure: sum_j scale_j * <q_j, q8_j> - sum_j min_j * bsum_j.
template <bool kFiveBit, typename Block>
float dot_k4(int64_t n, const void* w, const void* x) {
  const Block* a = static_cast<const Block*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int sumi = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, a[i].scales, &sc, &m);
      const uint8_t* q = a[i].qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      const int8_t* q8 = b[i].qs + 32 * j;
      int s = 0;
      for (int l = 0; l < 32; ++l) {
        int v = (q[l] >> shift) & 0xF;
        if constexpr (kFiveBit) v += ((a[i].qh[l] >> j) & 1) << 4;
        s += v * q8[l];
      }
      sumi += sc * s;
      summ += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
    }
    sum += b[i].d * half_to_float(a[i].d) * sumi - b[i].d * half_to_float(a[i].dmin) * summ;
  }
  return sum;
}

float dot_q6_k(int64_t n, const void* w, const void* x) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    const uint8_t* ql = a[i].ql;
    const uint8_t* qh = a[i].qh;
    for (int h = 0; h < 2; ++h, ql += 64, qh += 32) {
      int8_t* o = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        o[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int sumi = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += q[16 * g + l] * b[i].qs[16 * g + l];
      sumi += a[i].scales[g] * s;
    }
    sum += half_to_float(a[i].d) * b[i].d * sumi;
  }
  return sum;
}

// Activations are quantized as llama.cpp's x86 build does (its quantize_row_q8_0 and the repacked-weight
// quantize_mat_q8_0): id = 127 / amax rather than 1 / d, and ties to even. The reference quantizer's
// 1 / d and roundf differ in the last bit often enough to flip a quant, which random-weight models amplify.
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i, src += kQK8_0) {
    float amax = 0;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    y[i].d = detail::float_to_half(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::nearbyint(src[j] * id));
  }
}
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  quantize_row_q8_k_ref(src, static_cast<BlockQ8_K*>(dst), n);
}

float dot_f16_rows(int64_t n, const uint16_t* a, const uint16_t* b) { return dot_f16(n, a, b); }
float dot_f32_rows(int64_t n, const float* a, const float* b) { return dot_f32(n, a, b); }

template <VecDotFn Dot>
TypeKernels pairwise() {
  TypeKernels k;
  k.vec_dot = Dot;
  k.dot_tile = dot_tile_by_pairs<Dot>;
  k.tile_rows = 4;
  k.tile_cols = 1;
  return k;
}

KernelTable make_scalar_table() {
  KernelTable t;
  t.name = "scalar";
  t.f32 = pairwise<dot_f32>();
  t.f16 = pairwise<dot_f16>();
  t.bf16 = pairwise<dot_bf16>();
  t.q4_0 = pairwise<dot_q4_0>();
  t.q8_0 = pairwise<dot_q8_0>();
  t.q4_k = pairwise<dot_k4<false, BlockQ4_K>>();
  t.q5_k = pairwise<dot_k4<true, BlockQ5_K>>();
  t.q6_k = pairwise<dot_q6_k>();
  t.quantize_q8_0 = quantize_q8_0;
  t.quantize_q8_k = quantize_q8_k;
  t.dot_f16 = dot_f16_rows;
  t.dot_f32 = dot_f32_rows;
  return t;
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table = make_scalar_table();
  return table;
}

}  // namespace hearth::cpu
