#include "engine/sampler.h"

#include <algorithm>
#include <cmath>

namespace hearth {

Sampler::Sampler(const SamplingParams& params, size_t n_vocab)
    : params_(params), n_vocab_(n_vocab), rng_(params.seed), counts_(n_vocab, 0) {
  cands_.reserve(n_vocab);
}

void Sampler::apply_penalties(const std::vector<TokenId>& history) {
  const bool any = params_.repeat_penalty != 1.0f || params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  if (!any || params_.penalty_last_n == 0 || history.empty()) return;
  size_t n = params_.penalty_last_n < 0 ? history.size() : std::min(history.size(), size_t(params_.penalty_last_n));
  auto begin = history.end() - std::ptrdiff_t(n);
  for (auto it = begin; it != history.end(); ++it)
    if (*it >= 0 && size_t(*it) < n_vocab_) counts_[size_t(*it)]++;
  for (auto it = begin; it != history.end(); ++it) {
    if (*it < 0 || size_t(*it) >= n_vocab_) continue;
    int32_t& cnt = counts_[size_t(*it)];
    if (cnt == 0) continue;  // already applied for this id
    float& l = cands_[size_t(*it)].logit;
    // As llama.cpp: divide positive logits, multiply negative ones, then subtract the OpenAI-style terms.
    l = l <= 0 ? l * params_.repeat_penalty : l / params_.repeat_penalty;
    l -= float(cnt) * params_.frequency_penalty + params_.presence_penalty;
    cnt = 0;
  }
}

TokenId Sampler::sample(const float* logits, const std::vector<TokenId>& history) {
  cands_.resize(n_vocab_);
  for (size_t i = 0; i < n_vocab_; i++) cands_[i] = {TokenId(i), logits[i], 0.0f};
  apply_penalties(history);

  if (params_.temperature <= 0.0f) {
    auto best = std::max_element(cands_.begin(), cands_.end(),
                                 [](const Candidate& a, const Candidate& b) { return a.logit < b.logit; });
    return best->id;
  }

  size_t n = cands_.size();
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; };
  if (params_.top_k > 0 && size_t(params_.top_k) < n) {
    std::partial_sort(cands_.begin(), cands_.begin() + params_.top_k, cands_.end(), by_logit);
    n = size_t(params_.top_k);
  } else {
    std::sort(cands_.begin(), cands_.end(), by_logit);
  }
  auto softmax = [&](size_t m) {
    const float mx = cands_[0].logit;
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
      cands_[i].p = std::exp(cands_[i].logit - mx);
      sum += cands_[i].p;
    }
    for (size_t i = 0; i < m; i++) cands_[i].p = float(cands_[i].p / sum);
  };
  softmax(n);
  if (params_.top_p < 1.0f) {
    double cum = 0;
    size_t keep = n;
    for (size_t i = 0; i < n; i++) {
      cum += cands_[i].p;
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = std::max<size_t>(1, keep);
  }
  if (params_.min_p > 0.0f) {
    const float threshold = cands_[0].p * params_.min_p;
    size_t keep = 1;
    while (keep < n && cands_[keep].p >= threshold) keep++;
    n = keep;
  }
  for (size_t i = 0; i < n; i++) cands_[i].logit /= params_.temperature;
  softmax(n);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  double r = uni(rng_), cum = 0;
  for (size_t i = 0; i < n; i++) {
    cum += cands_[i].p;
    if (r < cum) return cands_[i].id;
  }
  return cands_[n - 1].id;
}

}  // namespace hearth
