// The AVX-512 table reproduces llama.cpp's summation orders on this kind of CPU bit for bit. Each expected
// value is computed here in plain scalar code from the order read in llama.cpp's source (ggml-cpu vec.cpp,
// llamafile/sgemm.cpp tinyBLAS, arch/x86/repack.cpp q4_0 8x8 gemv/gemm), with std::fma for each FMA, so a
// kernel that sums in any other order fails. The model test shows what this buys end to end.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"
#include "test_support.h"

namespace hearth::cpu {
namespace {

const KernelTable* avx512_table() {
  for (const KernelTable* t : available_kernels())
    if (std::strcmp(t->name, "avx512vnni") == 0) return t;
  return nullptr;
}

float f16(uint16_t h) { return static_cast<float>(test::half_value(h)); }
float bf16(uint16_t h) { return static_cast<float>(test::bf16_value(h)); }

// _mm512_reduce_add_ps as GCC expands it: 8 + 8, 4 + 4, then (0 + 2) + (1 + 3).
float gcc_reduce16(const float* v) {
  float s[8], t[4];
  for (int i = 0; i < 8; ++i) s[i] = v[i + 8] + v[i];
  for (int i = 0; i < 4; ++i) t[i] = s[i + 4] + s[i];
  return (t[0] + t[2]) + (t[1] + t[3]);
}

// llamafile tinyBLAS<16, __m512> for F16: one 16-lane FMA accumulator per output (n % 16 == 0).
float tinyblas_f16(int64_t n, const uint16_t* w, const uint16_t* x) {
  float lanes[16] = {};
  for (int64_t i = 0; i < n; i += 16)
    for (int l = 0; l < 16; ++l) lanes[l] = std::fma(f16(w[i + l]), f16(x[i + l]), lanes[l]);
  return gcc_reduce16(lanes);
}

// ggml_vec_dot_f16 on AVX-512: four 16-lane accumulators per 64 elements, folded (0+2)+(1+3), tail in double.
float ggml_vec_dot_f16_order(int64_t n, const uint16_t* w, const uint16_t* x) {
  float sum[4][16] = {};
  const int64_t np = n & ~int64_t{63};
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 16; ++l) {
        const int64_t k = i + 16 * j + l;
        sum[j][l] = std::fma(f16(w[k]), f16(x[k]), sum[j][l]);
      }
  float folded[16];
  for (int l = 0; l < 16; ++l) folded[l] = (sum[0][l] + sum[2][l]) + (sum[1][l] + sum[3][l]);
  double acc = gcc_reduce16(folded);
  for (int64_t k = np; k < n; ++k) acc += static_cast<double>(f16(w[k]) * f16(x[k]));
  return static_cast<float>(acc);
}

// The same two orders for F32 weights (ggml_vec_dot_f32 keeps its tail in float, as an FMA).
float tinyblas_f32(int64_t n, const float* w, const float* x) {
  float lanes[16] = {};
  for (int64_t i = 0; i < n; i += 16)
    for (int l = 0; l < 16; ++l) lanes[l] = std::fma(w[i + l], x[i + l], lanes[l]);
  return gcc_reduce16(lanes);
}

float ggml_vec_dot_f32_order(int64_t n, const float* w, const float* x) {
  float sum[4][16] = {};
  const int64_t np = n & ~int64_t{63};
  for (int64_t i = 0; i < np; i += 64)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 16; ++l) sum[j][l] = std::fma(w[i + 16 * j + l], x[i + 16 * j + l], sum[j][l]);
  float folded[16];
  for (int l = 0; l < 16; ++l) folded[l] = (sum[0][l] + sum[2][l]) + (sum[1][l] + sum[3][l]);
  float acc = gcc_reduce16(folded);
  for (int64_t k = np; k < n; ++k) acc = std::fma(w[k], x[k], acc);
  return acc;
}

