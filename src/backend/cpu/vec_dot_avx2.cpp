// AVX2 + FMA + F16C kernels. This file alone is compiled with -mavx2 -mfma -mf16c; dispatch.cpp only
// calls avx2_kernels() after cpuid says the CPU has them.
//
// Every kernel is a register tile: R weight rows x C activation rows share each loaded block, so the
// same code is the decode matvec (C = 1) and the prefill matmul (C > 1). Integer dot products use the
// maddubs (u8 x s8) instruction; the integer sums equal the scalar kernels' exactly.
#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/quant_blocks.h"

namespace hearth::cpu {

namespace {

// F16C conversion: one instruction instead of the portable bit manipulation.
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hsum(__m128 s) {
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Signed bytes a . b in 8 int32 lanes (each lane sums 4 products). |a| is unsigned for maddubs and the
// sign moves onto b; b must not hold -128 (our activation quantizers never produce it).
inline __m256i dot_i8(__m256i abs_a, __m256i a, __m256i b) {
  const __m256i p16 = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(b, a));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

using TileImpl = void (*)(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys);

// Picks the compile-time tile K::run<nr, nc> for a runtime remainder shape.
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

// ---------------------------------------------------------------- Q4_0 x Q8_0 and Q8_0 x Q8_0

inline __m256i load_quants(const BlockQ4_0& b) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);  // high nibbles -> elements 16..31
  return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

inline __m256i load_quants(const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); }

template <typename WBlock>
struct Q0Kernel {
  static constexpr int kRows = 2;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    for (int64_t i = 0; i < nb; ++i) {
      float dx[C];
      for (int c = 0; c < C; ++c) dx[c] = half_to_float(reinterpret_cast<const BlockQ8_0*>(x + c * xs)[i].d);
      for (int r = 0; r < R; ++r) {
        const WBlock& wb = reinterpret_cast<const WBlock*>(w + r * ws)[i];
        const __m256i q = load_quants(wb);
        const __m256i aq = _mm256_sign_epi8(q, q);
        const float dw = half_to_float(wb.d);
        for (int c = 0; c < C; ++c) {
          const __m256i xv = load_quants(reinterpret_cast<const BlockQ8_0*>(x + c * xs)[i]);
          const __m256 s = _mm256_cvtepi32_ps(dot_i8(aq, q, xv));
          acc[r][c] = _mm256_fmadd_ps(s, _mm256_set1_ps(dw * dx[c]), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum(acc[r][c]);
  }
};

using Q4_0Kernel = Q0Kernel<BlockQ4_0>;
using Q8_0Kernel = Q0Kernel<BlockQ8_0>;

// llama.cpp repacks Q4_0 matrices whose row count is a multiple of 8 (q4_0_8x8, AVX2 gemv/gemm) and sums
// each output as one float chain over blocks: acc = fma(float(exact block integer dot), d_w * d_x, acc).
// Eight rows per tile: each row's block dot comes out as 8 int32 lanes, hadd-reduced to one lane per row.
constexpr int kQ4GroupRows = 8;
constexpr int kQ4GroupCols = 4;

template <int C>
void q4_0_group(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
  __m256 acc[C];
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  const int64_t nb = n / 32;
  for (int64_t i = 0; i < nb; ++i) {
    __m256i q[8], aq[8];
    alignas(16) uint16_t dh[8];
    for (int r = 0; r < 8; ++r) {
      const BlockQ4_0& b = reinterpret_cast<const BlockQ4_0*>(w + r * ws)[i];
      q[r] = load_quants(b);
      aq[r] = _mm256_sign_epi8(q[r], q[r]);
      dh[r] = b.d;
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dh)));
    for (int c = 0; c < C; ++c) {
      const BlockQ8_0& xb = reinterpret_cast<const BlockQ8_0*>(x + c * xs)[i];
      const __m256i xv = load_quants(xb);
      __m256i s[8];
      for (int r = 0; r < 8; ++r) s[r] = dot_i8(aq[r], q[r], xv);
      // [Σ s0 .. Σ s3 | Σ s4 .. Σ s7] after three hadd levels and a lane swap (exact integer adds).
      const __m256i h01 = _mm256_hadd_epi32(s[0], s[1]), h23 = _mm256_hadd_epi32(s[2], s[3]);
      const __m256i h45 = _mm256_hadd_epi32(s[4], s[5]), h67 = _mm256_hadd_epi32(s[6], s[7]);
      const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
      const __m256i rows = _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                                            _mm256_permute2x128_si256(h0123, h4567, 0x31));
      const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(half_to_float(xb.d)));
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(rows), scale, acc[c]);
    }
  }
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(y + c * ys, acc[c]);
}

