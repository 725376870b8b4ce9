// AVX-512 (F, BW, VL, DQ) + VNNI kernels for the quantized types; the float types reuse the AVX2 table.
// Compiled alone with the matching -m flags; dispatch.cpp calls avx512_kernels() only after cpuid agrees.
//
// A zmm holds 64 quants: two Q4_0/Q8_0 blocks or one 64-element chunk of a K-quant super-block, so the
// activation bytes line up with the weight bytes. vpdpbusd (u8 x s8 -> s32) does the Q4_0/Q8_0 dots in
// one instruction (offsets folded into the accumulator's start value); the K-quants use maddubs for the
// product and vpdpwssd to apply the per-sub-block scale while accumulating.
#include <immintrin.h>

#include <array>
#include <cstring>
#include <type_traits>
#include <utility>

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

// [a x 8 | b x 8]
inline __m512 two_scales(float a, float b) {
  return _mm512_insertf32x8(_mm512_zextps256_ps512(_mm256_set1_ps(a)), _mm256_set1_ps(b), 1);
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

inline float hsum512(__m512 v) { return _mm512_reduce_add_ps(v); }

template <typename WBlock>
struct Q0Kernel {
  static constexpr bool kQ4 = std::is_same_v<WBlock, BlockQ4_0>;
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    const int64_t nb = n / 32;
    const __m512i k80 = _mm512_set1_epi8(static_cast<char>(0x80));
    const __m512i k8 = _mm512_set1_epi8(8);
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
      __m512i xq[C], base[C];
      __m512 xd[C];
      for (int c = 0; c < C; ++c) {
        const BlockQ8_0* xb = reinterpret_cast<const BlockQ8_0*>(x + c * xs) + i;
        xq[c] = load_pair(xb);
        xd[c] = two_scales(half_to_float(xb[0].d), half_to_float(xb[1].d));
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
        const __m512 wd = two_scales(half_to_float(wb[0].d), half_to_float(wb[1].d));
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
          acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(wd, xd[c]), acc[r][c]);
        }
      }
    }
    float tail[R][C] = {};
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
          alignas(32) int32_t lanes[8];
          _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
          int sumi = 0;
          for (int l = 0; l < 8; ++l) sumi += lanes[l];
          tail[r][c] = sumi * (half_to_float(wb.d) * half_to_float(xb.d));
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum512(acc[r][c]) + tail[r][c];
  }
};

// ---------------------------------------------------------------- Q4_K / Q5_K x Q8_K

// Scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K block as 16 bytes.
inline __m128i k4_scales_mins(const uint8_t* s) {
  uint32_t u[4];
  std::memcpy(u, s, 12);
  constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = u[1] & kmask1;
  u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
  u[2] = uaux;
  u[0] &= kmask1;
  return _mm_set_epi32(static_cast<int>(u[3]), static_cast<int>(u[2]), static_cast<int>(u[1]), static_cast<int>(u[0]));
}

// Index vectors selecting int16 lane a for the low 256 bits and b for the high 256 bits.
inline __m512i lane_pair(int a, int b) {
  return join(_mm256_set1_epi16(static_cast<int16_t>(a)), _mm256_set1_epi16(static_cast<int16_t>(b)));
}

