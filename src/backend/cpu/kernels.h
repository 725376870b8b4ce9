#pragma once
// CPU kernels: the numeric core of the CPU backend. Weights stay in their GGUF block format; activations
// are quantized once per matmul to the weight type's partner type (as llama.cpp does: Q8_0 for Q4_0/Q8_0,
// Q8_K for the K-quants, F16 for F16, BF16 for BF16, F32 for F32) so results agree with llama.cpp bit
// for bit in the integer parts.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hearth/tensor_type.h"

namespace hearth::cpu {

class ThreadPool;

// Row conversion between floats and a block format. n must be a multiple of the type's block size.
void dequantize_row(TensorType type, const void* src, float* dst, int64_t n);
// Reference quantizers (used to write fixtures and to quantize activations). Supported: F32, F16, BF16,
// Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, Q8_K.
void quantize_row(TensorType type, const float* src, void* dst, int64_t n);

// The type activations are converted to before a dot product with a weight row of `weight_type`.
TensorType vec_dot_type(TensorType weight_type);
// dot(weight row, activation row) over n elements; x is in vec_dot_type(weight_type).
float vec_dot(TensorType weight_type, int64_t n, const void* w_row, const void* x_row);

// A weight matrix in GGUF layout: `rows` rows of `cols` elements, each row row_bytes long.
struct WeightMatrix {
  const void* data = nullptr;
  TensorType type = TensorType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Per-call scratch reused across calls so the hot path allocates nothing after warm-up.
struct MatmulScratch {
  std::vector<uint8_t> quantized_x;
};

// y[t * y_stride + r] = dot(W row r, x[t * cols ...]) for t < n_tokens, r < rows.
// x: n_tokens rows of `cols` floats (contiguous). y_stride >= rows.
void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, int64_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch);

// Fetch row `row` of a (possibly quantized) matrix as floats (embedding lookup).
void get_row(const WeightMatrix& w, int64_t row, float* dst);

// --- element-wise and normalization ops (f32) ---
void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps);  // weight may be null
void layer_norm(const float* x, const float* weight, const float* bias, float* y, int64_t n, float eps);
void softmax_inplace(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* y, int64_t n);   // y = silu(gate) * up
void gelu_mul(const float* gate, const float* up, float* y, int64_t n);   // y = gelu_tanh(gate) * up
void gelu(const float* x, float* y, int64_t n);
void add(const float* a, const float* b, float* y, int64_t n);

// Rotary embedding of one head vector in place. mode: 0 = normal (adjacent pairs), 2 = neox (halves).
// freq_factors: per-pair divisor (llama3 / longrope), may be null.
void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base, float freq_scale,
          const float* freq_factors, int mode);

// FP16 / BF16 scalar conversions, IEEE round-to-nearest-even as ggml does.
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t h);
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);
// dot of two f16 rows accumulated in f32 (attention with an f16 KV cache).
float vec_dot_f16(int64_t n, const uint16_t* a, const uint16_t* b);
// y += a * x with x in f16 (attention's weighted sum of values over an f16 KV cache).
void vec_mad_f16(int64_t n, float* y, const uint16_t* x, float a);
float vec_dot_f32(int64_t n, const float* a, const float* b);

// One query head's causal attention over positions [p_begin, p_end) of an f16 KV cache, in llama.cpp's
// summation order (see attention_kernels.cpp): scores K·q, softcap then scale, softmax, f16 probabilities
// times V. `batched`: the query belongs to a batch of two or more tokens (llama.cpp's sums differ then).
struct AttentionF16Args {
  const uint16_t* q16 = nullptr;  // the query, already rounded to f16, hd elements
  const uint16_t* k = nullptr;    // key of position 0 for this head; position p at k + p * kv_stride_k
  const uint16_t* v = nullptr;    // value of position 0 for this head; position p at v + p * kv_stride_v
  int64_t kv_stride_k = 0, kv_stride_v = 0;
  int64_t hd = 0, hdv = 0;
  int64_t p_begin = 0, p_end = 0;
  float scale = 1.0f;
  float softcap = 0.0f;  // 0: none
  bool batched = false;
};
// Whether attention_f16 runs on this CPU (it needs AVX-512 and follows HEARTH_SIMD caps).
bool attention_f16_supported();
// Floats of scratch attention_f16 needs per thread for a cache of n_ctx positions and value size hdv.
int64_t attention_f16_scratch_floats(int64_t n_ctx, int64_t hdv);
// out: hdv floats. Throws hearth::Error where !attention_f16_supported().
void attention_f16(const AttentionF16Args& args, float* scratch, float* out);

// Which SIMD path was chosen at run time ("avx512vnni", "avx2", "scalar"); HEARTH_SIMD=scalar forces the
// fallback, HEARTH_SIMD=avx2 caps it at AVX2.
const char* simd_name();

}  // namespace hearth::cpu