// vdpbf16ps, per the instruction's definition: lane j adds the odd pair's product, then the even one's
// (bf16 products are exact in f32; each add rounds to nearest even).
void dpbf16(float* lanes, const uint16_t* a, const uint16_t* b) {
  for (int j = 0; j < 16; ++j) {
    lanes[j] = lanes[j] + bf16(a[2 * j + 1]) * bf16(b[2 * j + 1]);
    lanes[j] = lanes[j] + bf16(a[2 * j]) * bf16(b[2 * j]);
  }
}

// tinyBLAS<32, __m512, __m512bh>: one vdpbf16ps accumulator per output over 32 elements (n % 32 == 0).
float tinyblas_bf16(int64_t n, const uint16_t* w, const uint16_t* x) {
  float lanes[16] = {};
  for (int64_t i = 0; i < n; i += 32) dpbf16(lanes, w + i, x + i);
  return gcc_reduce16(lanes);
}

// ggml_vec_dot_bf16 with AVX512-BF16: accumulators for each half of 64 elements, reduced into a double.
float ggml_vec_dot_bf16_order(int64_t n, const uint16_t* w, const uint16_t* x) {
  float c1[16] = {}, c2[16] = {};
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    dpbf16(c1, w + i, x + i);
    dpbf16(c2, w + i + 32, x + i + 32);
  }
  double acc = gcc_reduce16(c1);
  acc += gcc_reduce16(c2);
  for (; i < n; ++i) acc += static_cast<double>(bf16(w[i]) * bf16(x[i]));
  return static_cast<float>(acc);
}

// The repacked Q4_0 gemv/gemm: per output one float chain over blocks, fma(exact block dot, d_w * d_x, acc).
float repacked_q4_0(int64_t n, const BlockQ4_0* w, const BlockQ8_0* x) {
  float acc = 0;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((w[b].qs[j] & 0x0F) - 8) * x[b].qs[j];
      isum += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + 16];
    }
    acc = std::fma(static_cast<float>(isum), f16(w[b].d) * f16(x[b].d), acc);
  }
  return acc;
}

// ggml_v_expf (AVX-512), one lane, with the same fused operations.
float ggml_expf(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  if (std::fabs(n) > 192) return n <= 0 ? 0.0f : INFINITY;
  return std::ldexp(j, static_cast<int>(n));
}

uint16_t to_half(float f) { return fp32_to_fp16(f); }

// llama.cpp's non-flash attention of one head over an f16 cache (ggml ops mul_mat, soft_max_ext, mul_mat),
// position by position in scalar code. Positions live in cells 0..n_kv-1, n_kv padded to 256.
std::vector<float> llama_attention(const AttentionF16Args& a) {
  const int64_t n_kv = (a.p_end + 255) / 256 * 256;
  std::vector<float> kq(static_cast<size_t>(n_kv), -INFINITY);
  for (int64_t p = a.p_begin; p < a.p_end; ++p) {
    const uint16_t* k = a.k + p * a.kv_stride_k;
    const float s = a.batched ? tinyblas_f16(a.hd, k, a.q16) : ggml_vec_dot_f16_order(a.hd, k, a.q16);
    float t = a.softcap > 0 ? std::tanh(s * (1.0f / a.softcap)) * a.softcap : s;
    kq[static_cast<size_t>(p)] = t * a.scale;
  }
  float mx = -INFINITY;
  for (float v : kq) mx = std::max(mx, v);
  double sum = 0;
  for (int64_t c = 0; c < n_kv; c += 16) {
    for (int64_t l = 0; l < 16; ++l) kq[static_cast<size_t>(c + l)] = ggml_expf(kq[static_cast<size_t>(c + l)] - mx);
    sum += static_cast<double>(gcc_reduce16(&kq[static_cast<size_t>(c)]));
  }
  const float inv = static_cast<float>(1.0 / sum);
  std::vector<uint16_t> p16(static_cast<size_t>(n_kv));
  for (int64_t p = 0; p < n_kv; ++p) p16[static_cast<size_t>(p)] = to_half(kq[static_cast<size_t>(p)] * inv);
  std::vector<float> out(static_cast<size_t>(a.hdv));
  std::vector<uint16_t> vt(static_cast<size_t>(n_kv), 0);  // one output dimension of V^T (zeros past the cache)
  for (int64_t d = 0; d < a.hdv; ++d) {
    for (int64_t p = 0; p < a.p_end; ++p) vt[static_cast<size_t>(p)] = a.v[p * a.kv_stride_v + d];
    out[static_cast<size_t>(d)] =
        a.batched ? tinyblas_f16(n_kv, vt.data(), p16.data()) : ggml_vec_dot_f16_order(n_kv, vt.data(), p16.data());
  }
  return out;
}

