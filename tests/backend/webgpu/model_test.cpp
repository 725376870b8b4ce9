// On every fixture model: the WebGPU transformer's greedy tokens (argmax on the GPU, only ids read back)
// equal the CPU transformer's for 3 prompts x 32 tokens, and the prefill logits agree closely. The three
// prompts run as three sequences of one batch on both backends (prefill together, then one token of each
// per forward), so each GPU pass serves all three: on SwiftShader in CI the GPU passes are the test's cost.
#include <algorithm>
#include <filesystem>

#include "backend/cpu/thread_pool.h"
#include "backend/webgpu/webgpu_transformer.h"
#include "hearth/engine.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "webgpu_test_support.h"

namespace fs = std::filesystem;

namespace hearth::webgpu {
namespace {

constexpr int kGenerate = 32;
constexpr int kSeqs = 3;
constexpr int64_t kCtx = 128;
const char* const kPrompts[kSeqs] = {"Once upon a time", "The capital of France is",
                          "def fibonacci(n):\n    return"};

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  const fs::path dir = fs::path(HEARTH_FIXTURE_DIR) / "models";
  if (fs::exists(dir))
    for (auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".gguf") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct LoadedModel {
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;
  explicit LoadedModel(const std::string& path) : file(GgufFile::open(path)) {
    config = ModelConfig::from_gguf(file);
    weights = ModelWeights::load(file, config);
    tokenizer = Tokenizer::from_gguf(file);
  }
};

int32_t argmax(const std::vector<float>& v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

class WebGpuModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WebGpuModelTest, GreedyTokensEqualCpu) {
  HEARTH_REQUIRE_GPU(dev);
  LoadedModel m((fs::path(HEARTH_FIXTURE_DIR) / "models" / (GetParam() + ".gguf")).string());
  const int64_t V = m.config.n_vocab;
  cpu::ThreadPool pool(2);
  Transformer cpu_tf(m.config, m.weights, pool, 64);
  WebGpuTransformer gpu_tf(m.config, m.weights, *dev, 64, kCtx, kSeqs);
  KvCache cache(m.config, kCtx, kSeqs, KvType::F16);
  ASSERT_GE(gpu_tf.max_logits_rows(), kSeqs);

  // Prefill: every prompt's tokens in one batch, prompt s as sequence s, logits for each last token.
  std::vector<BatchToken> batch;
  std::vector<int32_t> prompt_len;
  for (int s = 0; s < kSeqs; s++) {
    const std::vector<TokenId> prompt = m.tokenizer->encode(kPrompts[s], true, false);
    ASSERT_FALSE(prompt.empty());
    for (size_t i = 0; i < prompt.size(); i++)
      batch.push_back({int32_t(prompt[i]), int32_t(i), s, i + 1 == prompt.size()});
    prompt_len.push_back(int32_t(prompt.size()));
  }
  std::vector<float> cpu_logits(size_t(kSeqs * V)), gpu_logits(size_t(kSeqs * V));
  cpu_tf.forward(batch.data(), int64_t(batch.size()), cache, cpu_logits.data());
  gpu_tf.forward(batch.data(), int64_t(batch.size()), gpu_logits.data());

  std::vector<std::vector<int32_t>> cpu_tokens(kSeqs), gpu_tokens(kSeqs);
  for (int s = 0; s < kSeqs; s++) {
    const std::vector<float> c(cpu_logits.begin() + s * V, cpu_logits.begin() + (s + 1) * V);
    const std::vector<float> g(gpu_logits.begin() + s * V, gpu_logits.begin() + (s + 1) * V);
    EXPECT_LE(test::rel_l2(g, c), 1e-3) << "prefill logits, prompt: " << kPrompts[s];
    cpu_tokens[size_t(s)].push_back(argmax(c));
    gpu_tokens[size_t(s)].push_back(argmax(g));
  }

