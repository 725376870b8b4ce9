// Attention's value accumulation over an f16 KV cache: y += a * x, with x in f16. F16C converts eight
// halves per instruction; the scalar path converts one at a time. Kept apart from the dot-product tables
// because it is the only f16 axpy the model needs.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdlib>
#include <string_view>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernels.h"

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

}  // namespace hearth::cpu
