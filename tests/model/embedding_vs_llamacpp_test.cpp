// Every embedding fixture against llama.cpp's recorded embeddings (tools/reference/record_embeddings.mjs):
// the same tokens for each text, and the pooled vector within cosine 0.999 (the bar) and a relative
// L2 tolerance, raw and L2-normalized.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reference_files.h"
#include "hearth/tokenizer.h"
#include "model/embedding_model.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using hearth::test::sha256_file;

std::vector<std::string> reference_names() {
  return hearth::test::reference_names(fs::path(HEARTH_SOURCE_DIR) / "tests/data/embedding");
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += double(a[i]) * double(b[i]);
  return s;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  return dot(a, b) / std::sqrt(dot(a, a) * dot(b, b));
}

double relative_l2(const std::vector<float>& got, const std::vector<float>& want) {
  double d = 0;
  for (size_t i = 0; i < got.size(); i++) d += (double(got[i]) - want[i]) * (double(got[i]) - want[i]);
  return std::sqrt(d / dot(want, want));
}

// Relative L2 against llama.cpp's classic path (f16 KV cache, no flash attention), which hearth mirrors.
// F16 weights measure up to 1.7e-4. Q8_0 is bit-exact on most inputs, but where a quantized activation lands
// on the other side of a rounding step (a different summation order upstream), random weights carry the
// step to 2–4e-3 in the output; quantized fixtures are held to 1e-2 as in the model test.
double relative_l2_tolerance(const std::string& name) {
  return name.find("-q") != std::string::npos ? 1e-2 : 2e-3;
}

class EmbeddingVsLlamaCpp : public ::testing::TestWithParam<std::string> {};

TEST_P(EmbeddingVsLlamaCpp, TokensAndVectorsMatch) {
  const std::string name = GetParam();
  const fs::path model = fs::path(HEARTH_FIXTURE_DIR) / "embedding" / (name + ".gguf");
  if (!fs::exists(model)) GTEST_SKIP() << model << " not generated; run scripts/make_fixtures.sh";
  std::ifstream in(fs::path(HEARTH_SOURCE_DIR) / "tests/data/embedding" / (name + ".json"));
  const json ref = json::parse(in);
  ASSERT_EQ(sha256_file(model), ref["sha256"].get<std::string>())
      << "the fixture differs from the file the reference was recorded on; regenerate both";

  auto em = hearth::EmbeddingModel::load(model.string(), 2);
  ASSERT_GE(ref["cases"].size(), 5u);
  double worst_cos = 1, worst_l2 = 0;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"].get<std::string>();
    SCOPED_TRACE(text.substr(0, 60));
    const auto want_tokens = c["tokens"].get<std::vector<int32_t>>();
    const auto want = c["embedding"].get<std::vector<float>>();
    ASSERT_EQ(int64_t(want.size()), em->n_embd());

    // Tokenization as llama.cpp does it for embeddings.
    EXPECT_EQ(em->tokenizer().encode(text, true, false), want_tokens);

    // The pooled vector, from text (the public path) and from the recorded tokens.
    const std::vector<float> got = em->embed({text}, false).at(0);
    const std::vector<float> got_tokens = em->embed_tokens(want_tokens, false);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(got, got_tokens);
    const double cos = cosine(got, want), l2 = relative_l2(got, want);
    EXPECT_GE(cos, 0.999);
    EXPECT_LE(l2, relative_l2_tolerance(name));
    // llama.cpp's default (flash attention on) rounds differently (1e-2 relative on the decoder fixture);
    // the bar holds against it too.
    const auto want_fa = c["embedding_flash_attention"].get<std::vector<float>>();
    const double cos_fa = cosine(got, want_fa);
    EXPECT_GE(cos_fa, 0.999);
    std::printf("  %3zu tokens: cosine %.7f relative L2 %.2e; vs flash attention: cosine %.7f\n",
                want_tokens.size(), cos, l2, cos_fa);
    worst_cos = std::min(worst_cos, cos);
    worst_l2 = std::max(worst_l2, l2);

    // Normalized: unit length and the reference's direction.
    const std::vector<float> unit = em->embed({text}, true).at(0);
    EXPECT_NEAR(dot(unit, unit), 1.0, 1e-5);
    EXPECT_GE(cosine(unit, want), 0.999);
  }
  // All texts in one call: an encoder packs them into shared passes; each still matches llama.cpp.
  std::vector<std::string> texts;
  for (const auto& c : ref["cases"]) texts.push_back(c["text"].get<std::string>());
  const auto all = em->embed(texts, false);
  ASSERT_EQ(all.size(), texts.size());
  for (size_t i = 0; i < all.size(); i++) {
    const auto want = ref["cases"][i]["embedding"].get<std::vector<float>>();
    EXPECT_GE(cosine(all[i], want), 0.999) << texts[i];
    EXPECT_LE(relative_l2(all[i], want), relative_l2_tolerance(name)) << texts[i];
  }
  std::printf("%s (%s pooling): worst cosine %.7f, worst relative L2 %.2e over %zu inputs\n", name.c_str(),
              em->pooling().c_str(), worst_cos, worst_l2, ref["cases"].size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EmbeddingVsLlamaCpp, ::testing::ValuesIn(reference_names()),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

}  // namespace
