// Continuous batching on a real fixture model: concurrent requests give exactly the tokens each gives alone,
// and a long prompt arriving mid-stream never stalls an active decode stream.
#include <atomic>
#include <chrono>
#include <thread>

#include "hearth/client.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;

namespace {

TEST_F(RuntimeTest, EightConcurrentRequestsGiveTheTokensEachGivesAlone) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/8)));
  const std::vector<std::string> prompts = {
      "Once upon a time",        "The capital of France is", "def fibonacci(n):",     "In the beginning",
      "A list of prime numbers:", "Dear Sir or Madam,",       "The weather today is", "Rust and C++ both"};
  std::vector<hearth::Run> runs;
  for (size_t i = 0; i < prompts.size(); i++)
    runs.push_back(client.query(ep, greedy_query(prompts[i], 12 + int(i))));   // different lengths end apart
  for (size_t i = 0; i < prompts.size(); i++) {
    const hearth::Response& r = runs[i].wait();
    ASSERT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.tokens, engine_alone(ep.tokenizer().encode(prompts[i], true, true), 12 + int(i))) << prompts[i];
  }
  // They really shared forward passes: some tick decoded all eight at once.
  const auto stats = ep.stats();
  EXPECT_GE(stats.max_batch, 8);
  int widest = 0;
  for (const auto& t : ep.recent_ticks()) widest = std::max(widest, t.decode_rows);
  EXPECT_EQ(widest, 8);
  EXPECT_LT(stats.ticks, 8u * 12u);   // far fewer ticks than running them one after another
}

TEST_F(RuntimeTest, LongPrefillDoesNotDelayAnActiveStream) {
  auto o = small_options(/*n_seq=*/2, /*ctx=*/1024);
  o.prefill_budget = 32;
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
  auto a = greedy_query("The river flows", 80);
  std::atomic<int> a_tokens{0};
  a.on_tokens = [&](const hearth::TokenBatch& b) { a_tokens += int(b.tokens.size()); };
  hearth::Run run_a = client.query(ep, a);
  while (a_tokens < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  hearth::QueryRequest b = greedy_query("", 4);
  b.prompt_tokens = long_prompt(ep.tokenizer(), 700, " a long document that arrives while a stream is decoding");
  hearth::Run run_b = client.query(ep, b);
  const hearth::Response& ra = run_a.wait();
  const hearth::Response& rb = run_b.wait();
  ASSERT_EQ(ra.tokens.size(), 80u);
  ASSERT_EQ(rb.tokens.size(), 4u);

  // A got a token in every tick from its first to its last: the 700-token prompt never made it wait.
  for (size_t i = 1; i < ra.token_ticks.size(); i++)
    ASSERT_EQ(ra.token_ticks[i], ra.token_ticks[i - 1] + 1) << "stream A skipped a tick at token " << i;
  // B's prompt was split into ticks of at most the prefill budget, each also carrying A's decode row.
  int shared_ticks = 0;
  for (const auto& t : ep.recent_ticks()) {
    EXPECT_LE(t.prefill_rows, 32);
    if (t.index > ra.token_ticks.front() && t.index <= ra.token_ticks.back()) {   // A decoding
      EXPECT_GE(t.decode_rows, 1) << "tick " << t.index;
      if (t.prefill_rows > 0) shared_ticks++;
    }
  }
  EXPECT_GE(shared_ticks, 700 / 32);
  // And both are still exactly what they give alone.
  EXPECT_EQ(ra.tokens, engine_alone(ep.tokenizer().encode("The river flows", true, true), 80));
  EXPECT_EQ(rb.tokens, engine_alone(b.prompt_tokens, 4));
}

TEST_F(RuntimeTest, MoreStreamsThanTheDecodeBudgetTakeTurns) {
  auto o = small_options(/*n_seq=*/4);
  o.decode_budget = 2;
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
  const std::vector<std::string> prompts = {"One", "Two words", "Three words here", "Four words are here"};
  std::vector<hearth::Run> runs;
  for (const auto& p : prompts) runs.push_back(client.query(ep, greedy_query(p, 10)));
  for (size_t i = 0; i < prompts.size(); i++)
    EXPECT_EQ(runs[i].wait().tokens, engine_alone(ep.tokenizer().encode(prompts[i], true, true), 10));
  for (const auto& t : ep.recent_ticks()) EXPECT_LE(t.decode_rows, 2);
}

}  // namespace
