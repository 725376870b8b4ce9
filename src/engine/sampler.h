#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "hearth/sampling.h"
#include "hearth/tokenizer.h"

namespace hearth {

// Picks the next token from a row of logits. Keeps its candidate buffer between calls so sampling
// allocates nothing per token after the first.
class Sampler {
 public:
  Sampler(const SamplingParams& params, size_t n_vocab);
  // history: tokens seen so far (prompt + generated), for the penalties.
  TokenId sample(const float* logits, const std::vector<TokenId>& history);
  const SamplingParams& params() const { return params_; }

 private:
  struct Candidate {
    TokenId id;
    float logit;
    float p;
  };
  void apply_penalties(const std::vector<TokenId>& history);
  SamplingParams params_;
  size_t n_vocab_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cands_;
  std::vector<int32_t> counts_;
};

}  // namespace hearth
