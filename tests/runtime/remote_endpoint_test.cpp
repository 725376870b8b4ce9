// Provider and gateway endpoints against a real HTTP server on loopback (cpp-httplib) that speaks the OpenAI
// protocol: streaming, the request the upstream receives, upstream errors, cut streams, timeouts, and keys
// that never appear in an error, even when the upstream echoes them back.
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hearth/client.h"
#include "hearth/error.h"

namespace {

using hearth::Client;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "sk-test-PLANTED-7f3a9c";

std::string sse(const json& j) { return "data: " + j.dump() + "\n\n"; }

json chunk(const std::string& text, const char* finish = nullptr) {
  json c = {{"id", "c1"}, {"object", "chat.completion.chunk"}, {"model", "up"},
            {"choices", json::array({{{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}}})}};
  if (finish) c["choices"][0]["finish_reason"] = finish;
  return c;
}

// An OpenAI-shaped upstream on 127.0.0.1 with a few behaviours picked by the requested model name.
class Upstream {
 public:
  Upstream() {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      const json body = json::parse(req.body);
      const std::string model = body.value("model", "");
      if (model == "echo-key-401") {  // a hostile upstream that repeats the key in its error
        res.status = 401;
        res.set_content(json{{"error", {{"message", "invalid key " + req.get_header_value("Authorization")}}}}.dump(),
                        "application/json");
        return;
      }
      if (model == "slow") std::this_thread::sleep_for(std::chrono::seconds(3));
      const bool cut = model == "cut";
      res.set_chunked_content_provider("text/event-stream", [cut](size_t, httplib::DataSink& sink) {
        for (const char* piece : {"Hel", "lo", " world"}) {
          std::string event = sse(chunk(piece));
          sink.write(event.data(), event.size());
        }
        if (!cut) {
          std::string tail = sse(chunk("", "stop")) +
                             sse({{"id", "c1"}, {"object", "chat.completion.chunk"}, {"choices", json::array()},
                                  {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}, {"total_tokens", 10}}}}) +
                             "data: [DONE]\n\n";
          sink.write(tail.data(), tail.size());
        }
        sink.done();
        return true;
      });
    });
    server_.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      record(req);
      const json body = json::parse(req.body);
      json data = json::array();
      for (size_t i = 0; i < body["input"].size(); i++)
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", {0.6, 0.8, double(i)}}});
      res.set_content(json{{"object", "list"}, {"data", data}, {"model", "up"}}.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Upstream() {
    server_.stop();
    thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  json last_body() {
    std::lock_guard lk(mu_);
    return last_body_;
  }
  std::string last_auth() {
    std::lock_guard lk(mu_);
    return last_auth_;
  }

 private:
  void record(const httplib::Request& req) {
    std::lock_guard lk(mu_);
    last_body_ = json::parse(req.body);
    last_auth_ = req.get_header_value("Authorization");
  }
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  json last_body_;
  std::string last_auth_;
};

hearth::Endpoint add_provider(Client& client, const Upstream& up, const std::string& model, double timeout = 30) {
  hearth::ProviderEndpointOptions p;
  p.base_url = up.base_url();
  p.model = model;
  p.api_key = [] { return std::string(kKey); };
  p.timeout_seconds = timeout;
  return client.add({"provider-" + model, p});
}

hearth::ChatRequest hello() {
  hearth::ChatRequest req;
  req.messages = json::array({{{"role", "user"}, {"content", "Hi"}}});
  req.max_tokens = 16;
  return req;
}

// The error a chat fails with, whether the call refuses at once (the upstream answered an error status before
// any token) or the run fails later.
std::string error_of(Client& client, const hearth::Endpoint& ep, const hearth::ChatRequest& req) {
  try {
    client.chat(ep, req).wait();
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ProviderEndpoint, StreamsBatchesAndSendsTheOpenAiRequest) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "up-model");
  hearth::Run run = client.chat(ep, hello());
  std::string streamed;
  int batches = 0;
  while (auto b = run.next()) {
    streamed += b->text;
    batches++;
  }
  const hearth::Response& r = run.wait();
  EXPECT_EQ(streamed, "Hello world");
  EXPECT_GE(batches, 1);
  EXPECT_EQ(r.text, "Hello world");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.prompt_tokens, 7);
  EXPECT_EQ(r.usage.completion_tokens, 3);

  const json sent = up.last_body();
  EXPECT_EQ(sent["model"], "up-model");
  EXPECT_EQ(sent["stream"], true);
  EXPECT_EQ(sent["max_tokens"], 16);
  EXPECT_EQ(sent["messages"][0]["content"], "Hi");
  EXPECT_EQ(up.last_auth(), std::string("Bearer ") + kKey);
}