template <bool kFiveBit>
struct K4Kernel {
  using Block = std::conditional_t<kFiveBit, BlockQ5_K, BlockQ4_K>;
  static constexpr int kRows = 2;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const int64_t nb = n / kQK_K;
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ8_K* xb[C];
      for (int c = 0; c < C; ++c) xb[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
      // Mins term: Σ_j (dmin m_j) (d_x bsum-pair_j) as 8 float lanes per side, one FMA per (row, token).
      __m512 xd[C], xpair[C];
      for (int c = 0; c < C; ++c) {
        xd[c] = _mm512_set1_ps(xb[c]->d);
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->bsums));
        const __m128i pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        xpair[c] = _mm512_mul_ps(xd[c], _mm512_cvtepi32_ps(_mm512_zextsi256_si512(_mm256_cvtepi16_epi32(pair))));
      }
      __m512i sumi[R][C];
      __m512i sc16[R];
      __m512 wd[R];
      for (int r = 0; r < R; ++r) {
        const Block& wb = reinterpret_cast<const Block*>(w + r * ws)[i];
        const __m128i sm = k4_scales_mins(wb.scales);
        sc16[r] = _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(sm));  // lanes 0-7 scales, 8-15 mins
        const __m512 mins = _mm512_mul_ps(_mm512_set1_ps(half_to_float(wb.dmin)),
                                          _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_srli_si128(sm, 8))));
        wd[r] = _mm512_set1_ps(half_to_float(wb.d));
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm512_fnmadd_ps(mins, xpair[c], acc[r][c]);
          sumi[r][c] = _mm512_setzero_si512();
        }
      }
      for (int j = 0; j < 4; ++j) {
        __m512i xv[C];
        for (int c = 0; c < C; ++c) xv[c] = _mm512_loadu_si512(xb[c]->qs + 64 * j);
        for (int r = 0; r < R; ++r) {
          const Block& wb = reinterpret_cast<const Block*>(w + r * ws)[i];
          const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qs + 32 * j));
          __m512i q = join(_mm256_and_si256(bits, m4), _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4));
          if constexpr (kFiveBit) {
            const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh)));
            const __m512i bit = join(_mm256_set1_epi8(static_cast<char>(1 << (2 * j))),
                                     _mm256_set1_epi8(static_cast<char>(1 << (2 * j + 1))));
            q = _mm512_mask_add_epi8(q, _mm512_test_epi8_mask(hb, bit), q, _mm512_set1_epi8(16));
          }
          const __m512i scale = _mm512_permutexvar_epi16(lane_pair(2 * j, 2 * j + 1), sc16[r]);
          for (int c = 0; c < C; ++c) {
            sumi[r][c] = _mm512_dpwssd_epi32(sumi[r][c], _mm512_maddubs_epi16(q, xv[c]), scale);
          }
        }
      }
      for (int r = 0; r < R; ++r) {
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(wd[r], xd[c]), _mm512_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum512(acc[r][c]);
  }
};

// ---------------------------------------------------------------- Q6_K x Q8_K

