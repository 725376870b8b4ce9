// The gateway's policy pieces without a server: config validation, request validation (every 400 names its
// field), strict JSON, admission and rate limits, redaction, and the SSE parser the remote endpoints use.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "gateway/admission.h"
#include "gateway/api_error.h"
#include "gateway/gateway_config.h"
#include "gateway/model_request.h"
#include "gateway/rate_limiter.h"
#include "gateway/redactor.h"
#include "gateway/request_json.h"
#include "hearth/error.h"
#include "runtime/remote/sse_parser.h"

namespace hg = hearth::gateway;
using nlohmann::json;

namespace {

std::filesystem::path write_config(const std::string& text) {
  static int n = 0;
  auto path = std::filesystem::temp_directory_path() / ("hearth_gw_test_" + std::to_string(getpid()) + "_" + std::to_string(n++) + ".toml");
  std::ofstream(path) << text;
  return path;
}

const char* kTarget = "[[targets]]\nname = \"m\"\nmodel = \"m.gguf\"\n";

std::string config_error(const std::string& text) {
  try {
    hg::load_gateway_config(write_config(text));
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "";
}

int status_of(hg::Dialect d, const std::string& body, std::string* message = nullptr) {
  try {
    hg::parse_model_request(d, hg::parse_request_json(body));
  } catch (const hg::ApiError& e) {
    if (message) *message = e.what();
    return e.status;
  }
  return 200;
}

}  // namespace

TEST(GatewayConfig, ParsesTokensTargetsAndLimits) {
  std::string sha = hg::sha256_hex("secret-token-1");
  auto c = hg::load_gateway_config(write_config(std::string(R"(
[server]
max_request_bytes = 1000
max_concurrency = 3
max_queue = 5
cors_origins = ["http://a"]
[[listeners]]
address = "127.0.0.1"
port = 0
)") + kTarget + R"(
max_concurrency = 2
[[tokens]]
name = "hashed"
sha256 = ")" + sha + R"("
targets = ["m"]
requests_per_minute = 60
[[tokens]]
name = "plain"
token = "plain-token-xyz"
targets = ["*"]
)"));
  EXPECT_EQ(c.max_request_bytes, 1000u);
  EXPECT_EQ(c.max_concurrency, 3);
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].max_concurrency, 2);
  EXPECT_TRUE(std::filesystem::path(std::get<hearth::LocalEndpointOptions>(c.targets[0].descriptor.options).model_path).is_absolute());
  ASSERT_EQ(c.tokens.size(), 2u);
  EXPECT_EQ(c.tokens[0].sha256_hex, sha);
  EXPECT_EQ(c.tokens[1].sha256_hex, hg::sha256_hex("plain-token-xyz"));
  EXPECT_TRUE(c.tokens[0].allows("m"));
  EXPECT_FALSE(c.tokens[0].allows("other"));
  EXPECT_TRUE(c.tokens[1].allows("anything"));
  // The plain token is known as a secret (for redaction); the hashed one never was.
  EXPECT_NE(std::find(c.secrets.begin(), c.secrets.end(), "plain-token-xyz"), c.secrets.end());
}

TEST(GatewayConfig, RejectsWhatWouldBeUnsafeOrWrong) {
  std::string token = "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\ntargets = [\"m\"]\n";
  EXPECT_NE(config_error(std::string("[[listeners]]\naddress = \"0.0.0.0\"\nport = 1\n") + kTarget + token)
                .find("plain HTTP beyond this machine"), std::string::npos);
  EXPECT_EQ(config_error(std::string("[[listeners]]\naddress = \"0.0.0.0\"\nport = 1\nallow_insecure_http = true\n") +
                         kTarget + token), "");
  EXPECT_NE(config_error(std::string(kTarget) + token + "rate = 5\n").find("unknown key 'rate'"), std::string::npos);
  EXPECT_NE(config_error(std::string(kTarget) + "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\ntargets = [\"x\"]\n")
                .find("unknown target 'x'"), std::string::npos);
  EXPECT_NE(config_error(std::string(kTarget)).find("no [[tokens]]"), std::string::npos);
  EXPECT_NE(config_error(std::string("[server]\nmax_queue = \"many\"\n") + kTarget + token).find("max_queue must be an integer"),
            std::string::npos);
  EXPECT_NE(config_error(std::string(kTarget) + "[[tokens]]\nname = \"t\"\nsha256 = \"abc\"\ntargets = [\"m\"]\n")
                .find("64 hex digits"), std::string::npos);
  // A provider's key is named by variable; a missing variable is an error that names the variable only.
  unsetenv("HEARTH_TEST_MISSING_KEY");
  std::string provider = "[[targets]]\nname = \"p\"\nkind = \"provider\"\nbase_url = \"http://127.0.0.1:1/v1\"\n"
                         "model = \"x\"\napi_key_env = \"HEARTH_TEST_MISSING_KEY\"\n";
  EXPECT_NE(config_error(provider + "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\ntargets = [\"p\"]\n")
                .find("HEARTH_TEST_MISSING_KEY is not set"), std::string::npos);
  setenv("HEARTH_TEST_MISSING_KEY", "sk-planted-provider-key", 1);
  auto c = hg::load_gateway_config(write_config(provider + "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\ntargets = [\"p\"]\n"));
  EXPECT_NE(std::find(c.secrets.begin(), c.secrets.end(), "sk-planted-provider-key"), c.secrets.end());
}

TEST(RequestJson, MalformedAndDuplicateKeysAre400) {
  std::string m;
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\": ", &m), 400);
  EXPECT_NE(m.find("malformed JSON"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "[1,2]", &m), 400);
  EXPECT_NE(m.find("JSON object"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, R"({"model":"a","messages":[{"role":"user","content":"x"}],"model":"b"})", &m), 400);
  EXPECT_NE(m.find("duplicate key \"model\""), std::string::npos);
  // Duplicates deeper down count too.
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, R"({"model":"a","messages":[{"role":"user","role":"system","content":"x"}]})", &m), 400);
}