TEST(ProviderEndpoint, UpstreamErrorNamesTheStatusWithoutTheKey) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "echo-key-401");
  const std::string message = error_of(client, ep, hello());
  ASSERT_FALSE(message.empty()) << "a 401 upstream must fail the run";
  EXPECT_NE(message.find("401"), std::string::npos) << message;
  EXPECT_EQ(message.find(kKey), std::string::npos) << "the key leaked: " << message;
}

TEST(ProviderEndpoint, StreamCutBeforeDoneIsAnError) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "cut");
  const std::string message = error_of(client, ep, hello());
  EXPECT_NE(message.find("[DONE]"), std::string::npos) << message;
}

TEST(ProviderEndpoint, TimeoutEndsTheRunWithAClearError) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "slow", 0.5);
  const auto t0 = Clock::now();
  const std::string message = error_of(client, ep, hello());
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_NE(message.find("timed out"), std::string::npos) << message;
  EXPECT_LT(seconds, 2.5) << "the 0.5 s timeout did not cut the 3 s upstream";
  EXPECT_EQ(message.find(kKey), std::string::npos);
}

TEST(ProviderEndpoint, UnreachableUpstreamIsAnErrorNotAHang) {
  Client client;
  hearth::ProviderEndpointOptions p;
  p.base_url = "http://127.0.0.1:9/v1";  // discard port: nothing listens
  p.model = "m";
  p.api_key = [] { return std::string(kKey); };
  auto ep = client.add({"nowhere", p});
  const std::string message = error_of(client, ep, hello());
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.find(kKey), std::string::npos) << message;
}

TEST(ProviderEndpoint, LocalOnlyFieldsAndTypedOverridesAreRefused) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "up-model");
  hearth::ChatRequest with_key = hello();
  with_key.context_key = "conversation-1";
  EXPECT_THROW(client.chat(ep, with_key), hearth::Error);
  hearth::ChatRequest with_grammar = hello();
  with_grammar.grammar = "root ::= \"a\"";
  EXPECT_THROW(client.chat(ep, with_grammar), hearth::Error);
  hearth::ChatRequest overriding = hello();
  overriding.endpoint_options = {{"model", "other"}};
  EXPECT_THROW(client.chat(ep, overriding), hearth::Error);
  hearth::ChatRequest passthrough = hello();
  passthrough.endpoint_options = {{"user", "caller-42"}};
  client.chat(ep, passthrough).wait();
  EXPECT_EQ(up.last_body()["user"], "caller-42");
}

TEST(ProviderEndpoint, EmbeddingsComeBackInInputOrder) {
  Upstream up;
  Client client;
  auto ep = add_provider(client, up, "embedder");
  hearth::EmbedRequest req;
  req.inputs = {"a", "b"};
  req.normalize = false;
  auto vectors = client.embed(ep, req);
  ASSERT_EQ(vectors.size(), 2u);
  ASSERT_EQ(vectors[1].size(), 3u);
  EXPECT_FLOAT_EQ(vectors[0][0], 0.6f);
  EXPECT_FLOAT_EQ(vectors[1][2], 1.0f);
  EXPECT_EQ(up.last_body()["input"][1], "b");
}

}  // namespace