struct Q6KKernel {
  static constexpr int kRows = 2;
  static constexpr int kCols = 4;
  template <int R, int C>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* x, size_t xs, float* y, int64_t ys) {
    __m512 acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i m3 = _mm512_set1_epi8(3);
    // int16 lane l of a 64-quant vector belongs to 16-quant group l / 8.
    const __m512i group = _mm512_srli_epi16(_mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
                                                             16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            3);
    const __m512i shift_a = join(_mm256_set1_epi16(0), _mm256_set1_epi16(2));
    const __m512i shift_b = join(_mm256_set1_epi16(4), _mm256_set1_epi16(6));
    const int64_t nb = n / kQK_K;
    for (int64_t i = 0; i < nb; ++i) {
      const BlockQ8_K* xb[C];
      for (int c = 0; c < C; ++c) xb[c] = reinterpret_cast<const BlockQ8_K*>(x + c * xs) + i;
      __m512i sumi[R][C];
      __m512i sc16[R];
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K& wb = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i];
        const __m256i s = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wb.scales)));
        sc16[r] = _mm512_zextsi256_si512(s);
        for (int c = 0; c < C; ++c) {
          const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[c]->bsums));
          const __m256i off = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(s, bs)), 5);
          sumi[r][c] = _mm512_zextsi256_si512(off);  // the -32 offset of every quant
        }
      }
      for (int h = 0; h < 2; ++h) {
        __m512i xa[C], xbv[C];
        for (int c = 0; c < C; ++c) {
          xa[c] = _mm512_loadu_si512(xb[c]->qs + 128 * h);
          xbv[c] = _mm512_loadu_si512(xb[c]->qs + 128 * h + 64);
        }
        for (int r = 0; r < R; ++r) {
          const BlockQ6_K& wb = reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i];
          const __m512i l = _mm512_loadu_si512(wb.ql + 64 * h);  // [ql 0-31 | ql 32-63]
          const __m512i hb =
              _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb.qh + 32 * h)));
          // Elements 0-63 of the half: low nibbles + qh bits 0-1 / 2-3; elements 64-127: high nibbles + 4-5 / 6-7.
          const __m512i qa = _mm512_or_si512(
              _mm512_and_si512(l, m4), _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hb, shift_a), m3), 4));
          const __m512i qb =
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                              _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(hb, shift_b), m3), 4));
          const __m512i sa = _mm512_permutexvar_epi16(
              _mm512_add_epi16(group, _mm512_set1_epi16(static_cast<int16_t>(8 * h))), sc16[r]);
          const __m512i sb = _mm512_permutexvar_epi16(
              _mm512_add_epi16(group, _mm512_set1_epi16(static_cast<int16_t>(8 * h + 4))), sc16[r]);
          for (int c = 0; c < C; ++c) {
            __m512i t = _mm512_dpwssd_epi32(sumi[r][c], _mm512_maddubs_epi16(qa, xa[c]), sa);
            sumi[r][c] = _mm512_dpwssd_epi32(t, _mm512_maddubs_epi16(qb, xbv[c]), sb);
          }
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = half_to_float(reinterpret_cast<const BlockQ6_K*>(w + r * ws)[i].d);
        for (int c = 0; c < C; ++c) {
          acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(d * xb[c]->d), _mm512_cvtepi32_ps(sumi[r][c]), acc[r][c]);
        }
      }
    }
    for (int c = 0; c < C; ++c)
      for (int r = 0; r < R; ++r) y[c * ys + r] = hsum512(acc[r][c]);
  }
};

// Q4_K/Q5_K matvec (one token) is faster through the AVX2 kernel: with a single token the 512-bit
// kernel's per-super-block setup is not amortized (measured ~20% slower), so decode takes the AVX2 path.
DotTileFn g_avx2_q4_k_tile = nullptr;
DotTileFn g_avx2_q5_k_tile = nullptr;

template <typename K, DotTileFn* Decode>
void dot_tile_prefill_only(int64_t n, const void* w, size_t ws, int nr, const void* x, size_t xs, int nc, float* y,
                           int64_t ys) {
  if (nc == 1) {
    (*Decode)(n, w, ws, nr, x, xs, 1, y, ys);
  } else {
    dot_tile<K>(n, w, ws, nr, x, xs, nc, y, ys);
  }
}

KernelTable make_avx512_table() {
  const KernelTable& avx2 = avx2_kernels();
  KernelTable t = avx2;  // float types and activation quantizers
  t.name = "avx512vnni";
  t.q4_0 = kernels<Q0Kernel<BlockQ4_0>>();
  t.q8_0 = kernels<Q0Kernel<BlockQ8_0>>();
  t.q6_k = kernels<Q6KKernel>();
  static_assert(K4Kernel<false>::kRows == 2 && K4Kernel<true>::kRows == 2, "must match the AVX2 K4 tile rows");
  g_avx2_q4_k_tile = avx2.q4_k.dot_tile;
  g_avx2_q5_k_tile = avx2.q5_k.dot_tile;
  t.q4_k = kernels<K4Kernel<false>>();
  t.q4_k.vec_dot = avx2.q4_k.vec_dot;
  t.q4_k.dot_tile = dot_tile_prefill_only<K4Kernel<false>, &g_avx2_q4_k_tile>;
  t.q5_k = kernels<K4Kernel<true>>();
  t.q5_k.vec_dot = avx2.q5_k.vec_dot;
  t.q5_k.dot_tile = dot_tile_prefill_only<K4Kernel<true>, &g_avx2_q5_k_tile>;
  return t;
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table = make_avx512_table();
  return table;
}

}  // namespace hearth::cpu