std::vector<uint16_t> halves(std::mt19937_64& rng, TensorType t, int64_t n) {
  std::vector<float> f = test::random_floats(rng, n);
  std::vector<uint16_t> h(static_cast<size_t>(n));
  quantize_row(t, f.data(), h.data(), n);
  return h;
}

TEST(LlamaOrder, F16BatchTilesSumLikeTinyBlas) {
  const KernelTable* t = avx512_table();
  if (!t) GTEST_SKIP() << "no AVX-512 table on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const TypeKernels& k = t->f16;
  for (int64_t n : {16, 64, 256, 272, 4096}) {
    const std::vector<uint16_t> w = halves(rng, TensorType::F16, n * k.tile_rows);
    const std::vector<uint16_t> x = halves(rng, TensorType::F16, n * k.tile_cols);
    std::vector<float> y(static_cast<size_t>(k.tile_rows * k.tile_cols));
    k.dot_tile(n, w.data(), n * 2, k.tile_rows, x.data(), n * 2, k.tile_cols, y.data(), k.tile_rows);
    for (int c = 0; c < k.tile_cols; ++c)
      for (int r = 0; r < k.tile_rows; ++r)
        EXPECT_EQ(y[c * k.tile_rows + r], tinyblas_f16(n, w.data() + r * n, x.data() + c * n)) << n;
  }
}

TEST(LlamaOrder, F16SingleTokenSumsLikeGgmlVecDot) {
  const KernelTable* t = avx512_table();
  if (!t) GTEST_SKIP() << "no AVX-512 table on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const TypeKernels& k = t->f16;
  ASSERT_NE(k.token_tile, nullptr);
  for (int64_t n : {8, 64, 100, 256, 4096 + 40}) {
    const std::vector<uint16_t> w = halves(rng, TensorType::F16, n * k.token_tile_rows);
    const std::vector<uint16_t> x = halves(rng, TensorType::F16, n);
    std::vector<float> y(static_cast<size_t>(k.token_tile_rows));
    k.token_tile(n, w.data(), n * 2, k.token_tile_rows, x.data(), n * 2, 1, y.data(), k.token_tile_rows);
    for (int r = 0; r < k.token_tile_rows; ++r) {
      const float want = ggml_vec_dot_f16_order(n, w.data() + r * n, x.data());
      EXPECT_EQ(y[r], want) << n;
      EXPECT_EQ(k.vec_dot(n, w.data() + r * n, x.data()), want) << n;
    }
    // Batch tiles fall back to this order where tinyBLAS declines (n % 16 != 0).
    if (n % 16 != 0) {
      float yb[1];
      k.dot_tile(n, w.data(), n * 2, 1, x.data(), n * 2, 1, yb, 1);
      EXPECT_EQ(yb[0], ggml_vec_dot_f16_order(n, w.data(), x.data())) << n;
    }
  }
}

