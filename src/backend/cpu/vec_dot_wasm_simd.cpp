// WebAssembly SIMD128 dot products (the browser build). Integer block sums are exact, and the float
// accumulation across blocks keeps the scalar table's order, so the quantized kernels give the scalar
// reference's results bit for bit; f32/f16 use four lanes, as the native SIMD tables reorder theirs.
#include <wasm_simd128.h>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/quant_blocks.h"

namespace hearth::cpu {

using detail::bf16_to_float;
using detail::half_to_float;

namespace {

// Sum of a[i] * b[i] over 16 signed bytes, as four i32 lanes.
inline v128_t dot_i8x16(v128_t a, v128_t b) {
  const v128_t lo = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_low_i8x16(b));
  const v128_t hi = wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_high_i8x16(b));
  return wasm_i32x4_add(lo, hi);
}

inline int hsum_i32x4(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) + wasm_i32x4_extract_lane(v, 2) +
         wasm_i32x4_extract_lane(v, 3);
}

inline float hsum_f32x4(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

float dot_f32(int64_t n, const void* w, const void* x) {
  const float* a = static_cast<const float*>(w);
  const float* b = static_cast<const float*>(x);
  v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  float sum = hsum_f32x4(wasm_f32x4_add(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// Eight halves to floats, four at a time (no f16 conversion instruction in SIMD128).
inline void halves_to_floats(const uint16_t* h, float* f) {
  for (int k = 0; k < 8; ++k) f[k] = half_to_float(h[k]);
}

float dot_f16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const uint16_t* b = static_cast<const uint16_t*>(x);
  v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
  alignas(16) float fa[8], fb[8];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    halves_to_floats(a + i, fa);
    halves_to_floats(b + i, fb);
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(fa), wasm_v128_load(fb)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(fa + 4), wasm_v128_load(fb + 4)));
  }
  float sum = hsum_f32x4(wasm_f32x4_add(acc0, acc1));
  for (; i < n; ++i) sum += half_to_float(a[i]) * half_to_float(b[i]);
  return sum;
}

// bf16 is the top half of an f32: widen by shifting into the high 16 bits.
float dot_bf16(int64_t n, const void* w, const void* x) {
  const uint16_t* a = static_cast<const uint16_t*>(w);
  const uint16_t* b = static_cast<const uint16_t*>(x);
  v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
    const v128_t a_lo = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(va), 16);
    const v128_t a_hi = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(va), 16);
    const v128_t b_lo = wasm_i32x4_shl(wasm_u32x4_extend_low_u16x8(vb), 16);
    const v128_t b_hi = wasm_i32x4_shl(wasm_u32x4_extend_high_u16x8(vb), 16);
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(a_lo, b_lo));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(a_hi, b_hi));
  }
  float sum = hsum_f32x4(wasm_f32x4_add(acc0, acc1));
  for (; i < n; ++i) sum += bf16_to_float(a[i]) * bf16_to_float(b[i]);
  return sum;
}

float dot_q4_0(int64_t n, const void* w, const void* x) {
  const BlockQ4_0* a = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  const v128_t low_mask = wasm_i8x16_splat(0x0F), eight = wasm_i8x16_splat(8);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const v128_t q = wasm_v128_load(a[i].qs);
    const v128_t lo = wasm_i8x16_sub(wasm_v128_and(q, low_mask), eight);
    const v128_t hi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);
    const v128_t s = wasm_i32x4_add(dot_i8x16(lo, wasm_v128_load(b[i].qs)), dot_i8x16(hi, wasm_v128_load(b[i].qs + 16)));
    sum += hsum_i32x4(s) * (half_to_float(a[i].d) * half_to_float(b[i].d));
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* w, const void* x) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const v128_t s = wasm_i32x4_add(dot_i8x16(wasm_v128_load(a[i].qs), wasm_v128_load(b[i].qs)),
                                    dot_i8x16(wasm_v128_load(a[i].qs + 16), wasm_v128_load(b[i].qs + 16)));
    sum += hsum_i32x4(s) * (half_to_float(a[i].d) * half_to_float(b[i].d));
  }
  return sum;
}

