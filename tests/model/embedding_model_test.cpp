// EmbeddingModel's contract on the real fixtures: pooling and sizes as the files declare, batches equal
// single calls, normalization, and clear errors (never crashes) for inputs and files it cannot embed.
#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "model/embedding_model.h"

namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) { return fs::path(HEARTH_FIXTURE_DIR) / "embedding" / (name + ".gguf"); }

#define REQUIRE_FIXTURE(name)                                                          \
  if (!fs::exists(fixture(name))) GTEST_SKIP() << fixture(name) << " not generated; run scripts/make_fixtures.sh"

// Message of the hearth::Error that fn throws ("" when it throws nothing).
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "";
}

// A copy of a GGUF file with its metadata and tensors edited: edit_meta may replace values; drop_key is left
// out; a tensor for which drop(name) is true is left out; shrink_rows(name) > 0 truncates a 2-D tensor.
fs::path rewrite(const fs::path& src, const std::string& out_name,
                 const std::function<void(hearth::GgufWriter&)>& edit_meta,
                 const std::function<bool(const std::string&)>& drop = nullptr,
                 const std::function<uint64_t(const std::string&)>& shrink_rows = nullptr,
                 const std::string& drop_key = "") {
  const hearth::GgufFile f = hearth::GgufFile::open(src.string());
  hearth::GgufWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != drop_key) w.set(k, v);
  edit_meta(w);
  for (const auto& t : f.tensors()) {
    if (drop && drop(t.name)) continue;
    auto bytes = f.tensor_data(t);
    std::vector<uint64_t> dims = t.dims;
    size_t n = bytes.size();
    if (shrink_rows && shrink_rows(t.name) > 0 && dims.size() == 2) {
      n = n / dims[1] * shrink_rows(t.name);
      dims[1] = shrink_rows(t.name);
    }
    w.add_tensor(t.name, dims, t.type, std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n)));
  }
  const fs::path out = fs::temp_directory_path() / out_name;
  w.write(out.string());
  return out;
}

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

TEST(EmbeddingModel, DeclaredPoolingAndShapes) {
  REQUIRE_FIXTURE("bert-wpm-f16");
  REQUIRE_FIXTURE("bert-wpm-q8_0-cls");
  REQUIRE_FIXTURE("qwen3-bpe-embed-q8_0");
  EXPECT_TRUE(hearth::EmbeddingModel::is_encoder(fixture("bert-wpm-f16").string()));
  EXPECT_FALSE(hearth::EmbeddingModel::is_encoder(fixture("qwen3-bpe-embed-q8_0").string()));

  auto mean = hearth::EmbeddingModel::load(fixture("bert-wpm-f16").string(), 2);
  EXPECT_EQ(mean->pooling(), "mean");
  EXPECT_EQ(mean->n_embd(), 256);
  EXPECT_EQ(mean->max_tokens(), 512);
  EXPECT_EQ(mean->tokenizer().model_name(), "bert");
  auto cls = hearth::EmbeddingModel::load(fixture("bert-wpm-q8_0-cls").string(), 1);
  EXPECT_EQ(cls->pooling(), "cls");
  EXPECT_EQ(cls->n_embd(), 128);
  auto last = hearth::EmbeddingModel::load(fixture("qwen3-bpe-embed-q8_0").string(), 2);
  EXPECT_EQ(last->pooling(), "last");
  EXPECT_EQ(last->n_embd(), 256);
}

TEST(EmbeddingModel, BatchEqualsSingleCallsAndNormalizes) {
  REQUIRE_FIXTURE("bert-wpm-f16");
  REQUIRE_FIXTURE("qwen3-bpe-embed-q8_0");
  std::string long_text;   // ~300 tokens: three of them do not fit one 512-token encoder pass
  for (int i = 0; i < 300; i++) long_text += i % 7 ? "word " : "other ";
  const std::vector<std::string> texts = {"first text", "a second, longer text about something else", "3rd",
                                          long_text, long_text + "and", long_text + "or", "last"};
  for (const char* name : {"bert-wpm-f16", "qwen3-bpe-embed-q8_0"}) {
    SCOPED_TRACE(name);
    auto em = hearth::EmbeddingModel::load(fixture(name).string(), 2);
    const auto batch = em->embed(texts, false);
    ASSERT_EQ(batch.size(), texts.size());
    for (size_t i = 0; i < texts.size(); i++) EXPECT_EQ(batch[i], em->embed({texts[i]}, false).at(0));
    EXPECT_NE(batch[0], batch[1]);
    EXPECT_NE(batch[3], batch[4]);
    // Same text after a longer one (the decoder's cache was used at other positions): same vector.
    EXPECT_EQ(em->embed({texts[0]}, false).at(0), batch[0]);

    const auto unit = em->embed(texts, true);
    for (size_t i = 0; i < texts.size(); i++) {
      EXPECT_NEAR(norm(unit[i]), 1.0, 1e-6);
      const double n = norm(batch[i]);
      for (size_t d = 0; d < unit[i].size(); d++) EXPECT_NEAR(unit[i][d], batch[i][d] / n, 1e-6);
    }
    EXPECT_TRUE(em->embed({}, true).empty());
  }
}

