// Attention kernels over an f16 KV cache.
// - vec_mad_f16: y += a * x with x in f16 (F16C converts eight halves per instruction).
// - attention_f16: one query head's whole causal attention in llama.cpp's order (its non-flash path on an
//   AVX-512 build), so that attention, like the matmuls, reproduces llama.cpp to the last bit.
#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own _mm512_undefined_* placeholders.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "backend/cpu/expf_avx512.h"
#include "backend/cpu/fp16.h"
#include "backend/cpu/kernels.h"
#include "hearth/error.h"

namespace hearth::cpu {
namespace {

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c"))) void vec_mad_f16_avx2(int64_t n, float* y, const uint16_t* x, float a) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, x0, _mm256_loadu_ps(y + i)));
    _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(av, x1, _mm256_loadu_ps(y + i + 8)));
  }
  for (; i < n; i++) y[i] += a * detail::half_to_float(x[i]);
}
#endif

void vec_mad_f16_scalar(int64_t n, float* y, const uint16_t* x, float a) {
  for (int64_t i = 0; i < n; i++) y[i] += a * detail::half_to_float(x[i]);
}

using MadFn = void (*)(int64_t, float*, const uint16_t*, float);

MadFn pick() {
  const char* env = std::getenv("HEARTH_SIMD");
  const bool forced_scalar = env && std::string_view(env) == "scalar";
#if defined(__x86_64__)
  if (!forced_scalar && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
    return vec_mad_f16_avx2;
#endif
  (void)forced_scalar;
  return vec_mad_f16_scalar;
}

}  // namespace

void vec_mad_f16(int64_t n, float* y, const uint16_t* x, float a) {
  static const MadFn fn = pick();
  fn(n, y, x, a);
}


// ---------------------------------------------------------------- attention_f16

// llama.cpp (no flash attention, f16 cache) computes one head as three ggml ops, each with its own order:
//  1. KQ = mul_mat(K, q): q rounded to f16; a batch of >= 2 tokens goes through tinyBLAS (one 16-lane FMA
//     accumulator per score, then _mm512_reduce_add_ps), a single token through ggml_vec_dot_f16 (four
//     16-lane accumulators per 64 elements, folded (0+2)+(1+3), reduced, tail in double).
//  2. softmax: softcap (x * (1/cap), tanhf, * cap), * scale, masked positions -inf; exp by ggml_v_expf over
//     16 positions at a time (chunks aligned to position 0), each chunk reduced and added in double; the
//     probabilities are exp * float(1 / sum), then rounded to f16 for the next product.
//  3. KQV = mul_mat(V^T, p): per output dimension a dot over positions; batches: tinyBLAS, lane = pos % 16;
//     single tokens: ggml_vec_dot_f16, lane = pos % 64. The cache is padded with masked positions to a
//     multiple of 256, so no tail occurs.

namespace {

#if defined(__x86_64__)
#define HEARTH_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,f16c")))

HEARTH_AVX512_TARGET inline float reduce512(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_extractf32x8_ps(v, 1), _mm512_castps512_ps256(v));
  __m128 s = _mm_add_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

HEARTH_AVX512_TARGET inline __m512 load_h16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// One K·q score: tinyBLAS (batched) or ggml_vec_dot_f16 (single token). hd % 16 == 0 for the batch order.
HEARTH_AVX512_TARGET float score_avx512(int64_t hd, const uint16_t* k, const uint16_t* q, bool batched) {
  if (batched && hd % 16 == 0) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < hd; i += 16) acc = _mm512_fmadd_ps(load_h16(k + i), load_h16(q + i), acc);
    return reduce512(acc);
  }
  __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  const int64_t np = hd & ~int64_t{63};
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j) s[j] = _mm512_fmadd_ps(load_h16(k + i + 16 * j), load_h16(q + i + 16 * j), s[j]);
  double acc = reduce512(_mm512_add_ps(_mm512_add_ps(s[0], s[2]), _mm512_add_ps(s[1], s[3])));
  for (int64_t i = np; i < hd; ++i) acc += static_cast<double>(_cvtsh_ss(k[i]) * _cvtsh_ss(q[i]));
  return static_cast<float>(acc);
}

