#include "engine/sampler.h"

#include <cmath>
#include <map>
#include <random>

#include <gtest/gtest.h>

using hearth::Sampler;
using hearth::SamplingParams;

namespace {

std::vector<float> random_logits(size_t n, uint64_t seed, float scale = 3.0f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

size_t argmax(const std::vector<float>& v) { return size_t(std::max_element(v.begin(), v.end()) - v.begin()); }

TEST(Sampler, GreedyIsArgmax) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    auto l = random_logits(1000, seed);
    Sampler s(SamplingParams::greedy(), l.size());
    EXPECT_EQ(size_t(s.sample(l.data(), {})), argmax(l));
  }
}

TEST(Sampler, TopKOneIsArgmaxAtAnyTemperature) {
  auto l = random_logits(500, 7);
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  Sampler s(p, l.size());
  for (int i = 0; i < 50; i++) EXPECT_EQ(size_t(s.sample(l.data(), {})), argmax(l));
}

TEST(Sampler, SameSeedSameTokens) {
  auto l = random_logits(300, 3, 1.0f);
  SamplingParams p;
  p.top_k = 0; p.top_p = 1; p.min_p = 0; p.temperature = 1.0f; p.seed = 99;
  Sampler a(p, l.size()), b(p, l.size());
  std::vector<int> xa, xb;
  for (int i = 0; i < 100; i++) xa.push_back(a.sample(l.data(), {})), xb.push_back(b.sample(l.data(), {}));
  EXPECT_EQ(xa, xb);
  p.seed = 100;
  Sampler c(p, l.size());
  std::vector<int> xc;
  for (int i = 0; i < 100; i++) xc.push_back(c.sample(l.data(), {}));
  EXPECT_NE(xa, xc);
}

// With no truncation, frequencies follow softmax(logits / T).
TEST(Sampler, FrequenciesFollowSoftmax) {
  std::vector<float> l = {1.0f, 0.0f, -1.0f, 2.0f};
  SamplingParams p;
  p.top_k = 0; p.top_p = 1; p.min_p = 0; p.temperature = 0.7f; p.seed = 5;
  Sampler s(p, l.size());
  std::vector<int> counts(4, 0);
  const int N = 40000;
  for (int i = 0; i < N; i++) counts[size_t(s.sample(l.data(), {}))]++;
  double z = 0;
  for (float x : l) z += std::exp(double(x) / 0.7);
  for (size_t i = 0; i < 4; i++) {
    const double expect = std::exp(double(l[i]) / 0.7) / z;
    const double sd = std::sqrt(expect * (1 - expect) / N);
    EXPECT_NEAR(double(counts[i]) / N, expect, 5 * sd + 1e-4) << "token " << i;
  }
}

TEST(Sampler, TopPAndMinPTruncate) {
  // probabilities ≈ 0.64, 0.24, 0.09, 0.03
  std::vector<float> l = {3.0f, 2.0f, 1.0f, 0.0f};
  SamplingParams p;
  p.top_k = 0; p.min_p = 0; p.top_p = 0.7f; p.temperature = 1.0f;
  Sampler s(p, l.size());
  for (int i = 0; i < 2000; i++) EXPECT_LT(s.sample(l.data(), {}), 2);
  SamplingParams q;
  q.top_k = 0; q.top_p = 1; q.min_p = 0.3f; q.temperature = 1.0f;
  Sampler m(q, l.size());
  for (int i = 0; i < 2000; i++) EXPECT_LT(m.sample(l.data(), {}), 2);
}

TEST(Sampler, RepeatPenaltyMovesArgmax) {
  std::vector<float> l = {2.0f, 1.9f, -5.0f};
  SamplingParams p = SamplingParams::greedy();
  p.repeat_penalty = 1.5f;
  Sampler s(p, l.size());
  EXPECT_EQ(s.sample(l.data(), {0}), 1);       // 2.0 / 1.5 < 1.9
  EXPECT_EQ(s.sample(l.data(), {2}), 0);       // penalising another token changes nothing
  SamplingParams f = SamplingParams::greedy();
  f.frequency_penalty = 0.06f;
  Sampler fs(f, l.size());
  EXPECT_EQ(fs.sample(l.data(), {0}), 0);      // 2.0 - 0.06 > 1.9
  EXPECT_EQ(fs.sample(l.data(), {0, 0}), 1);   // 2.0 - 0.12 < 1.9
  SamplingParams pr = SamplingParams::greedy();
  pr.presence_penalty = 0.2f;
  Sampler ps(pr, l.size());
  EXPECT_EQ(ps.sample(l.data(), {0}), 1);
}

}  // namespace