TEST(ModelRequest, OpenAIFieldsAreTypedAndBounded) {
  std::string m;
  const std::string msgs = R"("messages":[{"role":"user","content":"hi"}])";
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + "}"), 200);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{" + msgs + "}", &m), 400);
  EXPECT_NE(m.find("model is required"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"max_tokens\":\"5\"}", &m), 400);
  EXPECT_NE(m.find("max_tokens must be an integer, got a string"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"max_tokens\":0}", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"temperature\":3}", &m), 400);
  EXPECT_NE(m.find("temperature must be between 0 and 2"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"n\":2}", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"tools\":[]}", &m), 400);
  EXPECT_NE(m.find("tools is not supported"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, "{\"model\":\"a\"," + msgs + ",\"extra\":1}", &m), 400);
  EXPECT_NE(m.find("unknown field 'extra'"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIChat, R"({"model":"a","messages":[{"role":"wizard","content":"x"}]})", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::OpenAICompletion, R"({"model":"a","prompt":["a","b"]})", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::OpenAIEmbedding, R"({"model":"a","input":[[1,2]]})", &m), 400);
  EXPECT_NE(m.find("token arrays are not supported"), std::string::npos);

  auto r = hg::parse_model_request(hg::Dialect::OpenAIChat,
                                   json::parse(R"({"model":"a","messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}],
                                                   "max_completion_tokens":7,"stop":"END","temperature":0,"stream":true,"stream_options":{"include_usage":true}})"));
  EXPECT_EQ(r.chat.max_tokens, 7);
  EXPECT_EQ(r.chat.messages[0]["content"], "xy");
  ASSERT_EQ(r.chat.stop.size(), 1u);
  ASSERT_TRUE(r.chat.sampling.has_value());
  EXPECT_EQ(r.chat.sampling->temperature, 0.0f);
  EXPECT_TRUE(r.stream && r.include_usage);
}

TEST(ModelRequest, HearthOptionsNeverOverrideTypedFields) {
  std::string m;
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"a","prompt":"x","options":{"prompt":"y"}})", &m), 400);
  EXPECT_NE(m.find("options.prompt would override the typed field"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"a","prompt":"x","options":{"model":"y"}})", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"a","prompt":"x","prompt_tokens":[1]})", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"a","prompt_tokens":[-1]})", &m), 400);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"a","prompt":"x","sampling":{"top_q":1}})", &m), 400);
  EXPECT_NE(m.find("unknown field 'sampling.top_q'"), std::string::npos);
  auto r = hg::parse_model_request(hg::Dialect::HearthQuery,
                                   json::parse(R"({"target":"a","prompt":"x","context_key":"c","ignore_eos":true,"sampling":{"top_k":5}})"));
  EXPECT_EQ(r.query.context_key, "c");
  EXPECT_TRUE(r.query.ignore_eos);
  EXPECT_EQ(r.query.sampling->top_k, 5);
}

