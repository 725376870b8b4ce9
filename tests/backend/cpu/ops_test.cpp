// Element-wise ops against float64 references.
#include <cmath>

#include "backend/cpu/kernels.h"
#include "test_support.h"

namespace hearth::cpu {
namespace {

TEST(Ops, RmsNormMatchesFloat64) {
  HEARTH_SEEDED_RNG(rng);
  for (int64_t n : {1, 7, 4096}) {
    std::vector<float> x = test::random_floats(rng, n, 3.0f), w = test::random_floats(rng, n), y(n), y0(n);
    rms_norm(x.data(), w.data(), y.data(), n, 1e-5f);
    rms_norm(x.data(), nullptr, y0.data(), n, 1e-5f);
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double scale = 1.0 / std::sqrt(ss / n + 1e-5);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(y[i], x[i] * scale * w[i], 1e-6 * std::fabs(x[i] * scale * w[i]) + 1e-7);
      ASSERT_NEAR(y0[i], x[i] * scale, 1e-6 * std::fabs(x[i] * scale) + 1e-7);
    }
  }
}

TEST(Ops, LayerNormMatchesFloat64) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 1000;
  std::vector<float> x = test::random_floats(rng, n, 2.0f), w = test::random_floats(rng, n),
                     b = test::random_floats(rng, n), y(n);
  for (float& v : x) v += 3.0f;
  layer_norm(x.data(), w.data(), b.data(), y.data(), n, 1e-5f);
  double mean = 0, var = 0;
  for (float v : x) mean += v;
  mean /= n;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= n;
  for (int64_t i = 0; i < n; ++i) {
    const double ref = (x[i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i];
    ASSERT_NEAR(y[i], ref, 2e-6 * (std::fabs(ref) + 1));
  }
}

TEST(Ops, SoftmaxMatchesFloat64) {
  HEARTH_SEEDED_RNG(rng);
  for (int64_t n : {1, 5, 3000}) {
    std::vector<float> x = test::random_floats(rng, n, 8.0f);
    x[0] = 80.0f;  // large logits must not overflow
    std::vector<double> ref(x.begin(), x.end());
    double mx = ref[0], sum = 0;
    for (double v : ref) mx = std::max(mx, v);
    for (double& v : ref) sum += (v = std::exp(v - mx));
    softmax_inplace(x.data(), n);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(x[i], ref[i] / sum, 1e-6 * (ref[i] / sum) + 1e-9);
      total += x[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(Ops, ActivationsMatchFloat64) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t n = 2000;
  std::vector<float> g = test::random_floats(rng, n, 4.0f), u = test::random_floats(rng, n), y(n), z(n), a(n);
  silu_mul(g.data(), u.data(), y.data(), n);
  gelu_mul(g.data(), u.data(), z.data(), n);
  gelu(g.data(), a.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = g[i];
    const double silu = x / (1 + std::exp(-x)) * u[i];
    ASSERT_NEAR(y[i], silu, 1e-6 * (std::fabs(silu) + 1e-3));
    // ggml's GELU: input rounded to f16, tanh-GELU looked up and rounded to f16 (0 below -10, x above 10).
    double ge;
    if (x <= -10) {
      ge = 0;
    } else if (x >= 10) {
      ge = x;
    } else {
      const double xh = test::half_value(fp32_to_fp16(g[i]));
      const double exact = 0.5 * xh * (1 + std::tanh(std::sqrt(2 / M_PI) * (xh + 0.044715 * xh * xh * xh)));
      // The table entry is the f16 nearest to a float evaluation: within one f16 ulp of the exact value,
      // plus the float cancellation of 1 + tanh(..) for negative x (~ eps * |x| / 2).
      const double ulp = std::max(std::ldexp(1.0, -24), std::ldexp(std::fabs(exact), -10));
      ASSERT_NEAR(a[i], exact, ulp + 1e-7 * std::fabs(xh)) << "x=" << x;
      ASSERT_EQ(a[i], static_cast<float>(test::half_value(fp32_to_fp16(a[i])))) << "not an f16 value, x=" << x;
      ge = a[i];
    }
    ASSERT_EQ(z[i], static_cast<float>(ge) * u[i]) << "x=" << x;
    if (x <= -10 || x >= 10) {
      ASSERT_EQ(a[i], static_cast<float>(ge));
    }
  }
  // The clamp edges, and one table entry worked by hand: gelu_tanh(1) = 0.841192 -> f16 0x3abb.
  const float edges[] = {-10.5f, -10.0f, 10.0f, 12.5f, 1.0f};
  float out[5];
  gelu(edges, out, 5);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 10.0f);
  EXPECT_EQ(out[3], 12.5f);
  EXPECT_EQ(fp32_to_fp16(out[4]), 0x3abb);
  std::vector<float> s(n);
  add(g.data(), u.data(), s.data(), n);
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(s[i], g[i] + u[i]);
}

// Float64 rope with the same angle schedule (theta_i = pos * scale * base^(-2i/n_rot) / ff_i).
void rope_ref(std::vector<double>& x, int64_t n_rot, int64_t pos, double base, double scale, const float* ff,
              int mode) {
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    const double theta = pos * scale * std::pow(base, -2.0 * i / n_rot) / (ff ? ff[i] : 1.0);
    const int64_t a = mode == 0 ? 2 * i : i, b = mode == 0 ? 2 * i + 1 : i + n_rot / 2;
    const double x0 = x[a], x1 = x[b];
    x[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
    x[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
  }
}

TEST(Ops, RopeNormalAndNeoxMatchFloat64) {
  HEARTH_SEEDED_RNG(rng);
  const int64_t head_dim = 128;
  std::vector<float> ff(64);
  for (auto& f : ff) f = 1.0f + static_cast<float>(rng() % 8);
  for (int mode : {0, 2}) {
    for (int64_t n_rot : {128, 64}) {
      for (int64_t pos : {0, 1, 17, 500}) {
        for (const float* factors : {static_cast<const float*>(nullptr), static_cast<const float*>(ff.data())}) {
          std::vector<float> x = test::random_floats(rng, head_dim);
          std::vector<double> ref(x.begin(), x.end());
          rope(x.data(), head_dim, n_rot, pos, 10000.0f, 0.5f, factors, mode);
          rope_ref(ref, n_rot, pos, 10000.0, 0.5, factors, mode);
          // theta is built by repeated float multiplication as ggml does: relative error ~ i * 1e-7 of an
          // angle up to ~250 rad, so allow ~1e-4 absolute.
          for (int64_t i = 0; i < head_dim; ++i) {
            ASSERT_NEAR(x[i], ref[i], 2e-4 + 1e-6 * pos)
                << "mode " << mode << " n_rot " << n_rot << " pos " << pos << " i " << i;
          }
        }
      }
    }
  }
}

TEST(Ops, RopeRejectsBadDims) {
  std::vector<float> x(8);
  EXPECT_THROW(rope(x.data(), 8, 10, 0, 10000.f, 1.f, nullptr, 0), Error);
  EXPECT_THROW(rope(x.data(), 8, 8, 0, 10000.f, 1.f, nullptr, 1), Error);
}

}  // namespace
}  // namespace hearth::cpu