// Q4_K / Q5_K: sum_j scale_j * <q_j, q8_j> - sum_j min_j * bsum_j, with the 32-element sub-block dots
// in SIMD (quants are 0..31, so they fit signed bytes).
template <bool kFiveBit, typename Block>
float dot_k4(int64_t n, const void* w, const void* x) {
  const Block* a = static_cast<const Block*>(w);
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);
  const v128_t low_mask = wasm_i8x16_splat(0x0F), one = wasm_i8x16_splat(1);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int sumi = 0, summ = 0;
    v128_t qh0 = wasm_i8x16_splat(0), qh1 = wasm_i8x16_splat(0);
    if constexpr (kFiveBit) {
      qh0 = wasm_v128_load(a[i].qh);
      qh1 = wasm_v128_load(a[i].qh + 16);
    }
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      get_scale_min_k4(j, a[i].scales, &sc, &m);
      const uint8_t* q = a[i].qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      v128_t q0 = wasm_v128_and(wasm_u8x16_shr(wasm_v128_load(q), shift), low_mask);
      v128_t q1 = wasm_v128_and(wasm_u8x16_shr(wasm_v128_load(q + 16), shift), low_mask);
      if constexpr (kFiveBit) {
        q0 = wasm_v128_or(q0, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh0, j), one), 4));
        q1 = wasm_v128_or(q1, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(qh1, j), one), 4));
      }
      const int8_t* q8 = b[i].qs + 32 * j;
      const int s = hsum_i32x4(wasm_i32x4_add(dot_i8x16(q0, wasm_v128_load(q8)), dot_i8x16(q1, wasm_v128_load(q8 + 16))));
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
  const v128_t low_mask = wasm_i8x16_splat(0x0F), two_bits = wasm_i8x16_splat(3), bias = wasm_i8x16_splat(32);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int sumi = 0;
    const uint8_t* ql = a[i].ql;
    const uint8_t* qh = a[i].qh;
    const int8_t* q8 = b[i].qs;
    const int8_t* scales = a[i].scales;
    for (int h = 0; h < 2; ++h, ql += 64, qh += 32, q8 += 128, scales += 8) {
      // Four 32-element runs per half (see BlockQ6_K); each run is two groups of 16 with their own scale.
      for (int half16 = 0; half16 < 2; ++half16) {
        const int l = 16 * half16;
        const v128_t l0 = wasm_v128_load(ql + l), l1 = wasm_v128_load(ql + l + 32);
        const v128_t hb = wasm_v128_load(qh + l);
        const v128_t r0 = wasm_v128_or(wasm_v128_and(l0, low_mask), wasm_i8x16_shl(wasm_v128_and(hb, two_bits), 4));
        const v128_t r1 = wasm_v128_or(wasm_v128_and(l1, low_mask),
                                       wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hb, 2), two_bits), 4));
        const v128_t r2 = wasm_v128_or(wasm_u8x16_shr(l0, 4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hb, 4), two_bits), 4));
        const v128_t r3 = wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_i8x16_shl(wasm_u8x16_shr(hb, 6), 4));
        const v128_t runs[4] = {r0, r1, r2, r3};
        for (int r = 0; r < 4; ++r) {
          const int offset = 32 * r + l;   // element index within the half
          const v128_t q = wasm_i8x16_sub(runs[r], bias);
          sumi += scales[offset / 16] * hsum_i32x4(dot_i8x16(q, wasm_v128_load(q8 + offset)));
        }
      }
    }
    sum += half_to_float(a[i].d) * b[i].d * sumi;
  }
  return sum;
}

template <VecDotFn Dot>
TypeKernels pairwise() {
  TypeKernels k;
  k.vec_dot = Dot;
  k.dot_tile = dot_tile_by_pairs<Dot>;
  k.tile_rows = 4;
  k.tile_cols = 1;
  return k;
}

float dot_f16_rows(int64_t n, const uint16_t* a, const uint16_t* b) { return dot_f16(n, a, b); }
float dot_f32_rows(int64_t n, const float* a, const float* b) { return dot_f32(n, a, b); }

KernelTable make_wasm_table() {
  KernelTable t = scalar_kernels();   // activation quantizers stay the reference ones
  t.name = "wasm-simd128";
  t.f32 = pairwise<dot_f32>();
  t.f16 = pairwise<dot_f16>();
  t.bf16 = pairwise<dot_bf16>();
  t.q4_0 = pairwise<dot_q4_0>();
  t.q8_0 = pairwise<dot_q8_0>();
  t.q4_k = pairwise<dot_k4<false, BlockQ4_K>>();
  t.q5_k = pairwise<dot_k4<true, BlockQ5_K>>();
  t.q6_k = pairwise<dot_q6_k>();
  t.dot_f16 = dot_f16_rows;
  t.dot_f32 = dot_f32_rows;
  return t;
}

}  // namespace

const KernelTable& wasm_simd128_kernels() {
  static const KernelTable table = make_wasm_table();
  return table;
}

}  // namespace hearth::cpu
