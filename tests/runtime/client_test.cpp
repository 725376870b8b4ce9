// The local Client end to end on a real fixture model: query and chat give the Engine's tokens, streaming
// delivers exactly the response, cancellation frees the sequence, admission control refuses clearly.
#include <atomic>
#include <chrono>
#include <thread>

#include "hearth/client.h"
#include "hearth/engine.h"
#include "hearth/error.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;

namespace {

std::vector<hearth::TokenId> engine_greedy(const std::vector<hearth::TokenId>& prompt, int n) {
  hearth::EngineOptions o;
  o.threads = 2;
  o.ctx = 512;
  auto engine = hearth::Engine::load(kModel, o);
  hearth::GenerateOptions g;
  g.max_tokens = n;
  g.sampling = hearth::SamplingParams::greedy();
  g.ignore_eos = true;
  return engine->generate(prompt, g).tokens;
}

TEST_F(RuntimeTest, QueryMatchesTheEngineAndStreamsTheSameText) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options()));
  auto q = greedy_query("Once upon a time", 24);
  std::string via_callback;
  q.on_tokens = [&](const hearth::TokenBatch& b) { via_callback += b.text; };
  hearth::Run run = client.query(ep, q);
  std::string streamed;
  std::vector<hearth::TokenId> streamed_tokens;
  while (auto batch = run.next()) {
    streamed += batch->text;
    streamed_tokens.insert(streamed_tokens.end(), batch->tokens.begin(), batch->tokens.end());
  }
  const hearth::Response& r = run.wait();
  EXPECT_EQ(r.finish_reason, "length");
  ASSERT_EQ(r.tokens.size(), 24u);
  EXPECT_EQ(streamed_tokens, r.tokens);
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(via_callback, r.text);
  EXPECT_EQ(r.text, ep.tokenizer().decode(r.tokens));
  EXPECT_EQ(r.tokens, engine_greedy(ep.tokenizer().encode("Once upon a time", true, true), 24));
  EXPECT_EQ(r.usage.completion_tokens, 24);
  EXPECT_GT(r.usage.prompt_tokens, 0);
  EXPECT_GT(r.usage.ttft_seconds, 0);
  EXPECT_GE(r.usage.total_seconds, r.usage.ttft_seconds);
  EXPECT_EQ(r.token_ticks.size(), r.tokens.size());
  const auto stats = ep.stats();
  EXPECT_EQ(stats.requests_admitted, 1u);
  EXPECT_EQ(stats.requests_finished, 1u);
  EXPECT_GE(stats.ticks, 24u);
}

TEST_F(RuntimeTest, ChatAppliesTheTemplateAndStopsAtAStopString) {
  const std::string model = std::string(HEARTH_FIXTURE_DIR) + "/models/qwen2-bpe-q4_0.gguf";
  Client client;
  auto ep = client.add(EndpointDescriptor::local("qwen", model, small_options()));
  hearth::ChatRequest c;
  c.messages = {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hello there"}}};
  c.max_tokens = 24;
  c.sampling = hearth::SamplingParams::greedy();
  c.ignore_eos = true;
  const hearth::Response full = client.chat(ep, c).wait();

  // The same conversation through the Engine's template rendering gives the same tokens.
  hearth::EngineOptions eo;
  eo.threads = 2;
  eo.ctx = 512;
  auto engine = hearth::Engine::load(model, eo);
  auto prompt = engine->tokenizer().encode(engine->apply_chat_template(c.messages), false, true);
  hearth::GenerateOptions g;
  g.max_tokens = 24;
  g.sampling = hearth::SamplingParams::greedy();
  g.ignore_eos = true;
  EXPECT_EQ(full.tokens, engine->generate(prompt, g).tokens);
  EXPECT_EQ(full.usage.prompt_tokens, int64_t(prompt.size()));

  ASSERT_GE(full.text.size(), 6u);
  const std::string stop = full.text.substr(full.text.size() / 2, 3);
  c.stop = {stop};
  const hearth::Response& r = client.chat(ep, c).wait();
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.text, full.text.substr(0, full.text.find(stop)));
}

TEST_F(RuntimeTest, ChatOnAModelWithoutATemplateIsRefused) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options()));
  hearth::ChatRequest c;
  c.messages = {{{"role", "user"}, {"content", "Hello"}}};
  try {
    client.chat(ep, c);
    FAIL() << "chat without a template was accepted";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no chat template"), std::string::npos) << e.what();
  }
  c.messages = nlohmann::json::array();
  EXPECT_THROW(client.chat(ep, c), hearth::Error);
}

