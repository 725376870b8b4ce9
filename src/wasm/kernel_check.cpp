// Checks the SIMD128 dot products against the scalar reference table, type by type, on random rows:
// quantized types must agree bit for bit (their block sums are exact integers, accumulated in scalar
// order), float types within 1e-5 relative. Built for Node by src/wasm/CMakeLists.txt and run by
// web/tests/wasm_kernels.test.mjs; prints one line per type and exits non-zero on any mismatch.
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"

using namespace hearth;
using namespace hearth::cpu;

namespace {

int check(TensorType type, bool exact) {
  const KernelTable& ref = scalar_kernels();
  const KernelTable& simd = wasm_simd128_kernels();
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  int failures = 0;
  double worst = 0;
  for (int64_t n : {256, 512, 2048, 4096 + 256}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n));
      for (auto& v : w) v = dist(rng) * (trial % 3 == 0 ? 40.0f : 1.0f);
      for (auto& v : x) v = dist(rng);
      const TensorType xt = vec_dot_type(type);
      std::vector<uint8_t> wq(row_bytes(type, n)), xq(row_bytes(xt, n));
      quantize_row(type, w.data(), wq.data(), n);
      // Activations as the matmul quantizes them.
      if (xt == TensorType::Q8_0) ref.quantize_q8_0(x.data(), xq.data(), n);
      else if (xt == TensorType::Q8_K) ref.quantize_q8_k(x.data(), xq.data(), n);
      else quantize_row(xt, x.data(), xq.data(), n);
      const float a = type_kernels(ref, type).vec_dot(n, wq.data(), xq.data());
      const float b = type_kernels(simd, type).vec_dot(n, wq.data(), xq.data());
      // Reordering a float sum moves it by at most ~n * eps * sum|w_i x_i|: measure against that scale,
      // not against the (possibly cancelled) result.
      std::vector<float> wd(static_cast<size_t>(n)), xd(static_cast<size_t>(n));
      dequantize_row(type, wq.data(), wd.data(), n);
      if (!exact) dequantize_row(xt, xq.data(), xd.data(), n);
      double scale = 0;
      for (int64_t i = 0; !exact && i < n; ++i) scale += std::fabs(double(wd[size_t(i)]) * double(xd[size_t(i)]));
      const double rel = std::fabs(double(a) - double(b)) / std::max(1e-6, exact ? std::fabs(double(a)) : scale);
      worst = std::max(worst, rel);
      if (exact ? a != b : rel > 1e-5) {
        if (failures++ < 3) std::printf("  %s n=%lld: scalar %.9g simd %.9g\n", cpu_type_name(type), (long long)n, a, b);
      }
    }
  }
  std::printf("%s %s: %d mismatches, worst relative difference %.3g\n", failures ? "FAIL" : "ok", cpu_type_name(type),
              failures, worst);
  return failures;
}

}  // namespace

int main() {
  int failures = 0;
  failures += check(TensorType::Q4_0, true);
  failures += check(TensorType::Q8_0, true);
  failures += check(TensorType::Q4_K, true);
  failures += check(TensorType::Q5_K, true);
  failures += check(TensorType::Q6_K, true);
  failures += check(TensorType::F32, false);
  failures += check(TensorType::F16, false);
  failures += check(TensorType::BF16, false);
  std::printf("active table: %s\n", simd_name());
  return failures ? 1 : 0;
}