TEST(LlamaOrder, F32FollowsTinyBlasAndGgmlVecDot) {
  const KernelTable* t = avx512_table();
  if (!t) GTEST_SKIP() << "no AVX-512 table on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const TypeKernels& k = t->f32;
  ASSERT_NE(k.token_tile, nullptr);
  for (int64_t n : {16, 64, 100, 256, 4096}) {
    const std::vector<float> w = test::random_floats(rng, n * k.tile_rows);
    const std::vector<float> x = test::random_floats(rng, n * k.tile_cols);
    std::vector<float> y(static_cast<size_t>(k.tile_rows * k.tile_cols));
    k.dot_tile(n, w.data(), n * 4, k.tile_rows, x.data(), n * 4, k.tile_cols, y.data(), k.tile_rows);
    for (int c = 0; c < k.tile_cols; ++c)
      for (int r = 0; r < k.tile_rows; ++r) {
        const float* wr = w.data() + r * n;
        const float* xc = x.data() + c * n;
        EXPECT_EQ(y[c * k.tile_rows + r], n % 16 ? ggml_vec_dot_f32_order(n, wr, xc) : tinyblas_f32(n, wr, xc)) << n;
      }
    k.token_tile(n, w.data(), n * 4, k.token_tile_rows, x.data(), n * 4, 1, y.data(), k.token_tile_rows);
    for (int r = 0; r < k.token_tile_rows; ++r)
      EXPECT_EQ(y[r], ggml_vec_dot_f32_order(n, w.data() + r * n, x.data())) << n;
  }
}

TEST(LlamaOrder, Bf16FollowsAvx512Bf16Builds) {
  const KernelTable* t = avx512_table();
  if (!t || !t->bf16.token_tile) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const TypeKernels& k = t->bf16;
  for (int64_t n : {32, 64, 96, 256, 4096}) {
    const std::vector<uint16_t> w = halves(rng, TensorType::BF16, n * k.tile_rows);
    const std::vector<uint16_t> x = halves(rng, TensorType::BF16, n * k.tile_cols);
    std::vector<float> y(static_cast<size_t>(k.tile_rows * k.tile_cols));
    k.dot_tile(n, w.data(), n * 2, k.tile_rows, x.data(), n * 2, k.tile_cols, y.data(), k.tile_rows);
    for (int c = 0; c < k.tile_cols; ++c)
      for (int r = 0; r < k.tile_rows; ++r)
        EXPECT_EQ(y[c * k.tile_rows + r], tinyblas_bf16(n, w.data() + r * n, x.data() + c * n)) << n;
    k.token_tile(n, w.data(), n * 2, k.token_tile_rows, x.data(), n * 2, 1, y.data(), k.token_tile_rows);
    for (int r = 0; r < k.token_tile_rows; ++r)
      EXPECT_EQ(y[r], ggml_vec_dot_bf16_order(n, w.data() + r * n, x.data())) << n;
  }
}

// Both SIMD tables (llama.cpp's AVX2 and AVX-512 builds share this gemv/gemm).
TEST(LlamaOrder, Q4_0GroupTilesSumLikeRepackedGemm) {
  HEARTH_SEEDED_RNG(rng);
  int tables = 0;
  for (const KernelTable* t : available_kernels()) {
    const TypeKernels& k = t->q4_0;
    if (!k.group_tile) continue;
    ++tables;
    SCOPED_TRACE(t->name);
    ASSERT_EQ(k.interleave % 8, 0);
    for (int64_t n : {32, 64, 96, 256, 4096}) {
    const size_t wb = test::bytes_for(TensorType::Q4_0, n), xb = test::bytes_for(TensorType::Q8_0, n);
    const std::vector<uint8_t> w = test::random_blocks(rng, TensorType::Q4_0, n * k.interleave);
    for (int nc = 1; nc <= k.group_cols; ++nc) {
      std::vector<float> xf = test::random_floats(rng, n * nc);
      std::vector<uint8_t> x(xb * static_cast<size_t>(nc));
      for (int c = 0; c < nc; ++c) quantize_row(TensorType::Q8_0, xf.data() + c * n, x.data() + c * xb, n);
      std::vector<float> y(static_cast<size_t>(k.interleave * nc + 1), -1.0f);
      k.group_tile(n, w.data(), wb, x.data(), xb, nc, y.data(), k.interleave);
      for (int c = 0; c < nc; ++c)
        for (int r = 0; r < k.interleave; ++r) {
          const float want = repacked_q4_0(n, reinterpret_cast<const BlockQ4_0*>(w.data() + r * wb),
                                           reinterpret_cast<const BlockQ8_0*>(x.data() + c * xb));
          EXPECT_EQ(y[static_cast<size_t>(c * k.interleave + r)], want) << n << " row " << r << " col " << c;
        }
      EXPECT_EQ(y.back(), -1.0f) << "wrote past the tile";
    }
    }
  }
  if (tables == 0) GTEST_SKIP() << "no SIMD table on this CPU";
}