TEST_F(RuntimeTest, CancelEndsTheRunAndFreesItsSequence) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/1)));
  auto q = greedy_query("The long road goes on and on", 400);
  std::atomic<int> seen{0};
  q.on_tokens = [&](const hearth::TokenBatch& b) { seen += int(b.tokens.size()); };
  hearth::Run run = client.query(ep, q);
  while (seen < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  run.cancel();
  const hearth::Response& r = run.wait();
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_LT(r.tokens.size(), 400u);
  // The only sequence is free again: a new request runs to completion.
  const hearth::Response& next = client.query(ep, greedy_query("Hello", 4)).wait();
  EXPECT_EQ(next.finish_reason, "length");
  EXPECT_EQ(next.tokens.size(), 4u);
  EXPECT_EQ(ep.stats().requests_cancelled, 1u);
}

TEST_F(RuntimeTest, CancelWhileQueuedNeverRuns) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/1)));
  hearth::Run first = client.query(ep, greedy_query("First in line", 64));
  hearth::Run second = client.query(ep, greedy_query("Second in line", 64));
  second.cancel();
  EXPECT_EQ(second.wait().finish_reason, "cancelled");
  EXPECT_TRUE(second.wait().tokens.empty());
  EXPECT_EQ(first.wait().finish_reason, "length");
}

TEST_F(RuntimeTest, FullQueueRefusesWithAClearError) {
  Client client;
  auto o = small_options(/*n_seq=*/1);
  o.max_queue = 2;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
  std::vector<hearth::Run> runs;
  bool refused = false;
  // One runs, two wait; with the first still decoding 200 tokens, a fourth cannot be queued.
  for (int i = 0; i < 4; i++) {
    try {
      runs.push_back(client.query(ep, greedy_query("Request number " + std::to_string(i), 200)));
    } catch (const hearth::Error& e) {
      refused = true;
      EXPECT_NE(std::string(e.what()).find("queue full"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_GE(ep.stats().requests_refused, 1u);
  for (auto& r : runs) r.cancel();
  for (auto& r : runs) r.wait();
}

TEST_F(RuntimeTest, PromptLongerThanTheContextIsRefused) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(2, /*ctx=*/64)));
  hearth::QueryRequest q = greedy_query("", 4);
  q.prompt_tokens.assign(64, 100);
  try {
    client.query(ep, q);
    FAIL() << "a 64-token prompt in a 64-token context was admitted";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit the context of 64"), std::string::npos) << e.what();
  }
  q.prompt_tokens.assign(8, 40000);
  EXPECT_THROW(client.query(ep, q), hearth::Error);
}

TEST_F(RuntimeTest, GenerationStopsWhenTheContextIsFull) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(1, /*ctx=*/32)));
  hearth::QueryRequest q = greedy_query("", 100);
  q.prompt_tokens.assign(20, 500);
  const hearth::Response& r = client.query(ep, q).wait();
  EXPECT_EQ(r.finish_reason, "length");
  // Positions 20..31 take the first 12 generated tokens; the 13th is sampled from the last position's logits.
  EXPECT_EQ(r.tokens.size(), 13u);
}

TEST_F(RuntimeTest, UnsupportedFieldsAreNamedInTheError) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options()));
  auto expect_error = [&](hearth::QueryRequest q, const std::string& field) {
    try {
      client.query(ep, q);
      ADD_FAILURE() << field << " was accepted";
    } catch (const hearth::Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  auto q = greedy_query("Hi", 4);
  q.max_tokens = -1;
  expect_error(q, "max_tokens");
  q = greedy_query("Hi", 4);
  q.endpoint_options = {{"logprobs", true}};
  expect_error(q, "endpoint_options");
  q = greedy_query("Hi", 4);
  q.sampling->top_p = 2.0f;
  expect_error(q, "top_p");
  q = greedy_query("", 4);
  expect_error(q, "prompt");
  EXPECT_THROW(client.add(EndpointDescriptor::local("tiny", kModel, small_options())), hearth::Error);
  EXPECT_THROW(client.endpoint("missing"), hearth::Error);
}

TEST_F(RuntimeTest, GatewayAndProviderDescriptorsGoToTheRemoteEndpoint) {
  Client client;
  hearth::ProviderEndpointOptions p;
  p.base_url = "http://127.0.0.1:9/v1";
  p.model = "m";
  p.api_key = [] { return std::string("sk-secret"); };
  // Until the remote endpoints land this is refused; either way the secret never appears in an error.
  try {
    auto ep = client.add({"provider", p});
    EXPECT_TRUE(ep.is_remote());
    EXPECT_FALSE(ep.is_local());
  } catch (const hearth::Error& e) {
    EXPECT_EQ(std::string(e.what()).find("sk-secret"), std::string::npos);
  }
}

}  // namespace
