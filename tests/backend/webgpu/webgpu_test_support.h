#pragma once
// Shared by the WebGPU tests: one device per test binary (skipping, with the reason, only when no
// adapter exists), a per-run random seed, and the relative L2 error.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/webgpu/device.h"

namespace hearth::webgpu::test {

inline Device* shared_device(std::string* why) {
  static std::string reason;
  static std::unique_ptr<Device> dev = [] {
    try {
      return Device::open();
    } catch (const std::exception& e) {
      reason = e.what();
      return std::unique_ptr<Device>();
    }
  }();
  if (why) *why = reason;
  return dev.get();
}

#define HEARTH_REQUIRE_GPU(dev)                                                        \
  std::string gpu_missing_reason;                                                      \
  ::hearth::webgpu::Device* dev = ::hearth::webgpu::test::shared_device(&gpu_missing_reason); \
  if (!dev) GTEST_SKIP() << "no WebGPU adapter: " << gpu_missing_reason

inline uint64_t run_seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("HEARTH_TEST_SEED")) return uint64_t(std::strtoull(s, nullptr, 10));
    return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  return seed;
}

#define HEARTH_SEEDED_RNG(rng)                                                                          \
  SCOPED_TRACE("seed " + std::to_string(::hearth::webgpu::test::run_seed()) + " (set HEARTH_TEST_SEED)"); \
  std::mt19937_64 rng(::hearth::webgpu::test::run_seed() ^                                              \
                      std::hash<std::string>{}(::testing::UnitTest::GetInstance()->current_test_info()->name()))

inline std::vector<float> random_floats(std::mt19937_64& rng, size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline double rel_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); i++) {
    const double d = double(got[i]) - double(want[i]);
    num += d * d;
    den += double(want[i]) * want[i];
  }
  if (!std::isfinite(num)) return INFINITY;
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

// Fills a buffer with NaNs so a kernel that skips an output cannot pass.
inline void poison(Device& d, const Buffer& b) {
  std::vector<uint32_t> nan(b.size() / 4, 0x7fc00001u);
  d.write(b, 0, nan.data(), nan.size() * 4);
}

inline Buffer upload(Device& d, const std::vector<float>& v) {
  Buffer b = d.create_buffer(v.size() * 4);
  d.write(b, 0, v.data(), v.size() * 4);
  return b;
}

inline std::vector<float> download(Device& d, const Buffer& b, size_t n) {
  std::vector<float> v(n);
  d.read(b, 0, v.data(), n * 4);
  return v;
}

}  // namespace hearth::webgpu::test
