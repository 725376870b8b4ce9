// The registry's REST API, over HTTP on loopback against a real server and SQLite file.
#include "registry_fixture.h"

#include "prompts/prompt_content.h"

namespace hearth::prompts {
namespace {

using nlohmann::json;

const json kUserVar = {{"user", {{"type", "string"}, {"default", "friend"}}}};

TEST_F(RegistryFixture, CreateVersionPromoteRollbackDiffAudit) {
  auto r1 = post("/v1/prompts/greeting/versions",
                 {{"template", "Hello {{ user }}!\nHow are you?\n"}, {"variables", kUserVar}, {"message", "first"},
                  {"hints", {{"model", "llama-3"}}}});
  ASSERT_TRUE(r1);
  ASSERT_EQ(r1->status, 201) << r1->body;
  json v1 = body(r1);
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["created"], true);
  EXPECT_EQ(v1["author"], "writer");
  EXPECT_EQ(v1["hash"], content_hash(content_from_json(v1)));

  // Same content again: no new version.
  auto again = post("/v1/prompts/greeting/versions",
                    {{"template", "Hello {{ user }}!\nHow are you?\n"}, {"variables", kUserVar}, {"hints", {{"model", "llama-3"}}}});
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(body(again)["version"], 1);
  EXPECT_EQ(body(again)["created"], false);

  EXPECT_EQ(push("greeting", "Hi {{ user }}!\nHow are you?\n", kUserVar, "shorter"), 2);

  // Fetch by version, with ETag and conditional GET.
  auto g1 = get("/v1/prompts/greeting?version=1");
  ASSERT_EQ(g1->status, 200);
  EXPECT_EQ(body(g1)["template"], "Hello {{ user }}!\nHow are you?\n");
  EXPECT_EQ(g1->get_header_value("ETag"), "\"" + v1["hash"].get<std::string>() + "\"");
  auto not_modified = get("/v1/prompts/greeting?version=1", kReaderToken, {{"If-None-Match", g1->get_header_value("ETag")}});
  EXPECT_EQ(not_modified->status, 304);
  EXPECT_EQ(get("/v1/prompts/greeting?version=2", kReaderToken, {{"If-None-Match", g1->get_header_value("ETag")}})->status, 200);

  // Promote, promote again, roll back.
  auto p1 = post("/v1/prompts/greeting/stages/prod", {{"version", 1}});
  ASSERT_EQ(p1->status, 200) << p1->body;
  EXPECT_EQ(body(get("/v1/prompts/greeting?stage=prod"))["version"], 1);
  ASSERT_EQ(post("/v1/prompts/greeting/stages/prod", {{"version", 2}})->status, 200);
  json at_prod = body(get("/v1/prompts/greeting?stage=prod"));
  EXPECT_EQ(at_prod["version"], 2);
  EXPECT_EQ(at_prod["resolved"]["stage"], "prod");
  auto rb = post("/v1/prompts/greeting/stages/prod/rollback", json::object());
  ASSERT_EQ(rb->status, 200) << rb->body;
  EXPECT_EQ(body(rb)["versions"][0]["version"], 1);
  EXPECT_EQ(body(get("/v1/prompts/greeting?stage=prod"))["version"], 1);
  auto rb2 = post("/v1/prompts/greeting/stages/prod/rollback", json::object());
  EXPECT_EQ(rb2->status, 409);
  EXPECT_EQ(body(rb2)["error"]["type"], "conflict_error");
  EXPECT_EQ(post("/v1/prompts/greeting/stages/staging", {{"version", 2}})->status, 200);  // custom stages too

  // Diff.
  auto d = get("/v1/prompts/greeting/diff?from=1&to=2");
  ASSERT_EQ(d->status, 200) << d->body;
  EXPECT_EQ(body(d)["diff"],
            "--- greeting@1\n+++ greeting@2\n@@ -1,2 +1,2 @@\n-Hello {{ user }}!\n+Hi {{ user }}!\n How are you?\n");
  EXPECT_EQ(body(d)["hints_changed"], true);

  // History and list.
  json history = body(get("/v1/prompts/greeting/versions"));
  ASSERT_EQ(history["data"].size(), 2u);
  EXPECT_EQ(history["data"][1]["message"], "shorter");
  json list = body(get("/v1/prompts"));
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["latest_version"], 2);
  EXPECT_EQ(list["data"][0]["stages"]["prod"][0]["version"], 1);

