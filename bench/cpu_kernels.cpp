// CPU kernel throughput: matvec (decode, n_tokens = 1) and matmul (prefill, n_tokens = 512) per weight type,
// reporting GB/s of weights streamed and GFLOP/s. Each kernel table the CPU supports (scalar, avx2,
// avx512vnni) runs the same cases, so every figure has its peers measured in the same run.
//
//   cpu_kernels_bench --benchmark_filter='matvec/Q4_K/8192x2048/.*'
// Rows are named matvec|matmul512/<type>/<rows>x<cols>/<kernel table>/threads:<n>.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/kernel_table.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"

namespace {

using hearth::TensorType;
using namespace hearth::cpu;

// A model's weights do not fit in cache, so matvec cycles through enough copies of the matrix (256 MB
// together) that every call streams its weights from DRAM, as a decode step does.
constexpr size_t kColdBytes = size_t{256} << 20;

struct Weights {
  std::vector<uint8_t> data;  // `copies` back-to-back copies of the matrix
  size_t matrix_bytes = 0;
  int copies = 1;
  WeightMatrix m;
};

// Real quantized rows (from Gaussian floats) so scales and sparsity look like a model's.
const Weights& weights(TensorType type, int64_t rows, int64_t cols) {
  static std::vector<std::pair<std::string, Weights>> cache;
  const std::string key = std::string(cpu_type_name(type)) + std::to_string(rows) + "x" + std::to_string(cols);
  for (auto& [k, w] : cache) {
    if (k == key) return w;
  }
  Weights w;
  w.data.resize(row_bytes(type, cols) * rows);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = dist(rng);
    quantize_row(type, row.data(), w.data.data() + r * row_bytes(type, cols), cols);
  }
  w.matrix_bytes = w.data.size();
  w.copies = static_cast<int>((kColdBytes + w.matrix_bytes - 1) / w.matrix_bytes);
  w.data.resize(w.matrix_bytes * w.copies);
  for (int k = 1; k < w.copies; ++k) {
    std::copy(w.data.begin(), w.data.begin() + w.matrix_bytes, w.data.begin() + k * w.matrix_bytes);
  }
  w.m = WeightMatrix{w.data.data(), type, rows, cols};
  cache.emplace_back(key, std::move(w));
  return cache.back().second;
}

void run_matmul(benchmark::State& state, const KernelTable* table, TensorType type, int64_t rows, int64_t cols,
                int64_t n_tokens) {
  const int threads = static_cast<int>(state.range(0));
  const Weights& w = weights(type, rows, cols);
  ThreadPool pool(threads);
  MatmulScratch scratch;
  std::vector<float> x(cols * n_tokens), y(rows * n_tokens);
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  // Decode streams cold weights (a new copy each call); prefill is compute-bound and reuses one copy.
  const int copies = n_tokens == 1 ? w.copies : 1;
  int next = 0;
  for (auto _ : state) {
    WeightMatrix m = w.m;
    m.data = w.data.data() + static_cast<size_t>(next) * w.matrix_bytes;
    next = next + 1 == copies ? 0 : next + 1;
    matmul_with(*table, m, x.data(), n_tokens, y.data(), rows, pool, scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(w.matrix_bytes);
  const double flops = 2.0 * rows * cols * n_tokens;
  state.counters["weight_GB"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

// Every table the CPU supports runs the same cases, so each figure has its peers (scalar, AVX2) in the
// same run. Scalar prefill takes seconds per call, so the scalar table only runs the matvec cases.
void register_all() {
  const TensorType types[] = {TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K,
                              TensorType::Q6_K, TensorType::F16,  TensorType::BF16, TensorType::F32};
  const std::pair<int64_t, int64_t> shapes[] = {{2048, 2048}, {8192, 2048}};
  for (const KernelTable* table : available_kernels()) {
    const bool scalar = table == &scalar_kernels();
    for (TensorType t : types) {
      for (auto [rows, cols] : shapes) {
        const std::string name =
            std::string(cpu_type_name(t)) + "/" + std::to_string(rows) + "x" + std::to_string(cols) + "/" + table->name;
        benchmark::RegisterBenchmark(("matvec/" + name).c_str(),
                                     [=](benchmark::State& s) { run_matmul(s, table, t, rows, cols, 1); })
            ->Arg(1)
            ->Arg(2)
            ->ArgName("threads")
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
        if (scalar) continue;
        benchmark::RegisterBenchmark(("matmul512/" + name).c_str(),
                                     [=](benchmark::State& s) { run_matmul(s, table, t, rows, cols, 512); })
            ->Arg(1)
            ->Arg(2)
            ->ArgName("threads")
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("hearth cpu kernels: matmul uses the %s table; every supported table is measured\n",
              active_kernels().name);
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