TEST(EmbeddingModel, BadInputsAreClearErrors) {
  REQUIRE_FIXTURE("bert-wpm-f16");
  REQUIRE_FIXTURE("qwen3-bpe-embed-q8_0");
  auto bert = hearth::EmbeddingModel::load(fixture("bert-wpm-f16").string(), 2);
  std::string long_text;
  for (int i = 0; i < 600; i++) long_text += "word ";
  const std::string too_long = error_of([&] { bert->embed({"short", long_text}, false); });
  EXPECT_NE(too_long.find("input 1"), std::string::npos) << too_long;
  EXPECT_NE(too_long.find("context of 512 tokens"), std::string::npos) << too_long;
  EXPECT_NE(error_of([&] { bert->embed_tokens({}, false); }).find("no tokens"), std::string::npos);
  EXPECT_NE(error_of([&] { bert->embed_tokens({101, 1 << 30, 102}, false); }).find("outside the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([&] { bert->embed_tokens({-5}, false); }).find("outside the vocabulary"), std::string::npos);
  // Still usable after errors.
  EXPECT_EQ(bert->embed({"short"}, false).at(0).size(), 256u);

  auto qwen = hearth::EmbeddingModel::load(fixture("qwen3-bpe-embed-q8_0").string(), 2);
  EXPECT_NE(error_of([&] { qwen->embed_tokens({}, false); }).find("no tokens"), std::string::npos);
  EXPECT_NE(error_of([&] { qwen->embed_tokens(std::vector<int32_t>(size_t(qwen->max_tokens()) + 1, 100), false); })
                .find("exceed the model's context"),
            std::string::npos);
  EXPECT_NE(error_of([] { hearth::EmbeddingModel::load(fixture("bert-wpm-f16").string(), 0); }).find("thread count"),
            std::string::npos);
}

TEST(EmbeddingModel, BadFilesAreClearErrors) {
  REQUIRE_FIXTURE("bert-wpm-q8_0-cls");
  const fs::path src = fixture("bert-wpm-q8_0-cls");
  auto load = [](const fs::path& p) { return error_of([&] { hearth::EmbeddingModel::load(p.string(), 1); }); };

  EXPECT_NE(load(rewrite(src, "embed_missing.gguf", [](auto&) {}, [](const std::string& n) {
              return n == "blk.1.ffn_up.bias";
            })).find("tensor blk.1.ffn_up.bias is missing"),
            std::string::npos);
  // position_embd shorter than the declared context: a shape error, not an out-of-bounds read later.
  EXPECT_NE(load(rewrite(src, "embed_short_pos.gguf", [](auto&) {}, nullptr, [](const std::string& n) {
              return n == "position_embd.weight" ? uint64_t(100) : uint64_t(0);
            })).find("position_embd.weight: shape"),
            std::string::npos);
  EXPECT_NE(load(rewrite(src, "embed_rank.gguf", [](hearth::GgufWriter& w) {
              w.set("bert.pooling_type", hearth::GgufValue::u32(4));
            })).find("rank"),
            std::string::npos);
  EXPECT_NE(load(rewrite(src, "embed_heads.gguf", [](hearth::GgufWriter& w) {
              w.set("bert.attention.head_count", hearth::GgufValue::u32(3));
            })).find("not a multiple"),
            std::string::npos);
  EXPECT_NE(load(rewrite(src, "embed_nomic.gguf", [](hearth::GgufWriter& w) {
              w.set("general.architecture", hearth::GgufValue::string("nomic-bert"));
            })).find("not supported yet"),
            std::string::npos);
  // Without a pooling type a BERT model pools its CLS token; with "none" (per-token output) hearth returns
  // the last token's vector, as llama.cpp hands back for a sequence then.
  auto absent = hearth::EmbeddingModel::load(
      rewrite(src, "embed_nopool.gguf", [](auto&) {}, nullptr, nullptr, "bert.pooling_type").string(), 1);
  EXPECT_EQ(absent->pooling(), "cls");
  auto none = hearth::EmbeddingModel::load(rewrite(src, "embed_pool_none.gguf", [](hearth::GgufWriter& w) {
                                             w.set("bert.pooling_type", hearth::GgufValue::u32(0));
                                           }).string(), 1);
  EXPECT_EQ(none->pooling(), "last");

  // A decoder that asks for bidirectional attention is refused rather than embedded causally.
  REQUIRE_FIXTURE("qwen3-bpe-embed-f16-mean");
  EXPECT_NE(load(rewrite(fixture("qwen3-bpe-embed-f16-mean"), "embed_bidir.gguf", [](hearth::GgufWriter& w) {
              w.set("qwen3.attention.causal", hearth::GgufValue::boolean(false));
            })).find("bidirectional"),
            std::string::npos);

  const fs::path junk = fs::temp_directory_path() / "embed_junk.gguf";
  { std::FILE* f = std::fopen(junk.c_str(), "wb"); std::fputs("not a gguf file at all", f); std::fclose(f); }
  EXPECT_FALSE(load(junk).empty());
  EXPECT_FALSE(load(fs::temp_directory_path() / "embed_does_not_exist.gguf").empty());
}

}  // namespace