  // Decode: one token per sequence per forward; the GPU picks its tokens itself (argmax on the GPU).
  std::vector<int32_t> gpu_ids(kSeqs);
  for (int i = 1; i < kGenerate; i++) {
    std::vector<BatchToken> cpu_step, gpu_step;
    for (int s = 0; s < kSeqs; s++) {
      const int32_t pos = prompt_len[size_t(s)] + i - 1;
      cpu_step.push_back({cpu_tokens[size_t(s)].back(), pos, s, true});
      gpu_step.push_back({gpu_tokens[size_t(s)].back(), pos, s, true});
    }
    cpu_tf.forward(cpu_step.data(), kSeqs, cache, cpu_logits.data());
    gpu_tf.forward_greedy(gpu_step.data(), kSeqs, gpu_ids.data());
    for (int s = 0; s < kSeqs; s++) {
      cpu_tokens[size_t(s)].push_back(argmax({cpu_logits.begin() + s * V, cpu_logits.begin() + (s + 1) * V}));
      gpu_tokens[size_t(s)].push_back(gpu_ids[size_t(s)]);
    }
  }
  for (int s = 0; s < kSeqs; s++) EXPECT_EQ(gpu_tokens[size_t(s)], cpu_tokens[size_t(s)]) << "prompt: " << kPrompts[s];
  EXPECT_LE(gpu_tf.last_dispatch_count(), int(m.config.n_layer * 16 + 8)) << "dispatches per token";
}

// The decode loop the Engine runs on WebGPU: each step queued before the host waits for the previous id,
// its input token copied on the GPU from the previous argmax. Same tokens as one forward_greedy() a step.
TEST(WebGpuGreedyChain, ChainedStepsEqualOneStepAtATime) {
  HEARTH_REQUIRE_GPU(dev);
  LoadedModel m((fs::path(HEARTH_FIXTURE_DIR) / "models" / "llama-spm-bf16.gguf").string());
  WebGpuTransformer tf(m.config, m.weights, *dev, 64, kCtx);
  const std::vector<TokenId> prompt = m.tokenizer->encode(kPrompts[0], true, false);
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < prompt.size(); i++) batch.push_back({prompt[i], int32_t(i), 0, i + 1 == prompt.size()});
  const int32_t n = int32_t(prompt.size());
  constexpr int kSteps = 12;

  std::vector<int32_t> stepwise(1);
  tf.forward_greedy(batch.data(), n, &stepwise[0]);
  for (int i = 0; i < kSteps; i++) {
    BatchToken b{stepwise.back(), n + i, 0, true};
    int32_t id = -1;
    tf.forward_greedy(&b, 1, &id);
    stepwise.push_back(id);
  }

  std::vector<int32_t> chained(1);
  tf.forward_greedy(batch.data(), n, &chained[0]);
  tf.submit_greedy_step(chained[0], n);
  for (int i = 0; i < kSteps; i++) {
    if (i + 1 < kSteps) tf.submit_greedy_step(-1, n + i + 1);
    EXPECT_LE(tf.greedy_steps_in_flight(), 2);
    chained.push_back(tf.take_greedy_step());
  }
  EXPECT_EQ(chained, stepwise);
  EXPECT_EQ(tf.greedy_steps_in_flight(), 0);
  EXPECT_THROW(tf.take_greedy_step(), Error);

