// AVX-512 (F, BW, VL, DQ) + VNNI kernels, following llama.cpp's AVX-512 (zen4) build: its summation orders
// are reproduced operation for operation so logits track llama.cpp to the last bit where the rest of the
// model does. Compiled alone with the matching -m flags; dispatch.cpp calls avx512_kernels() only after
// cpuid agrees (BF16 additionally needs avx512bf16, checked here).
//
// A zmm holds 64 quants: two Q4_0/Q8_0 blocks or one 64-element chunk of a K-quant super-block, so the
// activation bytes line up with the weight bytes. vpdpbusd (u8 x s8 -> s32) does the Q4_0/Q8_0 dots in
// one instruction (offsets folded into the accumulator's start value). The K-quants use the AVX2 kernels,
// whose float order is llama.cpp's (512-bit K-quant tiles summed in another order and drifted on fixtures).
#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/quant_blocks.h"

namespace hearth::cpu {

namespace {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

using TileImpl = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys);

template <typename K, size_t... I>
constexpr std::array<TileImpl, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
  return {&K::template run<static_cast<int>(I / K::kCols) + 1, static_cast<int>(I % K::kCols) + 1>...};
}

template <typename K>
void dot_tile(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nc, float* y, int64_t ys) {
  static constexpr auto tiles = make_tiles<K>(std::make_index_sequence<K::kRows * K::kCols>());
  tiles[(nr - 1) * K::kCols + (nc - 1)](n, static_cast<const uint8_t*>(w), ws, static_cast<const uint8_t*>(x), xs, y,
                                        ys);
}

template <typename K>
float vec_dot(int64_t n, const void* w, const void* x) {
  float y;
  K::template run<1, 1>(n, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(x), 0, &y, 1);
  return y;
}

template <typename K>
TypeKernels kernels() {
  TypeKernels k;
  k.vec_dot = vec_dot<K>;
  k.dot_tile = dot_tile<K>;
  k.tile_rows = K::kRows;
  k.tile_cols = K::kCols;
  return k;
}

inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_zextsi256_si512(lo), hi, 1); }

// ---------------------------------------------------------------- Q4_0 / Q8_0 x Q8_0, two blocks per step

// 64 weight quants of blocks i, i+1 in activation order. Q4_0: unsigned nibbles (0..15); Q8_0: signed.
inline __m512i load_pair(const BlockQ4_0* b) {
  const __m256i raw = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[1].qs)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[0].qs)));
  const __m512i z = join(raw, _mm256_srli_epi16(raw, 4));  // [lo0 lo1 hi0 hi1] in 128-bit lanes
  return _mm512_and_si512(_mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0)), _mm512_set1_epi8(0x0F));
}
inline __m512i load_pair(const BlockQ8_0* b) {
  return join(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[0].qs)),
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[1].qs)));
}

