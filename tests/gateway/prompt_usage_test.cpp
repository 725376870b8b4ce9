// The Client records the registry prompt a request came from in its response usage (issue 6), over real HTTP
// on loopback: a gateway serves a registry; PromptResolver (the runtime's cached resolver) reads it from the
// gateway's /v1/prompts, a local endpoint runs the rendered text and reports the version in Usage::prompt,
// and keeps doing so (marked stale) once the gateway is gone. A gateway endpoint reports the version the
// gateway resolved for a prompt:// query.
#include <filesystem>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "hearth/client.h"
#include "hearth/prompts.h"
#include "prompts/prompt_store.h"

namespace hearth {
namespace {

const std::string kModel = HEARTH_FIXTURE_DIR "/models/llama-spm-q8_0.gguf";
const std::string kToken = "prompt-usage-test-token";

class PromptUsageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hearth_prompt_usage_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    {
      prompts::PromptStore store(dir_ / "prompts.sqlite");
      PromptContent content;
      content.template_text = "Tell me about {{ topic }}.";
      content.variables = {PromptVariable{"topic", PromptVarType::String, nlohmann::json("owls"), ""}};
      v1_hash_ = store.create_version("ask", content, "test", "first", "test").version.hash;
      store.promote("ask", "prod", {{1, 1.0}}, "test");
    }
    gateway::GatewayConfig c;
    c.listeners = {gateway::ListenerConfig{}};
    c.listeners[0].port = 0;
    LocalEndpointOptions o;
    o.threads = 1;
    o.n_seq = 2;
    o.ctx = 128;
    c.targets = {{"llama", EndpointDescriptor::local("llama", kModel, o), 0, ""}};
    gateway::TokenConfig t;
    t.name = "app";
    t.sha256_hex = gateway::sha256_hex(kToken);
    t.targets = {"*"};
    t.prompts = gateway::PromptAccess::Read;
    c.tokens = {t};
    c.prompt_registry = dir_ / "prompts.sqlite";
    gateway_ = std::make_unique<gateway::Gateway>(c, log_);
    gateway_->start();
    url_ = "http://127.0.0.1:" + std::to_string(gateway_->ports()[0]);
  }
  void TearDown() override {
    gateway_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string v1_hash_;
  std::ostringstream log_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::string url_;
};

TEST_F(PromptUsageTest, LocalEndpointRecordsTheResolvedPromptAndItsStaleness) {
  PromptResolver resolver({url_, kToken, std::chrono::milliseconds(0), std::chrono::milliseconds(2000), {}});
  Client client;
  Endpoint ep = client.add(EndpointDescriptor::local("local", kModel, LocalEndpointOptions{.threads = 1, .ctx = 128}));

  RenderedPrompt r = resolver.resolve_and_render("prompt://ask@prod", {{"topic", "rivers"}});
  EXPECT_EQ(r.text, "Tell me about rivers.");
  // TTL 0: the next resolve revalidates by ETag through the gateway (304) and is still fresh.
  RenderedPrompt again = resolver.resolve_and_render("prompt://ask@prod", {{"topic", "rivers"}});
  EXPECT_FALSE(again.prompt.stale);
  EXPECT_EQ(again.prompt.hash, v1_hash_);
  QueryRequest q;
  q.prompt = r.text;
  q.max_tokens = 3;
  q.sampling = SamplingParams::greedy();
  q.prompt_source = PromptUsage{r.prompt.name, r.prompt.version, r.prompt.hash, r.prompt.stage, r.prompt.stale};
  Response a = client.query(ep, q).wait();
  ASSERT_TRUE(a.usage.prompt.has_value());
  EXPECT_EQ(a.usage.prompt->name, "ask");
  EXPECT_EQ(a.usage.prompt->version, 1);
  EXPECT_EQ(a.usage.prompt->hash, v1_hash_);
  EXPECT_EQ(a.usage.prompt->stage, "prod");
  EXPECT_FALSE(a.usage.prompt->stale);

  // A request without a prompt reference has none in its usage.
  QueryRequest plain = q;
  plain.prompt_source.reset();
  EXPECT_FALSE(client.query(ep, plain).wait().usage.prompt.has_value());

  // The registry (the gateway) goes away: the last-known-good version is served, and usage says it is stale.
  gateway_.reset();
  // Read the log only now: the gateway writes its line after the response, from its own thread.
  EXPECT_NE(log_.str().find("GET /v1/prompts 304"), std::string::npos);
  RenderedPrompt cached = resolver.resolve_and_render("prompt://ask@prod", {{"topic", "rivers"}});
  EXPECT_TRUE(cached.prompt.stale);
  q.prompt_source = PromptUsage{cached.prompt.name, cached.prompt.version, cached.prompt.hash, cached.prompt.stage,
                                cached.prompt.stale};
  Response b = client.query(ep, q).wait();
  ASSERT_TRUE(b.usage.prompt.has_value());
  EXPECT_TRUE(b.usage.prompt->stale);
  EXPECT_EQ(b.usage.prompt->hash, v1_hash_);
  EXPECT_EQ(b.tokens, a.tokens);
}

TEST_F(PromptUsageTest, GatewayEndpointReportsThePromptTheGatewayResolved) {
  Client client;
  Endpoint ep = client.add({"remote", GatewayEndpointOptions{url_, "llama", kToken}});
  QueryRequest q;
  q.prompt = "prompt://ask@prod";  // rendered by the gateway with the declared default (owls)
  q.max_tokens = 3;
  Response viaGateway = client.query(ep, q).wait();
  ASSERT_TRUE(viaGateway.usage.prompt.has_value());
  EXPECT_EQ(viaGateway.usage.prompt->name, "ask");
  EXPECT_EQ(viaGateway.usage.prompt->version, 1);
  EXPECT_EQ(viaGateway.usage.prompt->hash, v1_hash_);
  EXPECT_EQ(viaGateway.usage.prompt->stage, "prod");

  // The gateway ran exactly the rendered text.
  q.prompt = "Tell me about owls.";
  Response direct = client.query(ep, q).wait();
  EXPECT_FALSE(direct.usage.prompt.has_value());
  EXPECT_EQ(viaGateway.tokens, direct.tokens);
  EXPECT_EQ(viaGateway.usage.prompt_tokens, direct.usage.prompt_tokens);
  // The gateway writes its log from its own threads: read the stream only once they are joined (TSan found the
  // read racing a write here, which crashed when the string grew).
  gateway_.reset();
  EXPECT_NE(log_.str().find("prompt=ask@1 hash=" + v1_hash_), std::string::npos);
}

}  // namespace
}  // namespace hearth
