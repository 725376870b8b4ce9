// Engine behaviour on a real fixture model: prefix reuse gives the same tokens as a cold run, stop strings,
// cancellation, limits and clear errors.
#include "hearth/engine.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "hearth/error.h"

namespace {

const std::string kModel = std::string(HEARTH_FIXTURE_DIR) + "/models/llama-spm-q8_0.gguf";

std::unique_ptr<hearth::Engine> load(int64_t ctx = 256) {
  hearth::EngineOptions o;
  o.threads = 2;
  o.ctx = ctx;
  return hearth::Engine::load(kModel, o);
}

hearth::GenerateOptions greedy(int n) {
  hearth::GenerateOptions g;
  g.max_tokens = n;
  g.sampling = hearth::SamplingParams::greedy();
  g.ignore_eos = true;
  return g;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kModel)) GTEST_SKIP() << "run scripts/make_fixtures.sh";
  }
};

TEST_F(EngineTest, FollowUpReusesThePrefixAndMatchesAColdRun) {
  auto warm = load();
  auto first = warm->tokenize_prompt("The quick brown fox jumps over the lazy dog. The quick brown fox");
  auto r1 = warm->generate(first, greedy(8));
  // The follow-up extends the first prompt and its answer, as a chat turn does.
  std::vector<hearth::TokenId> follow = first;
  follow.insert(follow.end(), r1.tokens.begin(), r1.tokens.end());
  auto more = warm->tokenizer().encode(" and then", false, false);
  follow.insert(follow.end(), more.begin(), more.end());
  auto r2 = warm->generate(follow, greedy(8));
  EXPECT_GE(r2.cached_tokens, int64_t(first.size() + r1.tokens.size() - 1));

  auto cold = load();
  auto r3 = cold->generate(follow, greedy(8));
  EXPECT_EQ(r3.cached_tokens, 0);
  EXPECT_EQ(r2.tokens, r3.tokens);
}

TEST_F(EngineTest, BatchSizeDoesNotChangeTheResult) {
  hearth::EngineOptions a, b;
  a.threads = b.threads = 2;
  a.ctx = b.ctx = 256;
  a.batch = 1;
  b.batch = 64;
  auto ea = hearth::Engine::load(kModel, a), eb = hearth::Engine::load(kModel, b);
  auto p = ea->tokenize_prompt("Once upon a time, in a village by the sea, there lived an old fisherman who");
  EXPECT_EQ(ea->evaluate(p), eb->evaluate(p));
}

TEST_F(EngineTest, StopStringEndsGenerationAndIsNotEmitted) {
  auto e = load();
  auto p = e->tokenize_prompt("Hello");
  auto full = e->generate(p, greedy(24));
  ASSERT_GE(full.text.size(), 6u);
  const std::string stop = full.text.substr(full.text.size() / 2, 3);
  auto g = greedy(24);
  g.stop = {stop};
  std::string streamed;
  auto r = e->generate(p, g, [&](const std::string& s) { streamed += s; return true; });
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(streamed, r.text);
}

TEST_F(EngineTest, CallbackCanCancel) {
  auto e = load();
  int pieces = 0;
  auto r = e->generate(e->tokenize_prompt("Hello"), greedy(50), [&](const std::string&) { return ++pieces < 3; });
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_LE(r.tokens.size(), 10u);
}

TEST_F(EngineTest, ContextLimitsAreEnforced) {
  auto e = load(16);
  auto p = e->tokenize_prompt("one two three four five six");
  auto r = e->generate(p, greedy(100));
  EXPECT_EQ(r.finish_reason, "length");
  EXPECT_LE(int64_t(p.size() + r.tokens.size()), 17);
  std::vector<hearth::TokenId> too_long(40, 100);
  EXPECT_THROW(e->generate(too_long, greedy(1)), hearth::Error);
  EXPECT_THROW(e->evaluate({hearth::TokenId(1 << 30)}), hearth::Error);
  hearth::EngineOptions o;
  o.ctx = 1 << 20;
  EXPECT_THROW(hearth::Engine::load(kModel, o), hearth::Error);
}

}  // namespace