void q4_0_group_tile(int64_t n, const void* w, size_t ws, const void* x, size_t xs, int nc, float* y, int64_t ys) {
  using Fn = void (*)(int64_t, const uint8_t*, size_t, const uint8_t*, size_t, float*, int64_t);
  static constexpr Fn tiles[kQ4GroupCols] = {q4_0_group<1>, q4_0_group<2>, q4_0_group<3>, q4_0_group<4>};
  tiles[nc - 1](n, static_cast<const uint8_t*>(w), ws, static_cast<const uint8_t*>(x), xs, y, ys);
}

// ---------------------------------------------------------------- Q4_K / Q5_K x Q8_K

// The 8 six-bit scales (low 128 bits, as int16) and 8 mins (high 128 bits) of a Q4_K/Q5_K block.
inline __m256i k4_scales_mins(const uint8_t* s) {
  uint32_t u[4];
  std::memcpy(u, s, 12);
  constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  // u[0], u[1] become scales 0-3 / 4-7 and u[2], u[3] mins 0-3 / 4-7 (bytes).
  u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = u[1] & kmask1;
  u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
  u[2] = uaux;
  u[0] &= kmask1;
  return _mm256_cvtepu8_epi16(
      _mm_set_epi32(static_cast<int>(u[3]), static_cast<int>(u[2]), static_cast<int>(u[1]), static_cast<int>(u[0])));
}

template <bool kFiveBit>
struct K4Kernel {
  using Block = std::conditional_t<kFiveBit, BlockQ5_K, BlockQ4_K>;
  static constexpr int kRows = 2;
  static constexpr int kCols = 2;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    __m128 acc_m[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc_m[r][c] = _mm_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const int64_t nb = n / kQK_K;
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ8_K* xb[C];
      for (int c = 0; c < C; ++c) xb[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
      __m256i sumi[R][C];
      __m256i sc[R];  // scales as int16 in both 128-bit lanes
      for (int r = 0; r < R; ++r) {
        const Block& wb = reinterpret_cast<const Block*>(w + r * ws)[i];
        const __m256i sm = k4_scales_mins(wb.scales);
        sc[r] = _mm256_permute2x128_si256(sm, sm, 0x00);
        const __m128i mins = _mm256_extracti128_si256(sm, 1);
        const float dmin = half_to_float(wb.dmin);
        for (int c = 0; c < C; ++c) {
          // Σ_j min_j * (bsums[2j] + bsums[2j+1]) into its own 4-lane accumulator, as llama.cpp does.
          const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->bsums));
          const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
          const __m128i pm = _mm_madd_epi16(mins, pair);
          acc_m[r][c] = _mm_fmadd_ps(_mm_set1_ps(-xb[c]->d * dmin), _mm_cvtepi32_ps(pm), acc_m[r][c]);
          sumi[r][c] = _mm256_setzero_si256();
        }
      }
      for (int j = 0; j < 4; ++j) {
        for (int r = 0; r < R; ++r) {
          const Block& wb = reinterpret_cast<const Block*>(w + r * ws)[i];
          const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qs + 32 * j));
          __m256i ql = _mm256_and_si256(bits, m4);
          __m256i qh = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
          if constexpr (kFiveBit) {
            const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh));
            const __m256i one = _mm256_set1_epi8(1);
            ql = _mm256_or_si256(ql, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4));
            qh = _mm256_or_si256(qh, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4));
          }
          const __m256i sl =
              _mm256_shuffle_epi8(sc[r], _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * j))));
          const __m256i sh =
              _mm256_shuffle_epi8(sc[r], _mm256_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * (2 * j + 1))));
          for (int c = 0; c < C; ++c) {
            const __m256i xl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->qs + 64 * j));
            const __m256i xh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->qs + 64 * j + 32));
            const __m256i pl = _mm256_madd_epi16(_mm256_maddubs_epi16(ql, xl), sl);
            const __m256i ph = _mm256_madd_epi16(_mm256_maddubs_epi16(qh, xh), sh);
            sumi[r][c] = _mm256_add_epi32(sumi[r][c], _mm256_add_epi32(pl, ph));
          }
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = half_to_float(reinterpret_cast<const Block*>(w + r * ws)[i].d);
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(xb[c]->d * d), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum(acc[r][c]) + hsum(acc_m[r][c]);
  }
};

