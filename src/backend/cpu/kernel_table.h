#pragma once
// Per-ISA tables of dot-product kernels. Each ISA (scalar, AVX2; later NEON, WASM SIMD128) fills one
// KernelTable; dispatch.cpp picks one at start-up. matmul and vec_dot only ever go through the table.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/kernels.h"
#include "hearth/tensor_type.h"

namespace hearth::cpu {

// dot(w row, x row) over n elements; x is in the weight type's vec_dot type.
using VecDotFn = float (*)(int64_t n, const void* w, const void* x);

// A register tile of dot products: y[c * y_stride + r] = dot(w row r, x row c) for r < nr, c < nc, where
// nr <= TypeKernels::tile_rows and nc <= TypeKernels::tile_cols. Rows are w_stride / x_stride bytes apart.
using DotTileFn = void (*)(int64_t n, const void* w, size_t w_stride, int nr, const void* x, size_t x_stride, int nc,
                           float* y, int64_t y_stride);

// Converts activations to the vec_dot type.
using QuantizeFn = void (*)(const float* src, void* dst, int64_t n);

// A tile of exactly `interleave` weight rows (a multiple of 8) for matrices whose row count is a multiple of
// it: llama.cpp repacks such weights (Q4_0 on x86: 8 rows interleaved) and sums them in its own order.
using GroupTileFn = void (*)(int64_t n, const void* w, size_t w_stride, const void* x, size_t x_stride, int nc,
                             float* y, int64_t y_stride);

struct TypeKernels {
  VecDotFn vec_dot = nullptr;
  // Batches of two or more tokens.
  DotTileFn dot_tile = nullptr;
  int tile_rows = 1;
  int tile_cols = 1;
  // A single token (decode, and the last-token logits); null: dot_tile. llama.cpp sums single tokens in
  // another order than batches for the float types (ggml_vec_dot_* vs llamafile's tinyBLAS).
  DotTileFn token_tile = nullptr;
  int token_tile_rows = 1;
  // Repacked-weight order for matrices with rows % interleave == 0 (every batch size); null: not repacked.
  GroupTileFn group_tile = nullptr;
  int interleave = 0;
  int group_cols = 1;
};

struct KernelTable {
  const char* name = "scalar";
  TypeKernels f32, f16, bf16, q4_0, q8_0, q4_k, q5_k, q6_k;
  QuantizeFn quantize_q8_0 = nullptr;
  QuantizeFn quantize_q8_k = nullptr;
  float (*dot_f16)(int64_t n, const uint16_t* a, const uint16_t* b) = nullptr;
  float (*dot_f32)(int64_t n, const float* a, const float* b) = nullptr;
};

// The scalar reference table (always available).
const KernelTable& scalar_kernels();
// The AVX2/FMA/F16C table; only call when the CPU supports it.
const KernelTable& avx2_kernels();
// The AVX-512 (F/BW/VL/DQ) + VNNI table for the quantized types; only call when the CPU supports it.
const KernelTable& avx512_kernels();
// The WebAssembly SIMD128 table (browser build only: compiled when __wasm_simd128__ is defined).
const KernelTable& wasm_simd128_kernels();
// The table chosen at start-up: the widest the CPU supports; HEARTH_SIMD=scalar|avx2 caps it.
const KernelTable& active_kernels();
// Every table this CPU can run, scalar first (tests compare each against scalar).
std::vector<const KernelTable*> available_kernels();
// Kernels of a weight type in a table; throws hearth::Error for types without kernels.
const TypeKernels& type_kernels(const KernelTable& table, TensorType weight_type);

// matmul through a given table (the public matmul uses active_kernels()); lets tests and benchmarks
// compare ISAs in one process.
void matmul_with(const KernelTable& table, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y,
                 int64_t y_stride, ThreadPool& pool, MatmulScratch& scratch);

// Row size in bytes and block size for the types this backend handles (own constants, no GGUF link).
size_t row_bytes(TensorType type, int64_t n);
int64_t block_elems(TensorType type);
// Name for messages (own table, so this library does not need hearth_gguf).
const char* cpu_type_name(TensorType type);

// A tile computed pair by pair with a vec_dot: the scalar tables' tile.
template <VecDotFn Dot>
void dot_tile_by_pairs(int64_t n, const void* w, size_t w_stride, int nr, const void* x, size_t x_stride, int nc,
                       float* y, int64_t y_stride) {
  for (int c = 0; c < nc; ++c) {
    for (int r = 0; r < nr; ++r) {
      y[c * y_stride + r] =
          Dot(n, static_cast<const uint8_t*>(w) + r * w_stride, static_cast<const uint8_t*>(x) + c * x_stride);
    }
  }
}

}  // namespace hearth::cpu