// llama.cpp's x86 order for the float part: per block, 8 int32 lanes (4 products each) become floats and
// are FMA'd with d_w * d_x into an 8-lane accumulator, block after block, then summed as hsum_float_8.
// The integer lanes are exact; keeping this order keeps the float result bit-equal to llama.cpp's and to
// our AVX2 table (a 16-lane accumulator measured ~1e-7 apart, enough to flip a later activation quant).
inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <typename WBlock>
struct Q0Kernel {
  static constexpr bool kQ4 = std::is_same_v<WBlock, BlockQ4_0>;
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i k8 = _mm512_set1_epi8(8);
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
      __m512i xq[C], base[C];
      float xd0[C], xd1[C];
      for (int c = 0; c < C; ++c) {
        const BlockQ8_0* xb = reinterpret_cast<const BlockQ8_0*>(x + c * xs) + i;
        xq[c] = load_pair(xb);
        xd0[c] = half_to_float(xb[0].d);
        xd1[c] = half_to_float(xb[1].d);
        if constexpr (kQ4) {
          // Σ (q - 8) x = Σ q x - 8 Σ x: start each accumulator at -8 Σ x.
          base[c] = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), k8, xq[c]));
        } else {
          xq[c] = _mm512_xor_si512(xq[c], k80);  // x + 128 as unsigned
        }
      }
      for (int r = 0; r < R; ++r) {
        const WBlock* wb = reinterpret_cast<const WBlock*>(w + r * ws) + i;
        const __m512i q = load_pair(wb);
        const float wd0 = half_to_float(wb[0].d), wd1 = half_to_float(wb[1].d);
        __m512i wbase;
        if constexpr (!kQ4) {
          // Σ (x + 128) w - 128 Σ w = Σ x w.
          wbase = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), k80, q));
        }
        for (int c = 0; c < C; ++c) {
          __m512i s;
          if constexpr (kQ4) {
            s = _mm512_dpbusd_epi32(base[c], q, xq[c]);
          } else {
            s = _mm512_dpbusd_epi32(wbase, xq[c], q);
          }
          const __m512 f = _mm512_cvtepi32_ps(s);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(wd0 * xd0[c]), _mm512_castps512_ps256(f), acc[r][c]);
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(wd1 * xd1[c]), _mm512_extractf32x8_ps(f, 1), acc[r][c]);
        }
      }
    }
    if (i < nb) {  // odd block count: last block through 256-bit VNNI
      for (int r = 0; r < R; ++r) {
        const WBlock& wb = reinterpret_cast<const WBlock*>(w + r * ws)[i];
        __m256i q;
        if constexpr (kQ4) {
          const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.qs));
          q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
        } else {
          q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qs));
        }
        for (int c = 0; c < C; ++c) {
          const BlockQ8_0& xb = reinterpret_cast<const BlockQ8_0*>(x + c * xs)[i];
          const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs));
          __m256i s;
          if constexpr (kQ4) {
            const __m256i b = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), xv);
            s = _mm256_dpbusd_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), b), q, xv);
          } else {
            const __m256i k = _mm256_set1_epi8(static_cast<char>(0x80));
            const __m256i b = _mm256_dpbusd_epi32(_mm256_setzero_si256(), k, q);
            s = _mm256_dpbusd_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), b), _mm256_xor_si256(xv, k), q);
          }
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(wb.d) * half_to_float(xb.d)),
                                      _mm256_cvtepi32_ps(s), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum256(acc[r][c]);
  }
};

// ---------------------------------------------------------------- F16 / BF16: llama.cpp's zen4 orders

// _mm512_reduce_add_ps as GCC expands it (llama.cpp's prebuilt x86 libraries are GCC builds): halves,
// then quarters, then lanes {0,2}+{1,3}. Written out so this file's compiler cannot choose another tree.
inline float reduce512(__m512 v) {
  return hsum256(_mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v)));
}

inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }

// ggml_vec_dot_f16 / ggml_vec_dot_f32 (one token): four 16-lane FMA accumulators over 64-element steps,
// folded 0+2, 1+3, then 0+1, and reduced. The n % 64 tail: F16 adds float products in double; F32 keeps
// a float sum, with the FMA GCC contracts `sumf += x[i]*y[i]` into.
template <typename T, int R>
void float_token_rows(int64_t n, const uint8_t* w, size_t ws, const T* x, float* y) {
  __m512 sum[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) sum[r][j] = _mm512_setzero_ps();
  const int64_t np = n & ~int64_t{63};
  for (int64_t i = 0; i < np; i += 64) {
    for (int j = 0; j < 4; ++j) {
      const __m512 xv = load16(x + i + 16 * j);
      for (int r = 0; r < R; ++r) {
        sum[r][j] = _mm512_fmadd_ps(load16(reinterpret_cast<const T*>(w + r * ws) + i + 16 * j), xv, sum[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m512 s = _mm512_add_ps(_mm512_add_ps(sum[r][0], sum[r][2]), _mm512_add_ps(sum[r][1], sum[r][3]));
    const T* wr = reinterpret_cast<const T*>(w + r * ws);
    if constexpr (std::is_same_v<T, uint16_t>) {
      double acc = reduce512(s);
      for (int64_t i = np; i < n; ++i) acc += static_cast<double>(half_to_float(wr[i]) * half_to_float(x[i]));
      y[r] = static_cast<float>(acc);
    } else {
      float acc = reduce512(s);
      for (int64_t i = np; i < n; ++i) acc = std::fma(wr[i], x[i], acc);
      y[r] = acc;
    }
  }
}

template <typename T>
struct FloatTokenKernel {
  static constexpr int kRows = 4;
  static constexpr int kCols = 1;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    for (int c = 0; c < C; ++c) float_token_rows<T, R>(n, w, ws, reinterpret_cast<const T*>(x + c * xs), y + c * ys);
  }
};

// llamafile's tinyBLAS<16, __m512> (batches): one 16-lane FMA accumulator per output over 16-element steps,
// then reduced. tinyBLAS declines when n % 16 != 0 and ggml falls back to the single-token dot.
template <typename T>
struct FloatBatchKernel {
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    if (n % 16 != 0) {
      FloatTokenKernel<T>::template run<R, C>(n, w, ws, x, xs, y, ys);
      return;
    }
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
      __m512 xv[C];
      for (int c = 0; c < C; ++c) xv[c] = load16(reinterpret_cast<const T*>(x + c * xs) + i);
      for (int r = 0; r < R; ++r) {
        const __m512 wv = load16(reinterpret_cast<const T*>(w + r * ws) + i);
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = reduce512(acc[r][c]);
  }
};

template <typename T>
TypeKernels float_kernels() {
  TypeKernels k = kernels<FloatBatchKernel<T>>();
  k.vec_dot = vec_dot<FloatTokenKernel<T>>;
  k.token_tile = dot_tile<FloatTokenKernel<T>>;
  k.token_tile_rows = FloatTokenKernel<T>::kRows;
  return k;
}

// BF16 through vdpbf16ps, as llama.cpp's AVX512-BF16 builds do (the instruction's own rounding, so only the
// same instruction reproduces it). Only used when cpuid reports avx512bf16.
#define HEARTH_BF16_TARGET __attribute__((target("avx512bf16")))

HEARTH_BF16_TARGET inline __m512 dp_bf16(__m512 acc, const uint16_t* a, const uint16_t* b) {
  return _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_ps(a), (__m512bh)_mm512_loadu_ps(b));
}

// ggml_vec_dot_bf16: accumulators for the two 32-element halves of each 64-element step, each reduced and
// added in double, then the tail in double.
template <int R>
HEARTH_BF16_TARGET void bf16_token_rows(int64_t n, const uint8_t* w, size_t ws, const uint16_t* x, float* y) {
  __m512 c1[R], c2[R];
  for (int r = 0; r < R; ++r) c1[r] = c2[r] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int r = 0; r < R; ++r) {
      const uint16_t* wr = reinterpret_cast<const uint16_t*>(w + r * ws);
      c1[r] = dp_bf16(c1[r], wr + i, x + i);
      c2[r] = dp_bf16(c2[r], wr + i + 32, x + i + 32);
    }
  }
  for (int r = 0; r < R; ++r) {
    double acc = reduce512(c1[r]);
    acc += reduce512(c2[r]);
    const uint16_t* wr = reinterpret_cast<const uint16_t*>(w + r * ws);
    for (int64_t k = i; k < n; ++k) acc += static_cast<double>(detail::bf16_to_float(wr[k]) * detail::bf16_to_float(x[k]));
    y[r] = static_cast<float>(acc);
  }
}

struct Bf16TokenKernel {
  static constexpr int kRows = 4;
  static constexpr int kCols = 1;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    for (int c = 0; c < C; ++c) bf16_token_rows<R>(n, w, ws, reinterpret_cast<const uint16_t*>(x + c * xs), y + c * ys);
  }
};

// tinyBLAS<32, __m512, __m512bh> (batches): one vdpbf16ps accumulator per output over 32-element steps.
template <int R, int C>
HEARTH_BF16_TARGET void bf16_batch(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y,
                                   int64_t ys) {
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 32) {
    __m512bh xv[C];
    for (int c = 0; c < C; ++c) xv[c] = (__m512bh)_mm512_loadu_ps(reinterpret_cast<const uint16_t*>(x + c * xs) + i);
    for (int r = 0; r < R; ++r) {
      const __m512bh wv = (__m512bh)_mm512_loadu_ps(reinterpret_cast<const uint16_t*>(w + r * ws) + i);
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, xv[c]);
    }
  }
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < R; ++r) y[c * ys + r] = reduce512(acc[r][c]);
}

struct Bf16BatchKernel {
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    if (n % 32 != 0) {
      Bf16TokenKernel::run<R, C>(n, w, ws, x, xs, y, ys);
      return;
    }
    bf16_batch<R, C>(n, w, ws, x, xs, y, ys);
  }
};

// ---------------------------------------------------------------- Q4_0 in llama.cpp's repacked order

// On x86 llama.cpp repacks Q4_0 matrices whose row count is a multiple of 8 (q4_0_8x8) and its gemv/gemm sum
// each output as one float chain over blocks: acc = fma(float(exact block integer dot), d_w * d_x, acc).
// Eight rows share a tile; the integer dots of row pairs come from one vpdpbusd each and are reduced to one
// lane per row (exact integer adds, any order).
constexpr int kQ4GroupRows = 8;
constexpr int kQ4GroupCols = 4;

