// Tokenizer behaviour that needs no recorded reference: metadata validation, streaming of characters split
// across byte tokens, the SentencePiece importer on the real Llama 2 model.
#include <gtest/gtest.h>

#include <filesystem>

#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "tokenizer/vocab_import.h"

namespace {

using hearth::GgufValue;
using hearth::GgufWriter;
using hearth::TokenId;

// A tiny byte-level BPE vocabulary: the 256 byte tokens plus "ab" and "abc".
GgufWriter tiny_bpe() {
  GgufWriter w;
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    // GPT-2 byte-to-unicode: printable bytes map to themselves, the rest to U+0100 upwards
    static int next = 0;
    if (b == 0) next = 0;
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + next++);
    std::string s;
    if (cp < 0x80) s += char(cp);
    else s += char(0xC0 | (cp >> 6)), s += char(0x80 | (cp & 0x3F));
    tokens.push_back(s);
  }
  tokens.push_back("ab");
  tokens.push_back("abc");
  tokens.push_back("<|end|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  w.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", GgufValue::string("llama-bpe"));
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  w.set("tokenizer.ggml.merges", GgufValue::string_array({"a b", "ab c"}));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(258));
  return w;
}

std::unique_ptr<hearth::Tokenizer> build(const GgufWriter& w) {
  const auto bytes = w.to_bytes();
  return hearth::Tokenizer::from_gguf(hearth::GgufFile::from_bytes(bytes));
}

TEST(TokenizerMetadata, TinyVocabularyWorks) {
  auto tok = build(tiny_bpe());
  EXPECT_EQ(tok->encode("abc", false, false), (std::vector<TokenId>{257}));
  EXPECT_EQ(tok->encode("abc<|end|>", false, true), (std::vector<TokenId>{257, 258}));
  EXPECT_EQ(tok->decode({257, 258}, true), "abc<|end|>");
  EXPECT_TRUE(tok->is_end_of_generation(258));
}

TEST(TokenizerMetadata, BadMetadataThrows) {
  auto expect_error = [](GgufWriter w, const char* what) {
    EXPECT_THROW(build(w), hearth::Error) << what;
  };
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.tokens", GgufValue::string_array({}));
    expect_error(w, "empty token list");
  }
  {
    GgufWriter w;
    w.set("tokenizer.ggml.model", GgufValue::string("llama"));
    expect_error(w, "missing tokens");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1, 1}));
    expect_error(w, "token_type length mismatch");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.scores", GgufValue::f32_array({0.0f}));
    expect_error(w, "scores length mismatch");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.merges", GgufValue::string_array({"a b", "x yz"}));
    expect_error(w, "merge naming unknown tokens");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.merges", GgufValue::string_array({"ab"}));
    expect_error(w, "merge without a space");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32(100000));
    expect_error(w, "eos id out of range");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.pre", GgufValue::string("no-such-pre"));
    expect_error(w, "unknown pre-tokenizer");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.model", GgufValue::string("rwkv-ish"));
    expect_error(w, "unknown model");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "a"}));
    w.set("tokenizer.ggml.token_type", GgufValue::i32_array({1, 1, 1}));
    expect_error(w, "duplicate token");
  }
  {
    GgufWriter w = tiny_bpe();
    w.set("tokenizer.ggml.tokens", GgufValue::i32_array({1, 2, 3}));
    expect_error(w, "tokens of the wrong type");
  }
  auto tok = build(tiny_bpe());
  EXPECT_THROW(tok->token_to_piece(100000), hearth::Error);
  EXPECT_THROW(tok->decode({-1}), hearth::Error);
}

const std::filesystem::path kLlama2 = std::filesystem::path(HEARTH_SHARED_DIR) / "tokenizers/llama2/tokenizer.model";

std::unique_ptr<hearth::Tokenizer> llama2() {
  GgufWriter w;
  hearth::import_spm_model(kLlama2.string(), w);
  return build(w);
}

TEST(SpmImport, ReadsTheLlama2Model) {
  if (!std::filesystem::exists(kLlama2)) GTEST_SKIP() << "shared/tokenizers/llama2/tokenizer.model not present";
  auto tok = llama2();
  EXPECT_EQ(tok->vocab_size(), 32000u);
  EXPECT_EQ(tok->token_text(1), "<s>");
  EXPECT_EQ(tok->token_attr(1), hearth::TokenAttr::Control);
  EXPECT_EQ(tok->token_attr(3), hearth::TokenAttr::Byte);   // <0x00>
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_TRUE(tok->add_bos());
}

TEST(SpmImport, TruncatedModelThrows) {
  if (!std::filesystem::exists(kLlama2)) GTEST_SKIP() << "shared/tokenizers/llama2/tokenizer.model not present";
  const auto tmp = std::filesystem::temp_directory_path() / "hearth_truncated.model";
  std::filesystem::copy_file(kLlama2, tmp, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(tmp, 1001);
  GgufWriter w;
  EXPECT_THROW(hearth::import_spm_model(tmp.string(), w), hearth::Error);
  std::filesystem::remove(tmp);
}

// "🤖" is not a Llama 2 piece: it becomes four byte tokens, and the stream holds the first three back.
TEST(StreamingDetokenizer, HoldsSplitCharacters) {
  if (!std::filesystem::exists(kLlama2)) GTEST_SKIP() << "shared/tokenizers/llama2/tokenizer.model not present";
  auto tok = llama2();
  const std::string text = "a🤖é中";
  const auto ids = tok->encode(text, false, false);
  int byte_tokens = 0;
  hearth::StreamingDetokenizer s(*tok);
  std::string out;
  std::vector<std::string> parts;
  for (TokenId id : ids) {
    byte_tokens += tok->token_attr(id) == hearth::TokenAttr::Byte;
    parts.push_back(s.push(id));
    out += parts.back();
  }
  out += s.flush();
  EXPECT_GE(byte_tokens, 4);
  EXPECT_EQ(out, text);
  for (const auto& p : parts) {
    EXPECT_NE(p, "\xF0");
    if (!p.empty()) EXPECT_TRUE(p.back() != '\xF0' && p.back() != '\x9F');
  }
  // an unfinished character at the end becomes one U+FFFD
  hearth::StreamingDetokenizer cut(*tok);
  std::string partial;
  for (size_t i = 0; i + 1 < ids.size() && tok->token_attr(ids[i + 1]) != hearth::TokenAttr::Normal; ++i) {
    partial += cut.push(ids[i]);
    if (tok->token_attr(ids[i]) == hearth::TokenAttr::Byte && tok->token_attr(ids[i + 1]) == hearth::TokenAttr::Byte &&
        i > 0 && tok->token_attr(ids[i - 1]) == hearth::TokenAttr::Byte)
      break;
  }
  EXPECT_EQ(cut.flush(), "\xEF\xBF\xBD");
}

}  // namespace
