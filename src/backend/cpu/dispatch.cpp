// Chooses the kernel table for this CPU once, and the type geometry the kernels need.
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/cpu/fp16.h"
#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/quant_blocks.h"
#include "hearth/error.h"

namespace hearth::cpu {

namespace {

bool cpu_has_avx2() {
#if defined(HEARTH_HAVE_AVX2_TU)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool cpu_has_avx512_vnni() {
#if defined(HEARTH_HAVE_AVX512_TU)
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

const KernelTable& choose_kernels() {
  const char* env = std::getenv("HEARTH_SIMD");
  const std::string cap = env ? env : "";
  if (cap == "scalar") return scalar_kernels();
#if defined(HEARTH_HAVE_AVX512_TU)
  if (cap != "avx2" && cpu_has_avx512_vnni()) return avx512_kernels();
#endif
#if defined(HEARTH_HAVE_AVX2_TU)
  if (cpu_has_avx2()) return avx2_kernels();
#endif
#if defined(__wasm_simd128__)
  return wasm_simd128_kernels();   // chosen at compile time: a SIMD128 module only loads where it runs
#endif
  return scalar_kernels();
}

}  // namespace

const KernelTable& active_kernels() {
  static const KernelTable& table = choose_kernels();
  return table;
}

const char* simd_name() { return active_kernels().name; }

std::vector<const KernelTable*> available_kernels() {
  std::vector<const KernelTable*> tables = {&scalar_kernels()};
#if defined(HEARTH_HAVE_AVX2_TU)
  if (cpu_has_avx2()) tables.push_back(&avx2_kernels());
#endif
#if defined(HEARTH_HAVE_AVX512_TU)
  if (cpu_has_avx512_vnni()) tables.push_back(&avx512_kernels());
#endif
#if defined(__wasm_simd128__)
  tables.push_back(&wasm_simd128_kernels());
#endif
  return tables;
}

const TypeKernels& type_kernels(const KernelTable& t, TensorType weight_type) {
  switch (weight_type) {
    case TensorType::F32:
      return t.f32;
    case TensorType::F16:
      return t.f16;
    case TensorType::BF16:
      return t.bf16;
    case TensorType::Q4_0:
      return t.q4_0;
    case TensorType::Q8_0:
      return t.q8_0;
    case TensorType::Q4_K:
      return t.q4_k;
    case TensorType::Q5_K:
      return t.q5_k;
    case TensorType::Q6_K:
      return t.q6_k;
    default:
      break;
  }
  throw Error(std::string("CPU backend: no dot-product kernel for weight type ") + cpu_type_name(weight_type) +
              " (supported: F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K)");
}

const char* cpu_type_name(TensorType type) {
  switch (type) {
    case TensorType::F32:
      return "F32";
    case TensorType::F16:
      return "F16";
    case TensorType::BF16:
      return "BF16";
    case TensorType::Q4_0:
      return "Q4_0";
    case TensorType::Q8_0:
      return "Q8_0";
    case TensorType::Q4_K:
      return "Q4_K";
    case TensorType::Q5_K:
      return "Q5_K";
    case TensorType::Q6_K:
      return "Q6_K";
    case TensorType::Q8_K:
      return "Q8_K";
    default:
      return "an unsupported type";
  }
}

int64_t block_elems(TensorType type) {
  switch (type) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
      return 1;
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return 32;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
    case TensorType::Q8_K:
      return kQK_K;
    default:
      break;
  }
  throw Error(std::string("CPU backend: tensor type ") + cpu_type_name(type) + " is not supported");
}

size_t row_bytes(TensorType type, int64_t n) {
  size_t block_bytes = 0;
  switch (type) {
    case TensorType::F32:
      block_bytes = 4;
      break;
    case TensorType::F16:
    case TensorType::BF16:
      block_bytes = 2;
      break;
    case TensorType::Q4_0:
      block_bytes = sizeof(BlockQ4_0);
      break;
    case TensorType::Q8_0:
      block_bytes = sizeof(BlockQ8_0);
      break;
    case TensorType::Q4_K:
      block_bytes = sizeof(BlockQ4_K);
      break;
    case TensorType::Q5_K:
      block_bytes = sizeof(BlockQ5_K);
      break;
    case TensorType::Q6_K:
      block_bytes = sizeof(BlockQ6_K);
      break;
    case TensorType::Q8_K:
      block_bytes = sizeof(BlockQ8_K);
      break;
    default:
      return static_cast<size_t>(block_elems(type));  // throws
  }
  return static_cast<size_t>(n / block_elems(type)) * block_bytes;
}

TensorType vec_dot_type(TensorType weight_type) {
  switch (weight_type) {
    case TensorType::F32:
      return TensorType::F32;
    case TensorType::F16:
      return TensorType::F16;
    case TensorType::BF16:
      return TensorType::BF16;
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return TensorType::Q8_0;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
      return TensorType::Q8_K;
    default:
      break;
  }
  throw Error(std::string("CPU backend: no dot-product kernel for weight type ") + cpu_type_name(weight_type));
}

float vec_dot(TensorType weight_type, int64_t n, const void* w_row, const void* x_row) {
  if (n % block_elems(weight_type) != 0) {
    throw Error("vec_dot: length " + std::to_string(n) + " is not a multiple of the " + cpu_type_name(weight_type) +
                " block size");
  }
  return type_kernels(active_kernels(), weight_type).vec_dot(n, w_row, x_row);
}

uint16_t fp32_to_fp16(float f) { return detail::float_to_half(f); }
float fp16_to_fp32(uint16_t h) { return detail::half_to_float(h); }
uint16_t fp32_to_bf16(float f) { return detail::float_to_bf16(f); }
float bf16_to_fp32(uint16_t h) { return detail::bf16_to_float(h); }
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = detail::float_to_half(x[i]);
}
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = detail::half_to_float(x[i]);
}

float vec_dot_f16(int64_t n, const uint16_t* a, const uint16_t* b) { return active_kernels().dot_f16(n, a, b); }
float vec_dot_f32(int64_t n, const float* a, const float* b) { return active_kernels().dot_f32(n, a, b); }

void get_row(const WeightMatrix& w, int64_t row, float* dst) {
  if (row < 0 || row >= w.rows) {
    throw Error("get_row: row " + std::to_string(row) + " out of range for a matrix of " + std::to_string(w.rows) +
                " rows");
  }
  const size_t stride = row_bytes(w.type, w.cols);
  dequantize_row(w.type, static_cast<const uint8_t*>(w.data) + row * stride, dst, w.cols);
}

}  // namespace hearth::cpu
