#pragma once
// Shared by the runtime tests: the fixture model, a local endpoint over it, greedy requests.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "hearth/client.h"

namespace runtime_test {

inline const std::string kModel = std::string(HEARTH_FIXTURE_DIR) + "/models/llama-spm-q8_0.gguf";

inline hearth::LocalEndpointOptions small_options(int n_seq = 4, int64_t ctx = 512) {
  hearth::LocalEndpointOptions o;
  o.threads = 2;
  o.ctx = ctx;
  o.n_seq = n_seq;
  return o;
}

inline hearth::QueryRequest greedy_query(std::string prompt, int max_tokens) {
  hearth::QueryRequest q;
  q.prompt = std::move(prompt);
  q.max_tokens = max_tokens;
  q.sampling = hearth::SamplingParams::greedy();
  q.ignore_eos = true;
  return q;
}

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "run scripts/make_fixtures.sh";
  }
};

}  // namespace runtime_test

#include "hearth/engine.h"

namespace runtime_test {

// What the single-sequence Engine generates for `prompt` alone (greedy): the independent reference for
// everything the scheduler batches, copies or restores.
inline std::vector<hearth::TokenId> engine_alone(const std::vector<hearth::TokenId>& prompt, int n,
                                                 const std::string& model = kModel, int64_t ctx = 2048) {
  hearth::EngineOptions o;
  o.threads = 2;
  o.ctx = ctx;
  auto engine = hearth::Engine::load(model, o);
  hearth::GenerateOptions g;
  g.max_tokens = n;
  g.sampling = hearth::SamplingParams::greedy();
  g.ignore_eos = true;
  return engine->generate(prompt, g).tokens;
}

// A prompt of exactly n tokens: BOS, then text tokens repeated.
inline std::vector<hearth::TokenId> long_prompt(const hearth::Tokenizer& tok, size_t n, const std::string& seed_text) {
  std::vector<hearth::TokenId> text = tok.encode(seed_text, false, false);
  std::vector<hearth::TokenId> p = {*tok.bos()};
  while (p.size() < n) p.push_back(text[(p.size() - 1) % text.size()]);
  return p;
}

}  // namespace runtime_test
