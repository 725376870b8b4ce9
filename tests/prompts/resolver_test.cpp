// PromptResolver against a real registry: fresh resolution, revalidation, last-known-good when it is down.
#include "hearth/prompts.h"

#include "hearth/error.h"
#include "registry_fixture.h"

namespace hearth::prompts {
namespace {

using nlohmann::json;

const json kVars = {{"user", {{"type", "string"}, {"default", "friend"}}}, {"count", "integer"}};

PromptResolverOptions options_for(const std::string& url, std::chrono::milliseconds ttl,
                                  std::filesystem::path cache_dir = {}) {
  PromptResolverOptions o;
  o.registry_url = url;
  o.token = kReaderToken;
  o.ttl = ttl;
  o.timeout = std::chrono::milliseconds(500);
  o.cache_dir = std::move(cache_dir);
  return o;
}

TEST_F(RegistryFixture, ResolverRendersAndReportsWhatItUsed) {
  push("greet", "Hello {{ user }}, you have {{ count }} messages.", kVars);
  ASSERT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 1}})->status, 200);
  PromptResolver resolver(options_for(url(), std::chrono::milliseconds(0)));

  RenderedPrompt r = resolver.resolve_and_render("prompt://greet@prod", {{"count", 3}});
  EXPECT_EQ(r.text, "Hello friend, you have 3 messages.");
  EXPECT_EQ(r.prompt.version, 1);
  EXPECT_EQ(r.prompt.stage, "prod");
  EXPECT_FALSE(r.prompt.stale);
  EXPECT_EQ(r.prompt.usage(), (json{{"name", "greet"}, {"version", 1}, {"hash", r.prompt.hash}, {"stage", "prod"},
                                    {"stale", false}}));
  EXPECT_EQ(resolver.resolve("prompt://greet").version, 1);  // no selector means @prod
  EXPECT_THROW(resolver.resolve_and_render("prompt://greet@prod", {{"count", "3"}}), Error);  // type-checked
  EXPECT_THROW(resolver.resolve_and_render("prompt://greet@prod", json::object()), Error);    // count required
  EXPECT_THROW(resolver.resolve("prompt://nope@prod"), Error);
  EXPECT_THROW(resolver.resolve("greet@prod"), Error);

  // TTL 0: every resolve revalidates, so a promotion is seen at once.
  push("greet", "Hi {{ user }} ({{ count }})", kVars);
  ASSERT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 2}})->status, 200);
  EXPECT_EQ(resolver.resolve_and_render("prompt://greet@prod", {{"count", 1}, {"user", "Ann"}}).text, "Hi Ann (1)");
  EXPECT_EQ(resolver.resolve("prompt://greet@1").stage, "");

  // Version 3 has version 1's content (same hash): revalidation must still report version 3.
  EXPECT_EQ(push("greet", "Hello {{ user }}, you have {{ count }} messages.", kVars), 3);
  EXPECT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 1}})->status, 200);
  EXPECT_EQ(resolver.resolve("prompt://greet@prod").version, 1);
  EXPECT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 3}})->status, 200);
  EXPECT_EQ(resolver.resolve("prompt://greet@prod").version, 3);
}

TEST_F(RegistryFixture, ResolverServesLastKnownGoodWhenRegistryIsDown) {
  push("greet", "Hello {{ user }}", kVars);
  ASSERT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 1}})->status, 200);
  std::filesystem::path cache = dir_ / "cache";
  PromptResolver resolver(options_for(url(), std::chrono::milliseconds(0), cache));
  ResolvedPrompt fresh = resolver.resolve("prompt://greet@prod");
  EXPECT_FALSE(fresh.stale);

  stop_server();
  ResolvedPrompt stale = resolver.resolve("prompt://greet@prod");
  EXPECT_TRUE(stale.stale);
  EXPECT_EQ(stale.version, fresh.version);
  EXPECT_EQ(stale.hash, fresh.hash);
  EXPECT_EQ(resolver.render(stale, {{"count", 2}}), "Hello friend");
  EXPECT_EQ(stale.usage()["stale"], true);
  // Never fetched, registry down: nothing to serve.
  EXPECT_THROW(resolver.resolve("prompt://greet@staging"), Error);

  // A new process (new resolver) with the same cache dir still has the last-known-good copy.
  PromptResolver restarted(options_for(url(), std::chrono::milliseconds(0), cache));
  ResolvedPrompt from_disk = restarted.resolve("prompt://greet@prod");
  EXPECT_TRUE(from_disk.stale);
  EXPECT_EQ(from_disk.hash, fresh.hash);

  // Registry back (same database): fresh again once the retry pause has passed.
  start_server();
  PromptResolver again(options_for(url(), std::chrono::milliseconds(0), cache));
  EXPECT_FALSE(again.resolve("prompt://greet@prod").stale);
}

TEST_F(RegistryFixture, ResolverWithinTtlDoesNotAskTheRegistry) {
  push("greet", "Hello {{ user }}", kVars);
  ASSERT_EQ(post("/v1/prompts/greet/stages/prod", {{"version", 1}})->status, 200);
  PromptResolver resolver(options_for(url(), std::chrono::minutes(5)));
  EXPECT_EQ(resolver.resolve("prompt://greet@prod").version, 1);
  stop_server();
  ResolvedPrompt cached = resolver.resolve("prompt://greet@prod");
  EXPECT_FALSE(cached.stale);  // within TTL it is simply fresh
  EXPECT_EQ(cached.version, 1);
}

}  // namespace
}  // namespace hearth::prompts