// matmul takes the repacked order exactly where llama.cpp repacks: Q4_0 matrices with rows % 8 == 0.
TEST(LlamaOrder, MatmulUsesRepackedOrderOnlyForRowCountsLlamaCppRepacks) {
  const KernelTable* t = avx512_table();
  if (!t) GTEST_SKIP() << "no AVX-512 table on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 256;
  const size_t wb = test::bytes_for(TensorType::Q4_0, n), xb = test::bytes_for(TensorType::Q8_0, n);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (int64_t rows : {16, 12}) {
    const std::vector<uint8_t> w = test::random_blocks(rng, TensorType::Q4_0, n * rows);
    const std::vector<float> xf = test::random_floats(rng, n * 3);
    std::vector<uint8_t> xq(xb * 3);
    for (int c = 0; c < 3; ++c) t->quantize_q8_0(xf.data() + c * n, xq.data() + c * xb, n);
    std::vector<float> y(static_cast<size_t>(rows * 3));
    matmul_with(*t, WeightMatrix{w.data(), TensorType::Q4_0, rows, n}, xf.data(), 3, y.data(), rows, pool, scratch);
    for (int c = 0; c < 3; ++c)
      for (int64_t r = 0; r < rows; ++r) {
        const float repacked = repacked_q4_0(n, reinterpret_cast<const BlockQ4_0*>(w.data() + r * wb),
                                             reinterpret_cast<const BlockQ8_0*>(xq.data() + c * xb));
        const float plain = t->q4_0.vec_dot(n, w.data() + r * wb, xq.data() + c * xb);
        EXPECT_EQ(y[static_cast<size_t>(c * rows + r)], rows % 8 == 0 ? repacked : plain) << rows << " rows";
      }
  }
}

// The emulation the tests below rely on is a faithful expf (ggml documents ~1.5 ulp).
TEST(LlamaOrder, GgmlExpfEmulationTracksLibm) {
  for (float x : {0.0f, -0.5f, -1.0f, -3.25f, -10.0f, -40.0f, -87.0f, -100.0f, -104.0f, -200.0f}) {
    EXPECT_NEAR(ggml_expf(x), std::exp(x), 3e-7 * std::exp(x) + 1e-45) << x;
  }
}

// SwiGLU: ggml_v_silu (x / (1 + ggml_v_expf(-x))) times up for 16 lanes at a time, libm for the tail.
TEST(LlamaOrder, SiluMulFollowsGgmlSwiglu) {
  if (!avx512_table() || std::strcmp(simd_name(), "avx512vnni") != 0) GTEST_SKIP() << "AVX-512 table not active";
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 16 * 7 + 5;
  const std::vector<float> g = test::random_floats(rng, n, 4.0f), u = test::random_floats(rng, n);
  std::vector<float> y(static_cast<size_t>(n));
  silu_mul(g.data(), u.data(), y.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const float x = g[static_cast<size_t>(i)];
    const float e = i < n / 16 * 16 ? ggml_expf(-x) : std::exp(-x);
    EXPECT_EQ(y[static_cast<size_t>(i)], x / (1.0f + e) * u[static_cast<size_t>(i)]) << i;
  }
}