  // A step queued ahead and then dropped leaves nothing behind: re-feeding from its position gives the
  // same tokens (its KV row is overwritten).
  tf.submit_greedy_step(stepwise[4], n + 4);
  tf.submit_greedy_step(-1, n + 5);
  EXPECT_THROW(tf.submit_greedy_step(-1, n + 6), Error);
  EXPECT_EQ(tf.take_greedy_step(), stepwise[5]);
  tf.drop_greedy_steps();
  int32_t id = -1;
  BatchToken b{stepwise[5], n + 5, 0, true};
  tf.forward_greedy(&b, 1, &id);
  EXPECT_EQ(id, stepwise[6]);
}

// Through the Engine: greedy generation on WebGPU (steps queued ahead, dropped when generation stops
// early, prefix reuse across calls) gives the CPU engine's tokens.
TEST(WebGpuGreedyChain, EngineGenerateEqualsCpuEngine) {
  HEARTH_REQUIRE_GPU(dev);
  const std::string path = (fs::path(HEARTH_FIXTURE_DIR) / "models" / "llama-spm-bf16.gguf").string();
  EngineOptions co;
  co.threads = 2;
  co.ctx = kCtx;
  EngineOptions go = co;
  go.backend = Backend::WebGpu;
  auto cpu = Engine::load(path, co);
  auto gpu = Engine::load(path, go);
  ASSERT_EQ(gpu->info().backend, "webgpu");
  GenerateOptions g;
  g.ignore_eos = true;
  const std::vector<TokenId> prompt = cpu->tokenize_prompt(kPrompts[1]);
  for (int32_t max_tokens : {20, 3, 9}) {
    g.max_tokens = max_tokens;
    std::vector<TokenId> p = prompt;
    if (max_tokens == 9) p.push_back(7);  // reuses the cached prefix, then one new token
    const GenerateResult want = cpu->generate(p, g);
    const GenerateResult got = gpu->generate(p, g);
    EXPECT_EQ(got.tokens, want.tokens) << "max_tokens " << max_tokens;
  }
}

// A prompt past 64 tokens: software adapters then take the tiled prefill kernels too (matmul_int8.wgsl for
// this Q8_0 model, attention_tiled.wgsl), which sum in their own order. Their last-bit differences flip
// some of the next op's Q8 activation quants by one step, and over the layers the logits move by about 1%
// (rel-L2 0.008-0.013 here with either kernel alone; 0 with both CPU-order kernels), enough to flip a
// greedy near-tie (seen at the 7th token). So this checks the kernels' wiring in the model, with the logits
// held to 3% (the attention reading layer 0's cache in every layer gave 0.19); their precision is the op
// tests' job. The prompt's logits, then 8 decode steps fed the CPU's tokens, reading the cache they filled.
TEST(WebGpuGreedyChain, LongPromptThroughTiledKernelsMatchesCpu) {
  HEARTH_REQUIRE_GPU(dev);
  LoadedModel m((fs::path(HEARTH_FIXTURE_DIR) / "models" / "llama-spm-q8_0.gguf").string());
  const int64_t V = m.config.n_vocab, ctx = 256;
  std::string text;
  for (int i = 0; i < 8; i++) text += std::string(kPrompts[i % kSeqs]) + " and then, number " + std::to_string(i) + ". ";
  const std::vector<TokenId> prompt = m.tokenizer->encode(text, true, false);
  ASSERT_GT(prompt.size(), 64u) << "the prompt must be long enough for the tiled kernels";
  const int64_t n = int64_t(prompt.size());
  cpu::ThreadPool pool(2);
  Transformer cpu_tf(m.config, m.weights, pool, n);
  WebGpuTransformer gpu_tf(m.config, m.weights, *dev, n, ctx);
  KvCache cache(m.config, ctx, 1, KvType::F16);
  std::vector<BatchToken> batch;
  for (int64_t i = 0; i < n; i++) batch.push_back({int32_t(prompt[size_t(i)]), int32_t(i), 0, i + 1 == n});
  std::vector<float> c(static_cast<size_t>(V)), g(static_cast<size_t>(V));
  cpu_tf.forward(batch.data(), n, cache, c.data());
  gpu_tf.forward(batch.data(), n, g.data());
  EXPECT_LE(test::rel_l2(g, c), 3e-2) << "prefill logits";
  for (int i = 0; i < 8; i++) {
    BatchToken step{argmax(c), int32_t(n + i), 0, true};
    cpu_tf.forward(&step, 1, cache, c.data());
    gpu_tf.forward(&step, 1, g.data());
    EXPECT_LE(test::rel_l2(g, c), 3e-2) << "decode step " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WebGpuModelTest, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(WebGpuModelTest);

}  // namespace
}  // namespace hearth::webgpu
