// matmul against the naive loop of vec_dot over every (row, token), for awkward shapes and thread counts.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"
#include "test_support.h"

// Counts heap allocations so the test below can check the hot path makes none after warm-up.
namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace hearth::cpu {
namespace {

TEST(Matmul, EqualsNaiveVecDotLoop) {
  HEARTH_SEEDED_RNG(rng);
  for (const KernelTable* table : available_kernels()) {
    for (int threads : {1, 2, 3}) {
      ThreadPool pool(threads);
      MatmulScratch scratch;
      for (TensorType wt : test::weight_types()) {
        SCOPED_TRACE(std::string(table->name) + " " + cpu_type_name(wt) + " threads " + std::to_string(threads));
        const int64_t cols = wt == TensorType::Q4_0 || wt == TensorType::Q8_0 ? 544 : 512;
        for (int64_t rows : {1, 5, 37}) {
          const size_t wb = test::bytes_for(wt, cols);
          std::vector<uint8_t> w = test::random_blocks(rng, wt, cols * rows);
          const WeightMatrix m{w.data(), wt, rows, cols};
          for (int64_t n_tokens : {1, 2, 3, 7, 64}) {
            std::vector<float> x = test::random_floats(rng, cols * n_tokens);
            const int64_t y_stride = rows + 3;
            std::vector<float> y(y_stride * n_tokens, 12345.0f);
            matmul_with(*table, m, x.data(), n_tokens, y.data(), y_stride, pool, scratch);
            const TensorType xt = vec_dot_type(wt);
            std::vector<uint8_t> xq(test::bytes_for(xt, cols));
            for (int64_t t = 0; t < n_tokens; ++t) {
              // Activations go through the tables' quantizer (llama.cpp's x86 rounding), not the reference one.
              if (xt == TensorType::Q8_0) {
                scalar_kernels().quantize_q8_0(x.data() + t * cols, xq.data(), cols);
              } else {
                quantize_row(xt, x.data() + t * cols, xq.data(), cols);
              }
              for (int64_t r = 0; r < rows; ++r) {
                const float ref = type_kernels(scalar_kernels(), wt).vec_dot(cols, w.data() + r * wb, xq.data());
                double mag = 0;
                for (int64_t i = 0; i < cols; ++i) {
                  mag += std::fabs(test::ref_element(wt, w.data() + r * wb, i) * test::ref_element(xt, xq.data(), i));
                }
                ASSERT_NEAR(y[t * y_stride + r], ref, 1e-5 * mag) << "rows " << rows << " token " << t << " row " << r;
              }
              for (int64_t r = rows; r < y_stride; ++r) ASSERT_EQ(y[t * y_stride + r], 12345.0f) << "padding written";
            }
          }
        }
      }
    }
  }
}

TEST(Matmul, PublicEntryUsesActiveKernels) {
  HEARTH_SEEDED_RNG(rng);
  ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t rows = 9, cols = 256;
  std::vector<uint8_t> w = test::random_blocks(rng, TensorType::Q4_K, rows * cols);
  const WeightMatrix m{w.data(), TensorType::Q4_K, rows, cols};
  std::vector<float> x = test::random_floats(rng, cols * 3), a(rows * 3), b(rows * 3);
  matmul(m, x.data(), 3, a.data(), rows, pool, scratch);
  matmul_with(active_kernels(), m, x.data(), 3, b.data(), rows, pool, scratch);
  EXPECT_EQ(a, b);
}

TEST(Matmul, AllocatesNothingAfterWarmUp) {
  HEARTH_SEEDED_RNG(rng);
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (TensorType wt : {TensorType::Q4_0, TensorType::Q4_K, TensorType::F16, TensorType::F32}) {
    SCOPED_TRACE(cpu_type_name(wt));
    const int64_t rows = 64, cols = 512;
    std::vector<uint8_t> w = test::random_blocks(rng, wt, rows * cols);
    const WeightMatrix m{w.data(), wt, rows, cols};
    std::vector<float> x = test::random_floats(rng, cols * 16), y(rows * 16);
    matmul(m, x.data(), 16, y.data(), rows, pool, scratch);  // warm-up: scratch grows here
    const int64_t before = g_allocations.load();
    for (int64_t n_tokens : {1, 3, 16}) matmul(m, x.data(), n_tokens, y.data(), rows, pool, scratch);
    EXPECT_EQ(g_allocations.load() - before, 0);
  }
}

TEST(Matmul, ScratchIsReusedAfterWarmUp) {
  HEARTH_SEEDED_RNG(rng);
  ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t rows = 16, cols = 256;
  std::vector<uint8_t> w = test::random_blocks(rng, TensorType::Q4_K, rows * cols);
  const WeightMatrix m{w.data(), TensorType::Q4_K, rows, cols};
  std::vector<float> x = test::random_floats(rng, cols * 8), y(rows * 8);
  matmul(m, x.data(), 8, y.data(), rows, pool, scratch);
  const uint8_t* buffer = scratch.quantized_x.data();
  matmul(m, x.data(), 4, y.data(), rows, pool, scratch);
  matmul(m, x.data(), 8, y.data(), rows, pool, scratch);
  EXPECT_EQ(scratch.quantized_x.data(), buffer);
}

TEST(Matmul, GetRowDequantizesOneRow) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t rows = 4, cols = 512;
  std::vector<uint8_t> w = test::random_blocks(rng, TensorType::Q6_K, rows * cols);
  const WeightMatrix m{w.data(), TensorType::Q6_K, rows, cols};
  std::vector<float> row(cols);
  get_row(m, 2, row.data());
  const size_t wb = test::bytes_for(TensorType::Q6_K, cols);
  for (int64_t i = 0; i < cols; ++i) {
    const double ref = test::ref_element(TensorType::Q6_K, w.data() + 2 * wb, i);
    ASSERT_NEAR(row[i], ref, 1e-6 * std::fabs(ref) + 1e-12);
  }
  EXPECT_THROW(get_row(m, 4, row.data()), Error);
}

}  // namespace
}  // namespace hearth::cpu