TEST(GatewayConfig, PromptRegistryAndPromptRights) {
  auto path = write_config(std::string("[server]\nprompt_registry = \"reg/prompts.sqlite\"\n") + kTarget +
                           "[[tokens]]\nname = \"ci\"\ntoken = \"abcdefgh\"\nprompts = \"write\"\n"
                           "[[tokens]]\nname = \"app\"\ntoken = \"ijklmnop\"\ntargets = [\"m\"]\nprompts = \"read\"\n"
                           "[[tokens]]\nname = \"plain\"\ntoken = \"qrstuvwx\"\ntargets = [\"m\"]\n");
  auto c = hg::load_gateway_config(path);
  EXPECT_EQ(c.prompt_registry, std::filesystem::absolute(path).parent_path() / "reg/prompts.sqlite");
  ASSERT_EQ(c.tokens.size(), 3u);
  EXPECT_EQ(c.tokens[0].prompts, hg::PromptAccess::Write);
  EXPECT_TRUE(c.tokens[0].targets.empty());  // a registry-only token needs no target
  EXPECT_EQ(c.tokens[1].prompts, hg::PromptAccess::Read);
  EXPECT_EQ(c.tokens[2].prompts, hg::PromptAccess::None);
  EXPECT_NE(config_error(std::string(kTarget) + "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\ntargets = [\"m\"]\nprompts = \"all\"\n")
                .find("prompts must be \"none\", \"read\" or \"write\""),
            std::string::npos);
  EXPECT_NE(config_error(std::string(kTarget) + "[[tokens]]\nname = \"t\"\ntoken = \"abcdefgh\"\n").find("targets must list"),
            std::string::npos);
}

// examples/gateway.toml loads as shipped, and again with its commented prompt-registry keys switched on.
TEST(GatewayConfig, ExampleConfigLoadsWithItsPromptRegistryKeys) {
  for (const char* var : {"HEARTH_ADMIN_TOKEN", "UPSTREAM_GATEWAY_TOKEN", "OPENAI_API_KEY", "BATCH_TOKEN", "PROMPT_CI_TOKEN"})
    setenv(var, (std::string("planted-") + var).c_str(), 1);
  std::ifstream in(std::filesystem::path(HEARTH_SOURCE_DIR) / "examples/gateway.toml");
  ASSERT_TRUE(in) << "no examples/gateway.toml";
  std::string shipped, switched_on, line;
  const std::vector<std::string> registry_keys = {"prompt_registry =", "prompts =", "[[tokens]]", "name = \"prompt-ci\"",
                                                  "token_env = \"PROMPT_CI_TOKEN\""};
  int uncommented = 0;
  while (std::getline(in, line)) {
    shipped += line + "\n";
    bool key = line.rfind("# ", 0) == 0 && std::any_of(registry_keys.begin(), registry_keys.end(), [&](const std::string& k) {
                 return line.compare(2, k.size(), k) == 0;
               });
    uncommented += key;
    switched_on += (key ? line.substr(2) : line) + "\n";
  }
  ASSERT_EQ(uncommented, 6) << "the example's commented prompt-registry keys changed; update this test";

  auto plain = hg::load_gateway_config(write_config(shipped));
  EXPECT_TRUE(plain.prompt_registry.empty());
  EXPECT_EQ(plain.cors_origins, std::vector<std::string>{"http://localhost:3000"});
  for (const auto& t : plain.tokens) EXPECT_EQ(t.prompts, hg::PromptAccess::None) << t.name;

  auto path = write_config(switched_on);
  auto c = hg::load_gateway_config(path);
  EXPECT_EQ(c.prompt_registry, std::filesystem::absolute(path).parent_path() / "prompts.sqlite");
  ASSERT_EQ(c.tokens.size(), 3u);
  EXPECT_EQ(c.tokens[0].name, "web-app");
  EXPECT_EQ(c.tokens[0].prompts, hg::PromptAccess::Read);
  EXPECT_EQ(c.tokens[1].prompts, hg::PromptAccess::None);
  EXPECT_EQ(c.tokens[2].name, "prompt-ci");
  EXPECT_EQ(c.tokens[2].prompts, hg::PromptAccess::Write);
  EXPECT_TRUE(c.tokens[2].targets.empty());
}

