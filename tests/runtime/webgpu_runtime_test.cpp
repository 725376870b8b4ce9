// Local endpoints on the WebGPU backend (Dawn + SwiftShader here): continuous batching over several KV
// sequences on the GPU, prefix copies between sequences and prefix snapshots, each checked against the CPU
// Engine running the request alone on a fixture where WebGPU's greedy tokens equal the CPU's (the WebGPU
// model test proves that equality per fixture). Skips, saying why, only when no adapter exists.
#include <filesystem>

#include "backend/webgpu/device.h"
#include "hearth/client.h"
#include "hearth/error.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;
using Tokens = std::vector<hearth::TokenId>;

namespace {

const std::string kGpuModel = std::string(HEARTH_FIXTURE_DIR) + "/models/llama-spm-bf16.gguf";

hearth::LocalEndpointOptions gpu_options(int n_seq, int64_t ctx = 512) {
  hearth::LocalEndpointOptions o = small_options(n_seq, ctx);
  o.backend = hearth::Backend::WebGpu;
  return o;
}

hearth::QueryRequest tokens_query(Tokens prompt, int max_tokens, std::string key = {}) {
  hearth::QueryRequest q = greedy_query("", max_tokens);
  q.prompt_tokens = std::move(prompt);
  q.context_key = std::move(key);
  return q;
}

hearth::QueryRequest keyed_query(std::string prompt, int max_tokens, std::string key) {
  hearth::QueryRequest q = greedy_query(std::move(prompt), max_tokens);
  q.context_key = std::move(key);
  return q;
}

Tokens concat(Tokens a, const Tokens& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class WebGpuRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kGpuModel)) GTEST_SKIP() << "run scripts/make_fixtures.sh";
    std::string why;
    if (!hearth::webgpu::Device::available(&why)) GTEST_SKIP() << "no WebGPU adapter: " << why;
  }
};

TEST_F(WebGpuRuntimeTest, ConcurrentRequestsGiveTheTokensEachGivesAlone) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("gpu", kGpuModel, gpu_options(/*n_seq=*/4)));
  ASSERT_EQ(ep.backend(), "webgpu");
  const std::vector<std::string> prompts = {"Once upon a time", "The capital of France is", "def fibonacci(n):",
                                            "Dear Sir or Madam,"};
  std::vector<hearth::Run> runs;
  for (size_t i = 0; i < prompts.size(); i++) runs.push_back(client.query(ep, greedy_query(prompts[i], 6 + int(i))));
  for (size_t i = 0; i < prompts.size(); i++) {
    const hearth::Response& r = runs[i].wait();
    ASSERT_EQ(r.finish_reason, "length") << r.error;
    EXPECT_EQ(r.tokens, engine_alone(ep.tokenizer().encode(prompts[i], true, true), 6 + int(i), kGpuModel)) << prompts[i];
  }
  // The decode rows of all four shared forward passes on the GPU.
  int widest = 0;
  for (const auto& t : ep.recent_ticks()) widest = std::max(widest, t.decode_rows);
  EXPECT_EQ(widest, 4);
}

TEST_F(WebGpuRuntimeTest, PrefixCopiesAndSnapshotsWorkOnTheGpuCacheAndMoveToTheCpu) {
  const auto dir = std::filesystem::temp_directory_path() / ("hearth_gpu_snapshots_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Tokens system, p1, p2;
  {
    auto o = gpu_options(/*n_seq=*/2);
    o.snapshot_dir = dir.string();
    Client client;
    auto ep = client.add(EndpointDescriptor::local("gpu", kGpuModel, o));
    system = long_prompt(ep.tokenizer(), 120, " You are a helpful assistant for a bakery.");
    p1 = concat(system, ep.tokenizer().encode(" User one asks about rye.", false, false));
    p2 = concat(system, ep.tokenizer().encode(" User two wants croissants.", false, false));
    client.query(ep, tokens_query(p1, 4, "one")).wait();
    // The second conversation's sequence gets the shared prefix copied on the GPU from the first's.
    const auto r2 = client.query(ep, tokens_query(p2, 6, "two")).wait();
    EXPECT_GE(r2.usage.cached_tokens, int64_t(system.size()));
    EXPECT_EQ(ep.stats().prefix_copies, 1u);
    EXPECT_EQ(r2.tokens, engine_alone(p2, 6, kGpuModel));

    // A snapshot read back from the GPU, restored into a sequence that held something else.
    hearth::QueryRequest pq;
    pq.prompt_tokens = system;
    EXPECT_EQ(client.save_snapshot(ep, "bakery", pq).n_tokens, int64_t(system.size()));
    // Two other conversations evict both sequences, so the prefix can only come from the snapshot.
    client.query(ep, keyed_query("Something else entirely", 3, "x")).wait();
    client.query(ep, keyed_query("And another thing", 3, "y")).wait();
    const auto r1 = client.query(ep, tokens_query(p1, 6)).wait();
    EXPECT_EQ(r1.usage.restored_tokens, int64_t(system.size()));
    EXPECT_EQ(r1.tokens, engine_alone(p1, 6, kGpuModel));
  }
  // The file the GPU endpoint wrote restores into a CPU endpoint: same layout, same tokens.
  auto o = small_options(/*n_seq=*/1);
  o.snapshot_dir = dir.string();
  Client client;
  auto ep = client.add(EndpointDescriptor::local("cpu", kGpuModel, o));
  ASSERT_EQ(ep.backend(), "cpu");
  ASSERT_EQ(client.snapshots(ep).size(), 1u);
  const auto r = client.query(ep, tokens_query(p2, 6)).wait();
  EXPECT_EQ(r.usage.restored_tokens, int64_t(system.size()));
  EXPECT_EQ(r.tokens, engine_alone(p2, 6, kGpuModel));
  std::filesystem::remove_all(dir);
}

TEST_F(WebGpuRuntimeTest, KvF32IsRefusedOnWebGpuAndAutoFallsBackToTheCpu) {
  Client client;
  auto o = gpu_options(1);
  o.kv_f32 = true;
  EXPECT_THROW(client.add(EndpointDescriptor::local("gpu", kGpuModel, o)), hearth::Error);
  o.backend = hearth::Backend::Auto;   // auto may pick the CPU, with the reason kept
  auto ep = client.add(EndpointDescriptor::local("auto", kGpuModel, o));
  EXPECT_EQ(ep.backend(), "cpu");
}

}  // namespace
