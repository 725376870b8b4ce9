// Block formats: dequantize against float64 decoders written from the bit layouts, quantize round-trip
// error bounds per type, exact activation quantizer semantics, and fp16/bf16 conversions.
#include <algorithm>
#include <cmath>

#include "backend/cpu/kernels.h"
#include "backend/cpu/reference_quants.h"
#include "test_support.h"

namespace hearth::cpu {
namespace {

using test::ref_element;

TEST(Dequantize, MatchesFloat64LayoutDecoderForRandomBlocks) {
  HEARTH_SEEDED_RNG(rng);
  const std::vector<TensorType> types = {TensorType::F32,  TensorType::F16,  TensorType::BF16,
                                         TensorType::Q4_0, TensorType::Q8_0, TensorType::Q4_K,
                                         TensorType::Q5_K, TensorType::Q6_K, TensorType::Q8_K};
  for (TensorType t : types) {
    SCOPED_TRACE(static_cast<int>(t));
    const int64_t n = 1024;
    std::vector<uint8_t> raw = test::random_blocks(rng, t, n);
    std::vector<float> got(n);
    dequantize_row(t, raw.data(), got.data(), n);
    double row_max = 0;
    for (int64_t i = 0; i < n; ++i) row_max = std::max(row_max, std::fabs(ref_element(t, raw.data(), i)));
    for (int64_t i = 0; i < n; ++i) {
      const double ref = ref_element(t, raw.data(), i);
      // The library computes in float (d * scale * q - dmin * min); the K-quant min can cancel most of the
      // value, so the rounding bound is relative to the row's magnitude. A wrong bit moves a value by a
      // whole quantization step, far more than this.
      ASSERT_NEAR(got[i], ref, 1e-6 * (std::fabs(ref) + row_max)) << "element " << i;
    }
  }
}

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double e = 0, s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    e += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    s += double(x[i]) * x[i];
  }
  return std::sqrt(e / s);
}

TEST(Quantize, RoundTripErrorWithinTypeBound) {
  HEARTH_SEEDED_RNG(rng);
  struct Case {
    TensorType type;
    double max_rel_rmse;
  };
  // Bounds for Gaussian data: roughly 1.3x what ggml's reference quantizers reach.
  const Case cases[] = {{TensorType::Q4_0, 0.13},  {TensorType::Q8_0, 0.01}, {TensorType::Q4_K, 0.11},
                        {TensorType::Q5_K, 0.055}, {TensorType::Q6_K, 0.03}, {TensorType::Q8_K, 0.008},
                        {TensorType::F16, 1e-3},   {TensorType::BF16, 5e-3}};
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.type));
    const int64_t n = 4096;
    std::vector<float> x = test::random_floats(rng, n, 0.7f);
    std::vector<uint8_t> q(test::bytes_for(c.type, n));
    quantize_row(c.type, x.data(), q.data(), n);
    std::vector<float> y(n);
    dequantize_row(c.type, q.data(), y.data(), n);
    EXPECT_LT(rel_rmse(x, y), c.max_rel_rmse);
    EXPECT_GT(rel_rmse(x, y), 0.0);
  }
}

TEST(Quantize, Q4_0AndQ8_0PerElementErrorBoundedByScale) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 2048;
  std::vector<float> x = test::random_floats(rng, n, 3.0f);
  std::vector<BlockQ4_0> q4(n / 32);
  std::vector<BlockQ8_0> q8(n / 32);
  quantize_row(TensorType::Q4_0, x.data(), q4.data(), n);
  quantize_row(TensorType::Q8_0, x.data(), q8.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double d4 = std::fabs(test::half_value(q4[i / 32].d));
    const double d8 = std::fabs(test::half_value(q8[i / 32].d));
    // Q4_0 clamps only the extreme opposite the block max to 15: error at most one step.
    EXPECT_LE(std::fabs(ref_element(TensorType::Q4_0, q4.data(), i) - x[i]), d4 * 1.01 + 1e-6);
    // Q8_0: half a step plus the fp16 rounding of the scale times |q| <= 127.
    EXPECT_LE(std::fabs(ref_element(TensorType::Q8_0, q8.data(), i) - x[i]), d8 * (0.5 + 127.0 / 2048) + 1e-6);
  }
}