// ---------------------------------------------------------------- Q6_K x Q8_K

struct Q6KKernel {
  static constexpr int kRows = 2;
  static constexpr int kCols = 2;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m3 = _mm256_set1_epi8(3);
    const int64_t nb = n / kQK_K;
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ8_K* xb[C];
      for (int c = 0; c < C; ++c) xb[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
      __m256i sumi[R][C];
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& wb = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i];
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales)));
        for (int c = 0; c < C; ++c) {
          // The -32 offset of every quant: -32 * Σ_g scale_g * bsum_g.
          const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->bsums));
          sumi[r][c] = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(sc16, bs)), 5);
        }
      }
      for (int h = 0; h < 2; ++h) {
        for (int r = 0; r < R; ++r) {
          const BlockQ6_K& wb = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i];
          const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h));
          const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.ql + 64 * h + 32));
          const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh + 32 * h));
          __m256i q[4];
          q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
          q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
          q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
          q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                 _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
          __m256i s[4];
          for (int k = 0; k < 4; ++k) {
            const int g = 8 * h + 2 * k;  // sub-blocks g (first 16 bytes) and g + 1
            s[k] = _mm256_set_m128i(_mm_set1_epi16(wb.scales[g + 1]), _mm_set1_epi16(wb.scales[g]));
          }
          for (int c = 0; c < C; ++c) {
            __m256i t = sumi[r][c];
            for (int k = 0; k < 4; ++k) {
              const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->qs + 128 * h + 32 * k));
              t = _mm256_add_epi32(t, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], xv), s[k]));
            }
            sumi[r][c] = t;
          }
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = half_to_float(reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i].d);
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xb[c]->d), _mm256_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum(acc[r][c]);
  }
};

// ---------------------------------------------------------------- F32 / F16 / BF16

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
struct Bf16 {
  uint16_t v;
};
inline __m256 load8(const Bf16* p) {
  const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
}
inline float scalar(const float* p) { return *p; }
inline float scalar(const uint16_t* p) { return half_to_float(*p); }
inline float scalar(const Bf16* p) { return detail::bf16_to_float(p->v); }

template <typename T>
struct FloatKernel {
  static constexpr int kRows = 4;
  static constexpr int kCols = 2;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m256 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    const int64_t n8 = n & ~int64_t{7};
    for (int64_t i = 0; i < n8; i += 8) {
      __m256 xv[C];
      for (int c = 0; c < C; ++c) xv[c] = load8(reinterpret_cast<const T*>(x + c * xs) + i);
      for (int r = 0; r < R; ++r) {
        const __m256 wv = load8(reinterpret_cast<const T*>(w + r * ws) + i);
        for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);
      }
    }
    for (int c = 0; c < C; ++c) {
      for (int r = 0; r < R; ++r) {
        float s = hsum(acc[r][c]);
        const T* wr = reinterpret_cast<const T*>(w + r * ws);
        const T* xr = reinterpret_cast<const T*>(x + c * xs);
        for (int64_t i = n8; i < n; ++i) s += scalar(wr + i) * scalar(xr + i);
        y[c * ys + r] = s;
      }
    }
  }
};

