// Element-wise and normalization ops on f32 rows, following ggml's CPU arithmetic (double accumulation for
// norms, rope angles by repeated multiplication) so activations track llama.cpp closely.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/expf_avx512.h"
#include "backend/cpu/kernels.h"
#include "hearth/error.h"

namespace hearth::cpu {

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  // ggml squares in float and accumulates the squares in double.
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / n);
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void layer_norm(const float* x, const float* weight, const float* bias, float* y, int64_t n, float eps) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / n);
  double sum2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i] - mean;
    y[i] = v;
    sum2 += static_cast<double>(v * v);
  }
  const float variance = static_cast<float>(sum2 / n);
  const float scale = 1.0f / std::sqrt(variance + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = y[i] * scale;
    if (weight) v *= weight[i];
    if (bias) v += bias[i];
    y[i] = v;
  }
}

void softmax_inplace(float* x, int64_t n) {
  if (n <= 0) return;
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::fmax(max, x[i]);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

namespace {

inline float silu_libm(float x) { return x / (1.0f + std::exp(-x)); }

#if defined(__x86_64__)
// llama.cpp's SwiGLU runs 16 lanes through ggml_v_silu and only the n % 16 tail through libm's expf.
__attribute__((target("avx512f,avx512dq"))) void silu_mul_avx512(const float* gate, const float* up, float* y,
                                                                  int64_t n) {
  int64_t i = 0;
  const __m512 one = _mm512_set1_ps(1.0f);
  for (; i + 15 < n; i += 16) {
    const __m512 x = _mm512_loadu_ps(gate + i);
    const __m512 e = detail::expf_avx512(_mm512_sub_ps(_mm512_setzero_ps(), x));
    const __m512 silu = _mm512_div_ps(x, _mm512_add_ps(one, e));
    _mm512_storeu_ps(y + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) y[i] = silu_libm(gate[i]) * up[i];
}
#endif

void silu_mul_scalar(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = silu_libm(gate[i]) * up[i];
}

using SiluMulFn = void (*)(const float*, const float*, float*, int64_t);

// Follows the kernel table: the AVX-512 table mirrors llama.cpp's AVX-512 build, the others keep libm.
SiluMulFn pick_silu_mul() {
#if defined(__x86_64__)
  if (std::strcmp(simd_name(), "avx512vnni") == 0) return silu_mul_avx512;
#endif
  return silu_mul_scalar;
}

}  // namespace

void silu_mul(const float* gate, const float* up, float* y, int64_t n) {
  static const SiluMulFn fn = pick_silu_mul();
  fn(gate, up, y, n);
}

namespace {

inline float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  constexpr float kCoefA = 0.044715f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kCoefA * x * x)));
}

// ggml's CPU GELU looks the result up by the input's f16 bit pattern (65536 entries, built once), so hearth
// does the same to track llama.cpp activations: the f16 rounding of input and output is ~0.05%, per layer.
const uint16_t* gelu_table() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> t(1 << 16);
    for (uint32_t i = 0; i < t.size(); ++i) {
      t[i] = fp32_to_fp16(gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(i))));
    }
    return t;
  }();
  return table.data();
}

inline float gelu_lookup(const uint16_t* table, float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return fp16_to_fp32(table[fp32_to_fp16(x)]);
}

}  // namespace

void gelu_mul(const float* gate, const float* up, float* y, int64_t n) {
  const uint16_t* table = gelu_table();
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_lookup(table, gate[i]) * up[i];
}

void gelu(const float* x, float* y, int64_t n) {
  const uint16_t* table = gelu_table();
  for (int64_t i = 0; i < n; ++i) y[i] = gelu_lookup(table, x[i]);
}

void add(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

namespace {
bool rope_fused() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("fma");
#elif defined(__aarch64__)
  return true;  // every AArch64 has FMA, and compilers contract there too
#else
  return false;
#endif
}
}  // namespace

void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, float freq_scale,
          const float* freq_factors, int mode) {
  if (n_rot > head_dim || n_rot % 2 != 0) {
    throw Error("rope: rotary dimension " + std::to_string(n_rot) + " must be even and at most the head size " +
                std::to_string(head_dim));
  }
  if (mode != 0 && mode != 2) throw Error("rope: unknown mode " + std::to_string(mode) + " (0 normal, 2 neox)");
  // llama.cpp's FMA builds (GCC contracts by default) compute ggml's rotate_pairs `x0*c - x1*s` as
  // fma(x0, c, -(x1*s)) and `x0*s + x1*c` as fma(x0, s, x1*c); the unfused form differs by an ulp, enough to
  // flip an f16/bf16 rounding downstream. std::fma is exact in any case; it is only fast with hardware FMA.
  static const bool fused = rope_fused();
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  float theta_base = static_cast<float>(pos);
  const int64_t half = n_rot / 2;
  for (int64_t i0 = 0; i0 < n_rot; i0 += 2) {
    const float ff = freq_factors ? freq_factors[i0 / 2] : 1.0f;
    const float theta = freq_scale * (theta_base / ff);
    const float c = std::cos(theta), s = std::sin(theta);
    theta_base *= theta_scale;
    const int64_t a = mode == 0 ? i0 : i0 / 2;
    const int64_t b = mode == 0 ? i0 + 1 : i0 / 2 + half;
    const float x0 = x[a], x1 = x[b];
    if (fused) {
      x[a] = std::fma(x0, c, -(x1 * s));
      x[b] = std::fma(x0, s, x1 * c);
    } else {
      x[a] = x0 * c - x1 * s;
      x[b] = x0 * s + x1 * c;
    }
  }
}

}  // namespace hearth::cpu
