// On every fixture model: the WebGPU transformer's greedy tokens (argmax on the GPU, only ids read back)
// equal the CPU transformer's for 3 prompts x 32 tokens, and the first logits agree closely.
#include <algorithm>
#include <filesystem>

#include "backend/cpu/thread_pool.h"
#include "backend/webgpu/webgpu_transformer.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "model/kv_cache.h"
#include "model/transformer.h"
#include "webgpu_test_support.h"

namespace fs = std::filesystem;

namespace hearth::webgpu {
namespace {

constexpr int kGenerate = 32;
constexpr int64_t kCtx = 128;
const char* kPrompts[] = {"Once upon a time", "The capital of France is",
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

std::vector<BatchToken> prompt_batch(const std::vector<TokenId>& prompt) {
  std::vector<BatchToken> b;
  for (size_t i = 0; i < prompt.size(); i++)
    b.push_back({int32_t(prompt[i]), int32_t(i), 0, i + 1 == prompt.size()});
  return b;
}

class WebGpuModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WebGpuModelTest, GreedyTokensEqualCpu) {
  HEARTH_REQUIRE_GPU(dev);
  LoadedModel m((fs::path(HEARTH_FIXTURE_DIR) / "models" / (GetParam() + ".gguf")).string());
  cpu::ThreadPool pool(2);
  Transformer cpu_tf(m.config, m.weights, pool, 64);
  WebGpuTransformer gpu_tf(m.config, m.weights, *dev, 64, kCtx);
  std::vector<float> cpu_logits(size_t(m.config.n_vocab)), gpu_logits(size_t(m.config.n_vocab));

  for (const char* text : kPrompts) {
    SCOPED_TRACE(std::string("prompt: ") + text);
    const std::vector<TokenId> prompt = m.tokenizer->encode(text, true, false);
    ASSERT_FALSE(prompt.empty());
    std::vector<BatchToken> batch = prompt_batch(prompt);
    KvCache cache(m.config, kCtx, 1, KvType::F16);

    // The first step twice on the GPU: once for the logits (compared), once greedy (ids only).
    cpu_tf.forward(batch.data(), int64_t(batch.size()), cache, cpu_logits.data());
    gpu_tf.forward(batch.data(), int64_t(batch.size()), gpu_logits.data());
    EXPECT_LE(test::rel_l2(gpu_logits, cpu_logits), 1e-3) << "prefill logits";
    int32_t gpu_tok = -1;
    gpu_tf.forward_greedy(batch.data(), int64_t(batch.size()), &gpu_tok);

    std::vector<int32_t> cpu_tokens{argmax(cpu_logits)}, gpu_tokens{gpu_tok};
    for (int i = 1; i < kGenerate; i++) {
      const int32_t pos = int32_t(prompt.size()) + i - 1;
      BatchToken c{cpu_tokens.back(), pos, 0, true};
      cpu_tf.forward(&c, 1, cache, cpu_logits.data());
      cpu_tokens.push_back(argmax(cpu_logits));
      BatchToken g{gpu_tokens.back(), pos, 0, true};
      gpu_tf.forward_greedy(&g, 1, &gpu_tok);
      gpu_tokens.push_back(gpu_tok);
    }
    EXPECT_EQ(gpu_tokens, cpu_tokens);
    EXPECT_LE(gpu_tf.last_dispatch_count(), int(m.config.n_layer * 16 + 8)) << "dispatches per token";
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