// Attention dots: one pair of rows, four independent accumulators to hide FMA latency.
template <typename T>
float dot_rows(int64_t n, const T* a, const T* b) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), acc0);
    acc1 = _mm256_fmadd_ps(load8(a + i + 8), load8(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(load8(a + i + 16), load8(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(load8(a + i + 24), load8(b + i + 24), acc3);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load8(a + i), load8(b + i), acc0);
  float s = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < n; ++i) s += scalar(a + i) * scalar(b + i);
  return s;
}

float dot_f16_rows(int64_t n, const uint16_t* a, const uint16_t* b) { return dot_rows(n, a, b); }
float dot_f32_rows(int64_t n, const float* a, const float* b) { return dot_rows(n, a, b); }

// ---------------------------------------------------------------- activation quantizers

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

inline float max_abs(const float* x, int n) {
  __m256 m = _mm256_setzero_ps();
  for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, abs_ps(_mm256_loadu_ps(x + j)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Packs 32 int32 (four vectors, in element order) to 32 int8.
inline __m256i pack_i32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // lanes interleave 128-bit halves
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Same semantics as the scalar table's activation quantizer and llama.cpp's x86 one (d = amax / 127,
// q = round-half-even(x * (127 / amax))).
void quantize_q8_0(const float* src, void* dst, int64_t n) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / 32; ++i, src += 32) {
    const float amax = max_abs(src, 32);
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    y[i].d = detail::float_to_half(d);
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) {
      q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(src + 8 * k), idv),
                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), pack_i32_to_i8(q[0], q[1], q[2], q[3]));
  }
}

// Same semantics as quantize_row_q8_k_ref: iscale = -127 / (value of largest magnitude, first one),
// q = min(127, round-half-even(iscale * x)), bsums over groups of 16.
void quantize_q8_k(const float* src, void* dst, int64_t n) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, src += kQK_K) {
    const float amax = max_abs(src, kQK_K);
    if (!amax) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    float max = 0;
    const __m256 av = _mm256_set1_ps(amax);
    for (int j = 0; j < kQK_K; j += 8) {
      const int mask = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(src + j)), av, _CMP_EQ_OQ));
      if (mask) {
        max = src[j + __builtin_ctz(static_cast<unsigned>(mask))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 isv = _mm256_set1_ps(iscale);
    const __m256i lim = _mm256_set1_epi32(127);
    for (int j = 0; j < kQK_K; j += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + j + 8 * k), isv);
        q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)),
                                lim);
      }
      const __m256i packed = pack_i32_to_i8(q[0], q[1], q[2], q[3]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), packed);
      // Group sums: bias to unsigned, sum absolute differences against zero per 8 bytes.
      const __m256i sad =
          _mm256_sad_epu8(_mm256_xor_si256(packed, _mm256_set1_epi8(static_cast<char>(0x80))), _mm256_setzero_si256());
      alignas(32) int64_t s[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(s), sad);
      y[i].bsums[j / 16] = static_cast<int16_t>(s[0] + s[1] - 16 * 128);
      y[i].bsums[j / 16 + 1] = static_cast<int16_t>(s[2] + s[3] - 16 * 128);
    }
    y[i].d = 1 / iscale;
  }
}

KernelTable make_avx2_table() {
  KernelTable t;
  t.name = "avx2";
  t.f32 = kernels<FloatKernel<float>>();
  t.f16 = kernels<FloatKernel<uint16_t>>();
  t.bf16 = kernels<FloatKernel<Bf16>>();
  t.q4_0 = kernels<Q4_0Kernel>();
  t.q4_0.group_tile = q4_0_group_tile;
  t.q4_0.interleave = kQ4GroupRows;
  t.q4_0.group_cols = kQ4GroupCols;
  t.q8_0 = kernels<Q8_0Kernel>();
  t.q4_k = kernels<K4Kernel<false>>();
  t.q5_k = kernels<K4Kernel<true>>();
  t.q6_k = kernels<Q6KKernel>();
  t.quantize_q8_0 = quantize_q8_0;
  t.quantize_q8_k = quantize_q8_k;
  t.dot_f16 = dot_f16_rows;
  t.dot_f32 = dot_f32_rows;
  return t;
}

}  // namespace

const KernelTable& avx2_kernels() {
  static const KernelTable table = make_avx2_table();
  return table;
}

}  // namespace hearth::cpu
