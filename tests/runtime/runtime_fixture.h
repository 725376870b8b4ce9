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