TEST(ModelRequest, PromptReferencesAndTheirVariables) {
  auto q = hg::parse_model_request(hg::Dialect::HearthQuery,
                                   json{{"target", "m"}, {"prompt", "prompt://greet@prod"}, {"variables", {{"name", "A"}}}, {"user", "u1"}});
  EXPECT_EQ(q.prompt_ref, "prompt://greet@prod");
  EXPECT_EQ(q.prompt_variables, (json{{"name", "A"}}));
  EXPECT_EQ(q.user, "u1");
  auto c = hg::parse_model_request(hg::Dialect::OpenAIChat,
                                   json{{"model", "m"},
                                        {"messages", {{{"role", "system"}, {"content", "prompt://sys@2"}}, {{"role", "user"}, {"content", "hi"}}}},
                                        {"prompt_variables", json::object()}});
  EXPECT_EQ(c.prompt_ref, "prompt://sys@2");
  EXPECT_EQ(c.prompt_message, 0);
  auto plain = hg::parse_model_request(hg::Dialect::HearthQuery, json{{"target", "m"}, {"prompt", "hello"}});
  EXPECT_TRUE(plain.prompt_ref.empty());

  std::string message;
  EXPECT_EQ(status_of(hg::Dialect::HearthChat,
                      R"({"target":"m","messages":[{"role":"system","content":"prompt://a"},{"role":"user","content":"prompt://b"}]})", &message),
            400);
  EXPECT_NE(message.find("only one message"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"m","prompt":"hi","variables":{"x":1}})", &message), 400);
  EXPECT_NE(message.find("no prompt or message is a prompt://"), std::string::npos);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"m","prompt":"prompt://a","variables":[1]})", &message), 400);
  EXPECT_NE(message.find("variables must be an object"), std::string::npos);
  // OpenAI routes name it prompt_variables; "variables" stays an unknown field there.
  EXPECT_EQ(status_of(hg::Dialect::OpenAICompletion, R"({"model":"m","prompt":"prompt://a","variables":{}})", &message), 400);
  EXPECT_EQ(status_of(hg::Dialect::OpenAICompletion, R"({"model":"m","prompt":"hi","user":7})", &message), 400);
  EXPECT_EQ(status_of(hg::Dialect::HearthQuery, R"({"target":"m","prompt":"hi","options":{"variables":{}}})", &message), 400);
}

TEST(Admission, GlobalAndPerTargetLimitsWithABoundedQueue) {
  hg::Admission a(2, 1);
  std::vector<int> started;
  EXPECT_EQ(a.enter(1, "x", 1, [&] { started.push_back(1); }), hg::Admission::Result::Started);
  // x is at its limit of 1: the next x waits even though the global limit has room...
  EXPECT_EQ(a.enter(2, "x", 1, [&] { started.push_back(2); }), hg::Admission::Result::Queued);
  // ...and does not block y.
  EXPECT_EQ(a.enter(3, "y", 0, [&] { started.push_back(3); }), hg::Admission::Result::Started);
  EXPECT_EQ(a.enter(4, "y", 0, [&] { started.push_back(4); }), hg::Admission::Result::Refused);  // queue bound 1
  EXPECT_EQ(a.running(), 2);
  a.release("x");
  EXPECT_EQ(started, (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(a.queued(), 0);
  EXPECT_EQ(a.enter(5, "y", 0, [&] { started.push_back(5); }), hg::Admission::Result::Queued);
  EXPECT_TRUE(a.leave(5));
  EXPECT_FALSE(a.leave(5));
  a.release("x");
  a.release("y");
  EXPECT_EQ(a.running(), 0);
  EXPECT_EQ(started.size(), 3u);  // the waiter that left never started
}

TEST(RateLimiter, RequestsAndTokensPerMinute) {
  hg::RateLimiter r;
  auto t0 = hg::RateLimiter::Clock::now();
  EXPECT_EQ(r.try_acquire("k", 2, 0, t0), 0);
  EXPECT_EQ(r.try_acquire("k", 2, 0, t0), 0);
  double wait = r.try_acquire("k", 2, 0, t0);
  EXPECT_NEAR(wait, 30.0, 1e-6);  // one request every 30 s
  EXPECT_EQ(r.try_acquire("k", 2, 0, t0 + std::chrono::seconds(31)), 0);
  EXPECT_EQ(r.try_acquire("other", 2, 0, t0), 0);  // buckets are per token

  EXPECT_EQ(r.try_acquire("t", 0, 600, t0), 0);
  r.charge_tokens("t", 1200, 600, t0);  // one big request overdraws the bucket
  wait = r.try_acquire("t", 0, 600, t0);
  EXPECT_NEAR(wait, 60.0, 0.01);       // 600 tokens below zero at 10 tokens/s
  EXPECT_EQ(r.try_acquire("t", 0, 600, t0 + std::chrono::seconds(61)), 0);
}

TEST(Redactor, ScrubsEverySecretOccurrence) {
  hg::Redactor redact({"sk-secret-1", "sk-secret-1-longer", "ab"});
  EXPECT_EQ(redact("a sk-secret-1-longer and sk-secret-1 and sk-secret-1"), "a [redacted] and [redacted] and [redacted]");
  EXPECT_EQ(redact("ab stays"), "ab stays");  // too short to be a secret worth matching
}

TEST(SseParser, EventsAcrossArbitraryChunkBoundaries) {
  std::vector<std::pair<std::string, std::string>> events;
  hearth::remote::SseParser p([&](const std::string& e, const std::string& d) { events.emplace_back(e, d); });
  std::string stream = "event: tokens\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
  for (char c : stream) p.feed(std::string_view(&c, 1));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (std::pair<std::string, std::string>{"tokens", "{\"a\":1}"}));
  EXPECT_EQ(events[1].second, "line1\nline2");
  EXPECT_EQ(events[2], (std::pair<std::string, std::string>{"message", "[DONE]"}));

  hearth::remote::SseParser bounded([](const std::string&, const std::string&) {}, 64);
  EXPECT_THROW(bounded.feed("data: " + std::string(100, 'x')), hearth::Error);
}