// ggml's rope: cos/sin of theta = freq_scale * (pos * theta_scale^i / ff_i), theta_scale = powf(base,
// -2/n_rot) applied by repeated multiplication, and rotate_pairs as GCC contracts it on FMA builds.
TEST(LlamaOrder, RopeFollowsGgmlFmaBuilds) {
  if (!__builtin_cpu_supports("fma")) GTEST_SKIP() << "no FMA on this CPU";
  HEARTH_SEEDED_RNG(rng);
  const int64_t hd = 64;
  for (int mode : {0, 2}) {
    for (int64_t pos : {0, 1, 7, 300}) {
      std::vector<float> x = test::random_floats(rng, hd), want = x;
      rope(x.data(), hd, hd, pos, 10000.0f, 1.0f, nullptr, mode);
      const float theta_scale = std::pow(10000.0f, -2.0f / float(hd));
      float theta = float(pos);
      for (int64_t i0 = 0; i0 < hd; i0 += 2) {
        const float c = std::cos(theta), s = std::sin(theta);
        theta *= theta_scale;
        const int64_t a = mode == 0 ? i0 : i0 / 2, b = mode == 0 ? i0 + 1 : i0 / 2 + hd / 2;
        const float x0 = want[size_t(a)], x1 = want[size_t(b)];
        want[size_t(a)] = std::fma(x0, c, -(x1 * s));
        want[size_t(b)] = std::fma(x0, s, x1 * c);
      }
      EXPECT_EQ(x, want) << "mode " << mode << " pos " << pos;
    }
  }
}

TEST(LlamaOrder, AttentionF16FollowsLlamaCppOps) {
  if (!attention_f16_supported()) GTEST_SKIP() << "no AVX-512 on this CPU";
  HEARTH_SEEDED_RNG(rng);
  for (int64_t hd : {64, 128}) {
    for (int64_t n_pos : {1, 5, 17, 37, 300}) {
      for (bool batched : {true, false}) {
        const int64_t kv = 2 * hd;  // two KV heads side by side; the head under test is the second
        std::vector<uint16_t> kc = halves(rng, TensorType::F16, n_pos * kv);
        std::vector<uint16_t> vc = halves(rng, TensorType::F16, n_pos * kv);
        const std::vector<float> qf = test::random_floats(rng, hd, 0.5f);
        std::vector<uint16_t> q16(static_cast<size_t>(hd));
        for (int64_t i = 0; i < hd; ++i) q16[static_cast<size_t>(i)] = to_half(qf[static_cast<size_t>(i)]);
        AttentionF16Args a;
        a.q16 = q16.data();
        a.k = kc.data() + hd;
        a.v = vc.data() + hd;
        a.kv_stride_k = a.kv_stride_v = kv;
        a.hd = a.hdv = hd;
        a.p_begin = n_pos > 20 ? 3 : 0;  // a sliding window's first visible position
        a.p_end = n_pos;
        a.scale = 1.0f / std::sqrt(float(hd));
        a.softcap = hd == 128 ? 50.0f : 0.0f;
        a.batched = batched;
        std::vector<float> scratch(static_cast<size_t>(attention_f16_scratch_floats(512, hd)), 7.0f);
        std::vector<float> out(static_cast<size_t>(hd) + 1, -1.0f);
        attention_f16(a, scratch.data(), out.data());
        const std::vector<float> want = llama_attention(a);
        for (int64_t d = 0; d < hd; ++d)
          ASSERT_EQ(out[static_cast<size_t>(d)], want[static_cast<size_t>(d)])
              << "hd " << hd << " positions " << n_pos << (batched ? " batched" : " single") << " dim " << d;
        EXPECT_EQ(out.back(), -1.0f) << "wrote past the head";
      }
    }
  }
}

}  // namespace
}  // namespace hearth::cpu
