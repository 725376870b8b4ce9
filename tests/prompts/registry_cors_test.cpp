// CORS on the registry's own server, over HTTP on loopback: pages on the configured origins (the browser
// PromptResolver) may send the token and If-None-Match, and may read ETag and X-Prompt-Version; other
// origins get no CORS headers, so the browser keeps the answer from them.
#include "registry_fixture.h"

namespace hearth::prompts {
namespace {

const std::string kApp = "http://app.example:8080";

class RegistryCors : public RegistryFixture {
 protected:
  void SetUp() override {
    options_.cors_origins = {kApp};
    RegistryFixture::SetUp();
  }
  httplib::Result preflight(const std::string& origin) {
    httplib::Client c("127.0.0.1", port_);
    return c.Options("/v1/prompts/greet", {{"Origin", origin},
                                           {"Access-Control-Request-Method", "GET"},
                                           {"Access-Control-Request-Headers", "authorization,if-none-match"}});
  }
};

bool lists(const std::string& header_value, const std::string& item) {
  return header_value.find(item) != std::string::npos;
}

TEST_F(RegistryCors, PreflightAllowsTheTokenAndRevalidation) {
  auto r = preflight(kApp);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), kApp);
  const std::string headers = r->get_header_value("Access-Control-Allow-Headers");
  EXPECT_TRUE(lists(headers, "Authorization")) << headers;
  EXPECT_TRUE(lists(headers, "If-None-Match")) << headers;
  const std::string methods = r->get_header_value("Access-Control-Allow-Methods");
  EXPECT_TRUE(lists(methods, "GET") && lists(methods, "POST")) << methods;

  auto other = preflight("http://elsewhere.example");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
}

TEST_F(RegistryCors, EveryAnswerToAnAllowedOriginCarriesTheHeaders) {
  ASSERT_EQ(push("greet", "Hello {{ name }}", {{"name", {{"type", "string"}}}}), 1);
  const httplib::Headers from_app = {{"Origin", kApp}};

  auto ok = get("/v1/prompts/greet?version=1", kReaderToken, from_app);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(ok->get_header_value("Access-Control-Allow-Origin"), kApp);
  EXPECT_EQ(ok->get_header_value("Vary"), "Origin");
  const std::string exposed = ok->get_header_value("Access-Control-Expose-Headers");
  EXPECT_TRUE(lists(exposed, "ETag") && lists(exposed, "X-Prompt-Version")) << exposed;

  httplib::Headers revalidate = from_app;
  revalidate.emplace("If-None-Match", ok->get_header_value("ETag"));
  auto not_modified = get("/v1/prompts/greet?version=1", kReaderToken, revalidate);
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(not_modified->get_header_value("Access-Control-Allow-Origin"), kApp);

  // Errors too, so the page can read why (the resolver puts the message in its PromptError).
  auto bad_token = get("/v1/prompts/greet?version=1", "not-a-token", from_app);
  ASSERT_TRUE(bad_token);
  EXPECT_EQ(bad_token->status, 401);
  EXPECT_EQ(bad_token->get_header_value("Access-Control-Allow-Origin"), kApp);
  auto no_route = get("/v1/elsewhere", kReaderToken, from_app);
  ASSERT_TRUE(no_route);
  EXPECT_EQ(no_route->status, 404);
  EXPECT_EQ(no_route->get_header_value("Access-Control-Allow-Origin"), kApp);

  auto other = get("/v1/prompts/greet?version=1", kReaderToken, {{"Origin", "http://elsewhere.example"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_FALSE(other->has_header("Access-Control-Allow-Origin"));
  EXPECT_FALSE(other->has_header("Access-Control-Expose-Headers"));
  auto same_origin = get("/v1/prompts/greet?version=1");
  EXPECT_FALSE(same_origin->has_header("Access-Control-Allow-Origin"));
}

TEST_F(RegistryFixture, NoOriginsConfiguredNoCorsHeaders) {
  ASSERT_EQ(push("greet", "Hello"), 1);
  auto r = get("/v1/prompts/greet?version=1", kReaderToken, {{"Origin", kApp}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
}

class RegistryCorsAnyOrigin : public RegistryFixture {
 protected:
  void SetUp() override {
    options_.cors_origins = {"*"};
    RegistryFixture::SetUp();
  }
};

TEST_F(RegistryCorsAnyOrigin, EchoesWhateverOriginAsks) {
  ASSERT_EQ(push("greet", "Hello"), 1);
  for (const std::string origin : {"http://a.example", "https://b.example:4443"}) {
    auto r = get("/v1/prompts/greet?version=1", kReaderToken, {{"Origin", origin}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), origin);
  }
}

}  // namespace
}  // namespace hearth::prompts