HEARTH_AVX512_TARGET void attention_f16_avx512(const AttentionF16Args& a, float* scratch, float* out) {
  const int64_t lanes = a.batched ? 16 : 64;
  const int64_t chunk_begin = a.p_begin / 16 * 16, chunk_end = (a.p_end + 15) / 16 * 16;
  float* prob = scratch;                    // positions [chunk_begin, chunk_end)
  float* acc = scratch + attention_f16_scratch_floats(a.p_end, 0);  // lanes x hdv
  // 1. scores.
  float mx = -INFINITY;
  for (int64_t p = chunk_begin; p < chunk_end; ++p) {
    if (p < a.p_begin || p >= a.p_end) {
      prob[p - chunk_begin] = -INFINITY;
      continue;
    }
    float s = score_avx512(a.hd, a.k + p * a.kv_stride_k, a.q16, a.batched);
    if (a.softcap > 0) s = std::tanh(s * (1.0f / a.softcap)) * a.softcap;
    s *= a.scale;
    prob[p - chunk_begin] = s;
    mx = std::max(mx, s);
  }
  // 2. softmax by 16-position chunks.
  double sum = 0;
  const __m512 vmax = _mm512_set1_ps(mx);
  for (int64_t p = chunk_begin; p < chunk_end; p += 16) {
    const __m512 e = detail::expf_avx512(_mm512_sub_ps(_mm512_loadu_ps(prob + (p - chunk_begin)), vmax));
    _mm512_storeu_ps(prob + (p - chunk_begin), e);
    sum += static_cast<double>(reduce512(e));
  }
  const float inv = static_cast<float>(1.0 / sum);
  // 3. probabilities (rounded to f16) times values, one lane set per position residue.
  const int64_t hdv = a.hdv;
  std::fill(acc, acc + lanes * hdv, 0.0f);
  for (int64_t p = a.p_begin; p < a.p_end; ++p) {
    const float w = _cvtsh_ss(_cvtss_sh(prob[p - chunk_begin] * inv, _MM_FROUND_TO_NEAREST_INT));
    const __m512 wv = _mm512_set1_ps(w);
    const uint16_t* v = a.v + p * a.kv_stride_v;
    float* lane = acc + (p % lanes) * hdv;
    int64_t d = 0;
    for (; d + 16 <= hdv; d += 16)
      _mm512_storeu_ps(lane + d, _mm512_fmadd_ps(wv, load_h16(v + d), _mm512_loadu_ps(lane + d)));
    for (; d < hdv; ++d) lane[d] = std::fma(w, _cvtsh_ss(v[d]), lane[d]);
  }
  // Fold single-token lanes (ggml_vec_dot_f16: 64 -> 16 as (0+2)+(1+3)), then the 16-lane reduction tree,
  // element-wise over the output dimensions.
  auto add_rows = [hdv](float* dst, const float* x, const float* y) {
    for (int64_t d = 0; d < hdv; ++d) dst[d] = x[d] + y[d];
  };
  if (!a.batched) {
    for (int64_t l = 0; l < 16; ++l) {
      float* l0 = acc + l * hdv;
      add_rows(l0, l0, acc + (32 + l) * hdv);
      add_rows(acc + (16 + l) * hdv, acc + (16 + l) * hdv, acc + (48 + l) * hdv);
      add_rows(l0, l0, acc + (16 + l) * hdv);
    }
  }
  for (int64_t i = 0; i < 8; ++i) add_rows(acc + i * hdv, acc + (i + 8) * hdv, acc + i * hdv);
  for (int64_t i = 0; i < 4; ++i) add_rows(acc + i * hdv, acc + (i + 4) * hdv, acc + i * hdv);
  add_rows(acc, acc, acc + 2 * hdv);
  add_rows(acc + hdv, acc + hdv, acc + 3 * hdv);
  add_rows(out, acc, acc + hdv);
}
#endif

bool has_avx512() {
#if defined(__x86_64__)
  const char* env = std::getenv("HEARTH_SIMD");
  if (env && (std::string_view(env) == "scalar" || std::string_view(env) == "avx2")) return false;
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#else
  return false;
#endif
}

}  // namespace

int64_t attention_f16_scratch_floats(int64_t n_ctx, int64_t hdv) { return (n_ctx + 32) / 16 * 16 + 64 * hdv; }

bool attention_f16_supported() {
  static const bool ok = has_avx512();
  return ok;
}

void attention_f16(const AttentionF16Args& args, float* scratch, float* out) {
#if defined(__x86_64__)
  if (attention_f16_supported()) {
    attention_f16_avx512(args, scratch, out);
    return;
  }
#endif
  (void)args;
  (void)scratch;
  (void)out;
  throw Error("attention_f16: needs AVX-512 (check attention_f16_supported() first)");
}

}  // namespace hearth::cpu