  // Audit: every change, who and what.
  json audit = body(get("/v1/prompts/greeting/audit"));
  std::vector<std::string> actions;
  for (const json& e : audit["data"]) {
    actions.push_back(e["action"]);
    EXPECT_EQ(e["actor"], "writer");
    EXPECT_FALSE(e["at"].get<std::string>().empty());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"create_version", "create_version", "promote", "promote", "rollback",
                                               "promote"}));
  EXPECT_EQ(audit["data"][3]["detail"]["previous"][0]["version"], 1);
}

TEST_F(RegistryFixture, TokensAndRights) {
  push("p", "x");
  auto none = get("/v1/prompts/p", "");
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(body(none)["error"]["type"], "authentication_error");
  auto wrong = get("/v1/prompts/p", "not-a-token");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->body.find("not-a-token"), std::string::npos);  // never echoed
  EXPECT_EQ(post("/v1/prompts/p/versions", {{"template", "y"}}, "")->status, 401);

  auto ro = post("/v1/prompts/p/versions", {{"template", "y"}}, kReaderToken);
  EXPECT_EQ(ro->status, 403);
  EXPECT_EQ(body(ro)["error"]["type"], "permission_error");
  EXPECT_EQ(post("/v1/prompts/p/stages/prod", {{"version", 1}}, kReaderToken)->status, 403);
  EXPECT_EQ(post("/v1/prompts/p/stages/prod/rollback", json::object(), kReaderToken)->status, 403);
  EXPECT_EQ(get("/v1/prompts/p", kReaderToken)->status, 200);
  EXPECT_EQ(body(get("/v1/prompts/p/versions"))["data"].size(), 1u);  // the 403s wrote nothing
}

TEST_F(RegistryFixture, MalformedTemplatesRejectedWithPosition) {
  auto r = post("/v1/prompts/bad/versions",
                {{"template", "Line one\nHello {{ user + }} there\nbye\n"}, {"variables", kUserVar}});
  ASSERT_EQ(r->status, 400) << r->body;
  json e = body(r)["error"];
  EXPECT_EQ(e["code"], "template_syntax");
  EXPECT_EQ(e["type"], "invalid_request_error");
  EXPECT_EQ(e["line"], 2) << e.dump();
  EXPECT_TRUE(e["column"].is_number()) << e.dump();
  EXPECT_NE(e["message"].get<std::string>().find("2:"), std::string::npos);
  EXPECT_EQ(get("/v1/prompts/bad")->status, 404);  // nothing stored

  auto undeclared = post("/v1/prompts/bad/versions", {{"template", "{{ user }} {{ secret }}"}, {"variables", kUserVar}});
  EXPECT_EQ(undeclared->status, 400);
  EXPECT_EQ(body(undeclared)["error"]["code"], "undeclared_variable");
  auto ill_typed = post("/v1/prompts/bad/versions",
                        {{"template", "{{ n }}"}, {"variables", {{"n", {{"type", "integer"}, {"default", "x"}}}}}});
  EXPECT_EQ(ill_typed->status, 400);
  EXPECT_EQ(body(ill_typed)["error"]["code"], "ill_typed_variable");
  EXPECT_EQ(post_raw("/v1/prompts/bad/versions", "{not json")->status, 400);
}

TEST_F(RegistryFixture, ErrorsAndLimits) {
  push("p", "x");
  std::string huge = json{{"template", std::string(2 << 20, 'a')}}.dump();
  auto big = post_raw("/v1/prompts/p/versions", huge);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(body(big)["error"]["code"], "body_too_large");

  EXPECT_EQ(get("/v1/prompts/missing")->status, 404);
  EXPECT_EQ(body(get("/v1/prompts/missing"))["error"]["type"], "not_found_error");
  EXPECT_EQ(get("/v1/prompts/p?version=9")->status, 404);
  EXPECT_EQ(get("/v1/prompts/p?stage=prod")->status, 404);
  EXPECT_EQ(get("/v1/prompts/p?version=abc")->status, 400);
  EXPECT_EQ(post("/v1/prompts/p/stages/prod", {{"version", 7}})->status, 404);
  EXPECT_EQ(post("/v1/prompts/p/stages/prod", json::object())->status, 400);
  EXPECT_EQ(post("/v1/prompts/p/stages/prod", {{"versions", {{{"version", 1}, {"weight", -1}}}}})->status, 400);
  EXPECT_EQ(post("/v1/prompts/p/stages/pr!od", {{"version", 1}})->status, 400);
  EXPECT_EQ(post("/v1/prompts/p/stages/prod/rollback", json::object())->status, 404);
  EXPECT_EQ(get("/v1/prompts/p/diff?from=1")->status, 400);
}

}  // namespace
}  // namespace hearth::prompts
