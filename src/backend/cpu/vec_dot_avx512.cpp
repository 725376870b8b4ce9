// AVX-512 (F, BW, VL, DQ) + VNNI kernels for the quantized types; the float types reuse the AVX2 table.
// Compiled alone with the matching -m flags; dispatch.cpp calls avx512_kernels() only after cpuid agrees.
//
// A zmm holds 64 quants: two Q4_0/Q8_0 blocks or one 64-element chunk of a K-quant super-block, so the
// activation bytes line up with the weight bytes. vpdpbusd (u8 x s8 -> s32) does the Q4_0/Q8_0 dots in
// one instruction (offsets folded into the accumulator's start value). The K-quants use the AVX2 kernels,
// whose float order is llama.cpp's (512-bit K-quant tiles summed in another order and drifted on fixtures).
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

KernelTable make_avx512_table() {
  const KernelTable& avx2 = avx2_kernels();
  KernelTable t = avx2;  // float types and activation quantizers
  t.name = "avx512vnni";
  t.q4_0 = kernels<Q0Kernel<BlockQ4_0>>();
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
