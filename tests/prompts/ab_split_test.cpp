// A/B split of a stage: 10,000 caller keys over HTTP land within 2% of the weights, and stay put.
#include "hearth/prompts.h"

#include "prompts/stage_split.h"
#include "registry_fixture.h"

namespace hearth::prompts {
namespace {

using nlohmann::json;

TEST_F(RegistryFixture, SplitFollowsWeightsAndIsStablePerCaller) {
  push("ab", "Version A");
  push("ab", "Version B");
  auto split = post("/v1/prompts/ab/stages/prod",
                    {{"versions", {{{"version", 1}, {"weight", 0.8}}, {{"version", 2}, {"weight", 0.2}}}}});
  ASSERT_EQ(split->status, 200) << split->body;

  httplib::Client client("127.0.0.1", port_);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  httplib::Headers auth = {{"Authorization", "Bearer " + kReaderToken}};
  constexpr int kCallers = 10'000;
  std::vector<int64_t> chosen(kCallers);
  int v1 = 0;
  for (int i = 0; i < kCallers; ++i) {
    auto r = client.Get("/v1/prompts/ab?stage=prod&caller=user-" + std::to_string(i), auth);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    json j = json::parse(r->body);
    chosen[static_cast<size_t>(i)] = j["resolved"]["version"].get<int64_t>();
    ASSERT_EQ(j["resolved"]["split"], true);
    ASSERT_EQ(j["version"], j["resolved"]["version"]);
    ASSERT_EQ(j["template"], chosen[static_cast<size_t>(i)] == 1 ? "Version A" : "Version B");
    v1 += chosen[static_cast<size_t>(i)] == 1;
  }
  double share = static_cast<double>(v1) / kCallers;
  EXPECT_NEAR(share, 0.8, 0.02) << v1 << " of " << kCallers;
  RecordProperty("share_v1", std::to_string(share));
  std::printf("A/B split: %d of %d callers on version 1 (%.4f, configured 0.8)\n", v1, kCallers, share);

  // Stable per key: ask again (every 7th key) and through the resolver.
  for (int i = 0; i < kCallers; i += 7) {
    auto r = client.Get("/v1/prompts/ab?stage=prod&caller=user-" + std::to_string(i), auth);
    ASSERT_EQ(json::parse(r->body)["resolved"]["version"], chosen[static_cast<size_t>(i)]) << i;
  }
  PromptResolverOptions o;
  o.registry_url = url();
  o.token = kReaderToken;
  PromptResolver resolver(o);
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(resolver.resolve("prompt://ab@prod", "user-" + std::to_string(i)).version, chosen[static_cast<size_t>(i)]);

  // Without a caller key the heavier version answers.
  EXPECT_EQ(json::parse(client.Get("/v1/prompts/ab?stage=prod", auth)->body)["version"], 1);
}

TEST(StageSplit, BucketsDependOnNameStageAndKey) {
  EXPECT_EQ(caller_bucket("a", "prod", "k"), caller_bucket("a", "prod", "k"));
  EXPECT_NE(caller_bucket("a", "prod", "k"), caller_bucket("a", "staging", "k"));
  EXPECT_NE(caller_bucket("a", "prod", "k"), caller_bucket("b", "prod", "k"));
  std::vector<StageTarget> three = {{1, 1}, {2, 1}, {3, 2}};
  int counts[4] = {};
  for (int i = 0; i < 20000; ++i) ++counts[choose_version(three, "n", "s", std::to_string(i))];
  EXPECT_NEAR(counts[1] / 20000.0, 0.25, 0.02);
  EXPECT_NEAR(counts[2] / 20000.0, 0.25, 0.02);
  EXPECT_NEAR(counts[3] / 20000.0, 0.50, 0.02);
}

}  // namespace
}  // namespace hearth::prompts