TEST(Quantize, Q8_KMatchesGgmlReferenceSemantics) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 1024;
  std::vector<float> x = test::random_floats(rng, n, 2.0f);
  x[300] = 0.0f;
  std::vector<float> zeros(256, 0.0f);
  std::copy(zeros.begin(), zeros.end(), x.begin() + 512);  // an all-zero block
  std::vector<BlockQ8_K> q(n / 256);
  quantize_row(TensorType::Q8_K, x.data(), q.data(), n);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x.data() + 256 * b;
    float max = 0, amax = 0;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    if (amax == 0) {
      EXPECT_EQ(q[b].d, 0.0f);
      for (int j = 0; j < 256; ++j) EXPECT_EQ(q[b].qs[j], 0);
      continue;
    }
    const float iscale = -127.f / max;
    EXPECT_EQ(q[b].d, 1 / iscale);
    for (int j = 0; j < 256; ++j) {
      const float p = iscale * xb[j];
      const int expect = std::min(127, static_cast<int>(std::nearbyint(p)));  // ties to even
      ASSERT_EQ(q[b].qs[j], expect) << "block " << b << " element " << j;
    }
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += q[b].qs[16 * g + j];
      EXPECT_EQ(q[b].bsums[g], s);
    }
  }
}

TEST(Quantize, Q8_0MatchesGgmlReferenceSemantics) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 1024;
  std::vector<float> x = test::random_floats(rng, n, 2.0f);
  std::vector<BlockQ8_0> q(n / 32);
  quantize_row(TensorType::Q8_0, x.data(), q.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    EXPECT_EQ(test::half_value(q[b].d), static_cast<double>(fp16_to_fp32(fp32_to_fp16(d))));
    for (int j = 0; j < 32; ++j) {
      const float p = x[32 * b + j] * id;
      ASSERT_EQ(q[b].qs[j], static_cast<int>(std::round(p)));  // ties away from zero (roundf)
    }
  }
}

TEST(Fp16, DecodesEveryHalfExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const double ref = test::half_value(static_cast<uint16_t>(h));
    const float got = fp16_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(static_cast<double>(got), ref) << "half 0x" << std::hex << h;
      ASSERT_EQ(fp32_to_fp16(got), h) << "round trip of 0x" << std::hex << h;
    }
  }
}

TEST(Fp16, EncodesRoundToNearestEven) {
  HEARTH_SEEDED_RNG(rng);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = static_cast<uint32_t>(rng());
    // Bias towards the half range (exponents 2^-26 .. 2^17) so subnormals, normals and overflow all appear.
    u = (u & 0x807FFFFF) | ((static_cast<uint32_t>(rng() % 44) + 101) << 23);
    float f;
    std::memcpy(&f, &u, 4);
    const uint16_t h = fp32_to_fp16(f);
    const double v = test::half_value(h);
    if (std::fabs(f) >= 65520.0) {
      ASSERT_TRUE(std::isinf(v)) << f;
      continue;
    }
    // Neighbours of h in magnitude; h must be at least as close as either, ties to an even mantissa.
    const uint16_t mag = h & 0x7FFF;
    const double err = std::fabs(v - f);
    if (mag < 0x7BFF) {
      ASSERT_LE(err, std::fabs(test::half_value(static_cast<uint16_t>(h + 1)) - f)) << f;
    }
    if (mag > 0) {
      const double down = std::fabs(test::half_value(static_cast<uint16_t>(h - 1)) - f);
      ASSERT_LE(err, down) << f;
      if (err == down) {
        ASSERT_EQ(h & 1, 0) << f;
      }
    }
  }
}

TEST(Bf16, EncodesRoundToNearestEvenAndQuietsNaN) {
  HEARTH_SEEDED_RNG(rng);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t u = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &u, 4);
    const uint16_t h = fp32_to_bf16(f);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(bf16_to_fp32(h)));
      ASSERT_EQ(h & 64, 64);
      continue;
    }
    const uint16_t t = static_cast<uint16_t>(u >> 16);  // truncation; the answer is t or t + 1
    const double lo = test::bf16_value(t);
    // Past the largest finite bf16 the next step up is 2^128 (which rounds to infinity).
    const uint16_t up = static_cast<uint16_t>(t + 1);
    const double hi = (up & 0x7F80) == 0x7F80 ? std::copysign(std::ldexp(1.0, 128), f) : test::bf16_value(up);
    const double dl = std::fabs(f - lo), dh = std::fabs(hi - f);
    const uint16_t expect = dl < dh ? t : dh < dl ? static_cast<uint16_t>(t + 1) : ((t & 1) ? t + 1 : t);
    ASSERT_EQ(h, expect) << f;
    ASSERT_EQ(static_cast<double>(bf16_to_fp32(h)), test::bf16_value(h));
  }
}

TEST(Quantize, RejectsRowsThatAreNotWholeBlocks) {
  std::vector<float> x(48);
  std::vector<uint8_t> q(64);
  EXPECT_THROW(quantize_row(TensorType::Q4_0, x.data(), q.data(), 48), Error);
  EXPECT_THROW(dequantize_row(TensorType::Q4_K, q.data(), x.data(), 48), Error);
  EXPECT_THROW(quantize_row(TensorType::IQ2_XS, x.data(), q.data(), 32), Error);
}

}  // namespace
}  // namespace hearth::cpu