// Low then high nibbles of one Q4_0 block as 32 unsigned bytes (activation order).
inline __m256i q4_block_bytes(const BlockQ4_0& b) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

template <int C>
void q4_0_group(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  const int64_t nb = n / 32;
  const __m512i k8 = _mm512_set1_epi8(8);
  for (int64_t i = 0; i < nb; ++i) {
    __m512i q[4];  // rows 2p (low half) and 2p+1 (high half)
    alignas(16) uint16_t dh[8];
    for (int p = 0; p < 4; ++p) {
      const BlockQ4_0& b0 = reinterpret_cast<const BlockQ4_0*>(w + (2 * p) * ws)[i];
      const BlockQ4_0& b1 = reinterpret_cast<const BlockQ4_0*>(w + (2 * p + 1) * ws)[i];
      q[p] = join(q4_block_bytes(b0), q4_block_bytes(b1));
      // Lane order after the reduction below: rows 0 2 4 6 1 3 5 7.
      dh[p] = b0.d;
      dh[4 + p] = b1.d;
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dh)));
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0& xb = reinterpret_cast<const BlockQ8_0*>(x + c * xs)[i];
      const __m512i xv = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb.qs)));
      // Σ (q - 8) x = Σ q x - 8 Σ x: each accumulator starts at -8 Σ x.
      const __m512i base = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), k8, xv));
      __m512i s[4];
      for (int p = 0; p < 4; ++p) s[p] = _mm512_dpbusd_epi32(base, q[p], xv);
      // Per 128-bit lane: [Σ s0, Σ s1, Σ s2, Σ s3], then fold lanes 0+1 (even rows) and 2+3 (odd rows).
      const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[0], s[1]), _mm512_unpackhi_epi32(s[0], s[1]));
      const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2], s[3]), _mm512_unpackhi_epi32(s[2], s[3]));
      const __m512i u = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
      const __m512i e = _mm512_shuffle_i64x2(u, u, _MM_SHUFFLE(3, 1, 2, 0));
      const __m256i rows = _mm256_add_epi32(_mm512_castsi512_si256(e), _mm512_extracti64x4_epi64(e, 1));
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(half_to_float(xb.d)));
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(rows), scale, acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[c]);
    float* yc = y + c * ys;
    for (int p = 0; p < 4; ++p) {
      yc[2 * p] = lanes[p];
      yc[2 * p + 1] = lanes[4 + p];
    }
  }
}

void q4_0_group_tile(int64_t n, const void* w, size_t ws, const void* x, size_t xs, int nc, float* y, int64_t ys) {
  using Fn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, int64_t);
  static constexpr Fn tiles[kQ4GroupCols] = {q4_0_group<1>, q4_0_group<2>, q4_0_group<3>, q4_0_group<4>};
  tiles[nc - 1](n, static_cast<const uint8_t*>(w), ws, static_cast<const uint8_t*>(x), xs, y, ys);
}

KernelTable make_avx512_table() {
  const KernelTable& avx2 = avx2_kernels();
  KernelTable t = avx2;  // float types and activation quantizers
  t.name = "avx512vnni";
  t.q4_0 = kernels<Q0Kernel<BlockQ4_0>>();
  t.q4_0.group_tile = q4_0_group_tile;
  t.q4_0.interleave = kQ4GroupRows;
  t.q4_0.group_cols = kQ4GroupCols;
  t.f32 = float_kernels<float>();
  t.f16 = float_kernels<uint16_t>();
  if (__builtin_cpu_supports("avx512bf16")) {
    t.bf16 = kernels<Bf16BatchKernel>();
    t.bf16.vec_dot = vec_dot<Bf16TokenKernel>;
    t.bf16.token_tile = dot_tile<Bf16TokenKernel>;
    t.bf16.token_tile_rows = Bf16TokenKernel::kRows;
  }
  t.q8_0 = kernels<Q0Kernel<BlockQ8_0>>();
  // The K-quants keep the AVX2 kernels' float order (llama.cpp's): the 512-bit tiles below sum in another
  // order, and on random-weight fixtures that ~1e-7 difference flipped activation quants (rel L2 0.04).
  t.q6_k = avx2.q6_k;
  t.q4_k = avx2.q4_k;
  t.q5_k = avx2.q5_k;
  return t;
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table = make_avx512_table();
  return table;
}

}  // namespace hearth::cpu
