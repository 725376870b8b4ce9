// Compares hearth's tokenizers with llama.cpp on vectors recorded by tools/reference/record_tokens.mjs from
// the vocabulary fixtures scripts/make_vocab_fixtures.sh writes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hearth/gguf.h"
#include "hearth/tokenizer.h"

namespace {

using hearth::TokenId;
namespace fs = std::filesystem;

struct Loaded {
  std::unique_ptr<hearth::Tokenizer> tok;
  nlohmann::json ref;
};

// Skips the test when the fixture was not generated; a missing reference file is a failure.
bool load(const std::string& vocab, Loaded& out) {
  const fs::path gguf = fs::path(HEARTH_FIXTURE_DIR) / "vocab" / (vocab + ".gguf");
  const fs::path ref = fs::path(HEARTH_SOURCE_DIR) / "tests/data/tokenizer" / (vocab + ".json");
  if (!fs::exists(gguf)) return false;
  std::ifstream f(ref);
  EXPECT_TRUE(f.good()) << "missing reference " << ref;
  if (!f.good()) return false;
  out.ref = nlohmann::json::parse(f);
  out.tok = hearth::Tokenizer::from_gguf(hearth::GgufFile::open(gguf.string()));
  return true;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const uint8_t c = uint8_t(s[i]);
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::string show(const std::vector<TokenId>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

class Reference : public ::testing::TestWithParam<std::string> {};

TEST_P(Reference, EncodeMatchesLlamaCpp) {
  Loaded L;
  if (!load(GetParam(), L)) GTEST_SKIP() << "fixture not generated: run scripts/make_vocab_fixtures.sh";
  const auto& tok = *L.tok;
  const bool wpm = tok.model_name() == "bert";
  size_t n = 0, failed = 0;
  for (const auto& v : L.ref["vectors"]) {
    const std::string text = v["text"];
    const auto ids = v["ids"].get<std::vector<TokenId>>();
    const auto ids_special = v["ids_special"].get<std::vector<TokenId>>();
    ++n;
    const auto got = tok.encode(text, false, false);
    const auto got_special = tok.encode(text, false, true);
    bool ok = got == ids && got_special == ids_special;
    if (!wpm) {   // llama_tokenize(add_special) = BOS (if add_bos) + text + EOS (if add_eos)
      std::vector<TokenId> with = ids_special;
      if (L.ref["add_bos"].get<bool>() && !text.empty()) with.insert(with.begin(), L.ref["bos"].get<TokenId>());
      if (L.ref["add_bos"].get<bool>() && text.empty()) with = {L.ref["bos"].get<TokenId>()};
      ok = ok && tok.encode(text, true, true) == with;
    }
    if (!ok && ++failed <= 8) {
      ADD_FAILURE() << GetParam() << " text=" << nlohmann::json(text).dump() << "\n  llama.cpp " << show(ids) << " / "
                    << show(ids_special) << "\n  hearth    " << show(got) << " / " << show(got_special);
    }
  }
  std::printf("[ %s ] encode: %zu/%zu vectors match llama.cpp\n", GetParam().c_str(), n - failed, n);
  EXPECT_EQ(failed, 0u);
  EXPECT_GE(n, 500u);
}

TEST_P(Reference, DecodeMatchesLlamaCpp) {
  Loaded L;
  if (!load(GetParam(), L)) GTEST_SKIP() << "fixture not generated: run scripts/make_vocab_fixtures.sh";
  size_t n = 0, failed = 0;
  for (const auto& v : L.ref["vectors"]) {
    ++n;
    const std::string a = L.tok->decode(v["ids"].get<std::vector<TokenId>>(), false);
    const std::string b = L.tok->decode(v["ids_special"].get<std::vector<TokenId>>(), true);
    if ((a != v["decode"].get<std::string>() || b != v["decode_special"].get<std::string>()) && ++failed <= 8) {
      ADD_FAILURE() << GetParam() << " text=" << v["text"].dump() << "\n  llama.cpp " << v["decode"].dump() << " / "
                    << v["decode_special"].dump() << "\n  hearth    " << nlohmann::json(a).dump() << " / "
                    << nlohmann::json(b).dump();
    }
  }
  std::printf("[ %s ] decode: %zu/%zu vectors match llama.cpp\n", GetParam().c_str(), n - failed, n);
  EXPECT_EQ(failed, 0u);
}

// Lossless vocabularies give the text back; the stream never emits a broken character and adds up to
// the concatenated pieces (decode() additionally applies clean_up_tokenization_spaces where enabled).
TEST_P(Reference, RoundTripAndStreaming) {
  Loaded L;
  if (!load(GetParam(), L)) GTEST_SKIP() << "fixture not generated: run scripts/make_vocab_fixtures.sh";
  const auto& tok = *L.tok;
  size_t checked = 0;
  for (const auto& v : L.ref["vectors"]) {
    const std::string text = v["text"];
    const auto ids = tok.encode(text, false, false);
    hearth::StreamingDetokenizer stream(tok);
    std::string streamed;
    for (TokenId id : ids) {
      const std::string part = stream.push(id);
      ASSERT_TRUE(valid_utf8(part)) << GetParam() << " text=" << v["text"].dump();
      streamed += part;
    }
    streamed += stream.flush();
    // SPM writes spaces as U+2581, so a U+2581 in the input comes back as a space (llama.cpp does the same)
    const bool has_escape = text.find("\xE2\x96\x81") != std::string::npos && tok.model_name() == "llama";
    if (tok.is_lossless() && !has_escape) {
      EXPECT_EQ(streamed, text) << GetParam();
      ++checked;
    }
    if (v["decode"].get<std::string>() == tok.decode(ids, false) && valid_utf8(tok.decode(ids, false)) &&
        tok.model_name() == "llama") {   // SPM: no clean_up_tokenization_spaces in decode
      EXPECT_EQ(streamed, tok.decode(ids, false)) << GetParam() << " text=" << v["text"].dump();
    }
  }
  std::printf("[ %s ] round trip checked on %zu vectors\n", GetParam().c_str(), checked);
}

TEST_P(Reference, LongInputIsFast) {
  Loaded L;
  if (!load(GetParam(), L)) GTEST_SKIP() << "fixture not generated: run scripts/make_vocab_fixtures.sh";
  std::string text;
  size_t i = 0;
  while (text.size() < 100 * 1024) text += L.ref["vectors"][i++ % L.ref["vectors"].size()]["text"].get<std::string>() + " ";
  text += std::string(20000, 'a');   // one very long word
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = L.tok->encode(text, true, true);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ %s ] %zu bytes -> %zu tokens in %.3f s\n", GetParam().c_str(), text.size(), ids.size(), s);
  EXPECT_GT(ids.size(), 1000u);
#ifdef NDEBUG
  EXPECT_LT(s, 1.0);
#else
  EXPECT_LT(s, 20.0);   // sanitizer builds are much slower
#endif
}

INSTANTIATE_TEST_SUITE_P(Vocabs, Reference,
                         ::testing::Values("llama2-spm", "llama3-bpe", "qwen2-bpe", "gemma3-spm", "deepseek3-bpe",
                                           "bert-wpm"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

}  // namespace
