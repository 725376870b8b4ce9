#pragma once
// Shared helpers for the CPU kernel tests: a per-run random seed (printed on failure) and float64
// reference decoders written from the block layouts, independent of the library's dequantizers.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/quant_blocks.h"
#include "hearth/error.h"
#include "hearth/tensor_type.h"

namespace hearth::cpu::test {

inline uint64_t run_seed() {
  static const uint64_t seed = []() -> uint64_t {
    if (const char* s = std::getenv("HEARTH_TEST_SEED")) return static_cast<uint64_t>(std::strtoull(s, nullptr, 10));
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }();
  return seed;
}

// Each test gets its own generator from the run seed; SCOPED_TRACE prints the seed on failure.
#define HEARTH_SEEDED_RNG(rng)                                                                         \
  SCOPED_TRACE("seed " + std::to_string(::hearth::cpu::test::run_seed()) + " (set HEARTH_TEST_SEED)"); \
  std::mt19937_64 rng(::hearth::cpu::test::run_seed() ^                                                \
                      std::hash<std::string>{}(::testing::UnitTest::GetInstance()->current_test_info()->name()))

inline std::vector<float> random_floats(std::mt19937_64& rng, int64_t n, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// binary16 value from its bits, in double.
inline double half_value(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int e = (h >> 10) & 31;
  const int m = h & 1023;
  if (e == 0) return sign * std::ldexp(static_cast<double>(m), -24);
  if (e == 31) return m ? NAN : sign * INFINITY;
  return sign * std::ldexp(1.0 + m / 1024.0, e - 15);
}

inline double bf16_value(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A finite half of moderate size, as real scales are.
inline uint16_t random_scale_half(std::mt19937_64& rng, double lo = 1e-3, double hi = 1.0) {
  std::uniform_real_distribution<double> mag(std::log(lo), std::log(hi));
  const double v = std::exp(mag(rng)) * ((rng() & 1) ? -1 : 1);
  // Encode via the nearest normal half by search over exponents (independent of the library encoder).
  int e;
  const double fr = std::frexp(std::fabs(v), &e);  // v = fr * 2^e, fr in [0.5, 1)
  const int mant = static_cast<int>(std::lround((fr * 2 - 1) * 1024)) & 1023;
  const int biased = e - 1 + 15;
  return static_cast<uint16_t>((v < 0 ? 0x8000 : 0) | (biased << 10) | mant);
}

inline double test_half_free_scale(std::mt19937_64& rng) {
  return std::exp(std::uniform_real_distribution<double>(std::log(1e-4), 0.0)(rng));
}

// Six-bit scale/min of sub-block j from the 12-byte K-quant scale field, written from the layout:
// bytes 0-3 hold scale 0-3 in bits 0-5, bytes 4-7 min 0-3 in bits 0-5, bytes 8-11 hold scale 4-7 (low
// nibble) and min 4-7 (high nibble) whose top two bits sit in bits 6-7 of bytes 0-3 (scale) and 4-7 (min).
inline void k4_scale_min(const uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] % 64;
    *min = s[4 + j] % 64;
  } else {
    *scale = (s[8 + (j - 4)] % 16) + 16 * (s[j - 4] / 64);
    *min = (s[8 + (j - 4)] / 16) + 16 * (s[j] / 64);
  }
}

// Float64 value of element e of a row.
inline double ref_element(TensorType type, const void* row, int64_t e) {
  const uint8_t* bytes = static_cast<const uint8_t*>(row);
  switch (type) {
    case TensorType::F32: {
      float f;
      std::memcpy(&f, bytes + 4 * e, 4);
      return f;
    }
    case TensorType::F16: {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * e, 2);
      return half_value(h);
    }
    case TensorType::BF16: {
      uint16_t h;
      std::memcpy(&h, bytes + 2 * e, 2);
      return bf16_value(h);
    }
    case TensorType::Q4_0: {
      const uint8_t* b = bytes + 18 * (e / 32);
      const int i = e % 32;
      uint16_t d;
      std::memcpy(&d, b, 2);
      const int q = i < 16 ? (b[2 + i] & 15) : (b[2 + i - 16] >> 4);
      return half_value(d) * (q - 8);
    }
    case TensorType::Q8_0: {
      const uint8_t* b = bytes + 34 * (e / 32);
      uint16_t d;
      std::memcpy(&d, b, 2);
      return half_value(d) * static_cast<int8_t>(b[2 + e % 32]);
    }
    case TensorType::Q4_K:
    case TensorType::Q5_K: {
      const bool five = type == TensorType::Q5_K;
      const uint8_t* b = bytes + (five ? 176 : 144) * (e / 256);
      const int i = e % 256, j = i / 32, l = i % 32;
      uint16_t d, dmin;
      std::memcpy(&d, b, 2);
      std::memcpy(&dmin, b + 2, 2);
      int sc, mn;
      k4_scale_min(b + 4, j, &sc, &mn);
      const uint8_t* qs = b + 16 + (five ? 32 : 0);
      int q = (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15;
      if (five) q += ((b[16 + l] >> j) & 1) * 16;
      return half_value(d) * sc * q - half_value(dmin) * mn;
    }
    case TensorType::Q6_K: {
      const uint8_t* b = bytes + 210 * (e / 256);
      const int i = e % 256, h = i / 128, r = i % 128, quarter = r / 32, l = r % 32;
      const uint8_t lo = b[64 * h + l + 32 * (quarter % 2)];
      const int low4 = (lo >> (4 * (quarter / 2))) & 15;
      const int high2 = (b[128 + 32 * h + l] >> (2 * quarter)) & 3;
      uint16_t d;
      std::memcpy(&d, b + 208, 2);
      const int8_t scale = static_cast<int8_t>(b[192 + i / 16]);
      return half_value(d) * scale * (low4 + 16 * high2 - 32);
    }
    case TensorType::Q8_K: {
      const uint8_t* b = bytes + 292 * (e / 256);
      float d;
      std::memcpy(&d, b, 4);
      return static_cast<double>(d) * static_cast<int8_t>(b[4 + e % 256]);
    }
    default:
      break;
  }
  ADD_FAILURE() << "no reference decoder for type " << static_cast<int>(type);
  return 0;
}

inline size_t block_bytes(TensorType t) {
  switch (t) {
    case TensorType::F32:
      return 4;
    case TensorType::F16:
    case TensorType::BF16:
      return 2;
    case TensorType::Q4_0:
      return 18;
    case TensorType::Q8_0:
      return 34;
    case TensorType::Q4_K:
      return 144;
    case TensorType::Q5_K:
      return 176;
    case TensorType::Q6_K:
      return 210;
    case TensorType::Q8_K:
      return 292;
    default:
      return 0;
  }
}
inline int64_t block_len(TensorType t) {
  switch (t) {
    case TensorType::Q4_0:
    case TensorType::Q8_0:
      return 32;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
    case TensorType::Q8_K:
      return 256;
    default:
      return 1;
  }
}
inline size_t bytes_for(TensorType t, int64_t n) { return block_bytes(t) * (n / block_len(t)); }

// Random but valid raw blocks: random quant bits, finite moderate scales.
inline std::vector<uint8_t> random_blocks(std::mt19937_64& rng, TensorType t, int64_t n) {
  std::vector<uint8_t> v(bytes_for(t, n));
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  const int64_t nb = n / block_len(t);
  auto put16 = [&](size_t off, uint16_t h) { std::memcpy(v.data() + off, &h, 2); };
  for (int64_t i = 0; i < nb; ++i) {
    const size_t o = i * block_bytes(t);
    switch (t) {
      case TensorType::F16:
      case TensorType::BF16: {
        const double x = std::normal_distribution<double>(0, 1)(rng);
        const float f = static_cast<float>(x);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        put16(o, t == TensorType::BF16 ? static_cast<uint16_t>(u >> 16) : random_scale_half(rng, 1e-3, 4.0));
        break;
      }
      case TensorType::F32: {
        const float f = std::normal_distribution<float>(0, 1)(rng);
        std::memcpy(v.data() + o, &f, 4);
        break;
      }
      case TensorType::Q4_0:
      case TensorType::Q8_0:
        put16(o, random_scale_half(rng));
        break;
      case TensorType::Q4_K:
      case TensorType::Q5_K:
        put16(o, static_cast<uint16_t>(random_scale_half(rng) & 0x7FFF));
        put16(o + 2, static_cast<uint16_t>(random_scale_half(rng) & 0x7FFF));
        break;
      case TensorType::Q6_K:
        put16(o + 208, random_scale_half(rng));
        break;
      case TensorType::Q8_K: {
        const float d = static_cast<float>(test_half_free_scale(rng));
        std::memcpy(v.data() + o, &d, 4);
        for (int g = 0; g < 16; ++g) {  // keep bsums consistent with qs
          int sum = 0;
          for (int k = 0; k < 16; ++k) sum += static_cast<int8_t>(v[o + 4 + 16 * g + k]);
          const int16_t s16 = static_cast<int16_t>(sum);
          std::memcpy(v.data() + o + 260 + 2 * g, &s16, 2);
        }
        break;
      }
      default:
        break;
    }
  }
  return v;
}

inline const std::vector<TensorType>& weight_types() {
  static const std::vector<TensorType> types = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                                TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
  return types;
}

}  // namespace hearth::cpu::test
