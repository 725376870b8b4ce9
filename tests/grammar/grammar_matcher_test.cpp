// The token matcher on real vocabularies (fixture GGUFs): the trie-walk mask must equal a brute-force check
// of every token's own bytes at every step of a document, including characters split across tokens; and it
// must be fast on 150k- and 262k-token vocabularies.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"

namespace {

using hearth::Grammar;
using hearth::GrammarMatcher;
using hearth::TokenId;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string fixture(const std::string& name) { return std::string(HEARTH_FIXTURE_DIR) + "/models/" + name; }

std::unique_ptr<hearth::Tokenizer> load_tokenizer(const std::string& name) {
  auto file = hearth::GgufFile::open(fixture(name));
  return hearth::Tokenizer::from_gguf(file);
}

const json& person_schema() {
  static const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "maxLength": 20},
      "age": {"type": "integer"},
      "city": {"enum": ["Paris", "東京", "São Paulo"]},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
      "note": {"type": "string"}
    },
    "required": ["name", "age"],
    "additionalProperties": false})");
  return schema;
}

// Splits `text` into tokens of this vocabulary: longest piece first, except that every other non-ASCII
// character is spelled with single-byte tokens where the vocabulary has them, so characters split across
// tokens are exercised.
std::vector<TokenId> spell(const hearth::Tokenizer& tok, const std::string& text) {
  std::vector<std::string> pieces(tok.vocab_size());
  std::vector<TokenId> single_byte(256, -1);
  for (size_t i = 0; i < tok.vocab_size(); i++) {
    const auto attr = tok.token_attr(TokenId(i));
    if (attr == hearth::TokenAttr::Control || attr == hearth::TokenAttr::Unknown || attr == hearth::TokenAttr::Unused)
      continue;
    pieces[i] = tok.token_to_piece(TokenId(i));
    if (pieces[i].size() == 1 && single_byte[uint8_t(pieces[i][0])] < 0) single_byte[uint8_t(pieces[i][0])] = TokenId(i);
  }
  std::vector<TokenId> out;
  bool split_next = true;
  for (size_t pos = 0; pos < text.size();) {
    const uint8_t lead = uint8_t(text[pos]);
    if (lead >= 0xC0 && split_next && single_byte[lead] >= 0) {
      split_next = false;
      out.push_back(single_byte[lead]);
      pos++;
      while (pos < text.size() && (uint8_t(text[pos]) & 0xC0) == 0x80) {
        if (single_byte[uint8_t(text[pos])] < 0) ADD_FAILURE() << "no byte token for a continuation byte";
        out.push_back(single_byte[uint8_t(text[pos])]);
        pos++;
      }
      continue;
    }
    if (lead >= 0xC0) split_next = true;
    size_t best_len = 0;
    TokenId best = -1;
    for (size_t i = 0; i < pieces.size(); i++) {
      const auto& p = pieces[i];
      if (p.size() > best_len && text.compare(pos, p.size(), p) == 0) {
        best_len = p.size();
        best = TokenId(i);
      }
    }
    if (best < 0) {
      ADD_FAILURE() << "no token spells the text at byte " << pos;
      return out;
    }
    out.push_back(best);
    pos += best_len;
  }
  return out;
}

struct MaskTimes {
  double first_ms = 0, mean_ms = 0, max_ms = 0;
  size_t steps = 0;
};

// Walks `doc` token by token; at every step the mask must equal the brute-force answer for every token.
MaskTimes check_masks_along(const hearth::Tokenizer& tok, std::shared_ptr<const Grammar> grammar, const std::string& doc) {
  GrammarMatcher matcher(grammar, tok);
  const std::vector<TokenId> tokens = spell(tok, doc);
  const int64_t n_vocab = int64_t(tok.vocab_size()) + 5;   // output layers may have padding rows
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  MaskTimes times;
  double total = 0;
  for (size_t step = 0; step <= tokens.size(); step++) {
    std::fill(logits.begin(), logits.end(), 1.0f);
    const auto t0 = Clock::now();
    matcher.mask_logits(logits.data(), n_vocab);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (step == 0) times.first_ms = ms;
    total += ms;
    times.max_ms = std::max(times.max_ms, ms);
    size_t mismatches = 0, allowed = 0;
    for (size_t t = 0; t < tok.vocab_size(); t++) {
      const bool masked_in = logits[t] != -INFINITY;
      allowed += masked_in;
      if (masked_in != matcher.allows(TokenId(t)) && ++mismatches <= 3)
        ADD_FAILURE() << "step " << step << " token " << t << " '" << tok.token_to_piece(TokenId(t))
                      << "': mask says " << masked_in;
    }
    for (int64_t t = int64_t(tok.vocab_size()); t < n_vocab; t++) EXPECT_EQ(logits[size_t(t)], -INFINITY);
    EXPECT_EQ(mismatches, 0u) << "at step " << step;
    if (step == tokens.size()) break;
    EXPECT_GT(allowed, 0u);
    if (logits[size_t(tokens[step])] == -INFINITY) {
      ADD_FAILURE() << "the document's own token " << tokens[step] << " is masked at step " << step;
      return times;
    }
    matcher.accept(tokens[step]);
  }
  EXPECT_TRUE(matcher.accepted());
  times.steps = tokens.size() + 1;
  times.mean_ms = total / double(times.steps);
  return times;
}

const std::string kPersonDoc =
    "{\"age\": -42, \"name\": \"Zoë \\\"Z\\\" Ångström\", \"city\": \"東京\",\n  \"note\": \"naïve café 😀 "
    "\\u00e9\", \"tags\": [\"a b\", \"ÿ\"]}";

TEST(GrammarMatcher, MaskEqualsBruteForceOnQwen3Vocabulary) {
  auto tok = load_tokenizer("qwen3-bpe-q5_k_m.gguf");
  auto g = Grammar::from_json_schema(person_schema());
  ASSERT_TRUE(g->matches(kPersonDoc));
  const MaskTimes t = check_masks_along(*tok, g, kPersonDoc);
  std::printf("[ figures  ] qwen3 (%zu tokens): mask %.2f ms first, %.2f ms mean, %.2f ms max over %zu steps\n",
              tok->vocab_size(), t.first_ms, t.mean_ms, t.max_ms, t.steps);
}

TEST(GrammarMatcher, MaskEqualsBruteForceOnGemma3Vocabulary) {
  auto tok = load_tokenizer("gemma3-spm-q8_0.gguf");
  auto g = Grammar::from_json_schema(person_schema());
  const MaskTimes t = check_masks_along(*tok, g, kPersonDoc);
  std::printf("[ figures  ] gemma3 (%zu tokens): mask %.2f ms first, %.2f ms mean, %.2f ms max over %zu steps\n",
              tok->vocab_size(), t.first_ms, t.mean_ms, t.max_ms, t.steps);
}

TEST(GrammarMatcher, MaskEqualsBruteForceOnLlamaVocabularyWithUnicodeClasses) {
  auto tok = load_tokenizer("llama-spm-q8_0.gguf");
  auto g = Grammar::parse_gbnf("root ::= \"名前: \" [一-龥]{1,4} \" (\" [^)]* \")\"\n");
  check_masks_along(*tok, g, "名前: 山田太郎 (ok ✓ ü)");
}

// A property the brute force cannot see (it shares the byte-level code): an ASCII-only grammar must never
// allow a token with a non-ASCII byte, not even a lead byte whose character would be completed later.
TEST(GrammarMatcher, AsciiGrammarAllowsNoNonAsciiByte) {
  for (const char* model : {"qwen3-bpe-q5_k_m.gguf", "llama-spm-q8_0.gguf"}) {
    auto tok = load_tokenizer(model);
    GrammarMatcher m(Grammar::parse_gbnf("root ::= [ -~]{1,8} \",\" [ -~]{1,8}"), *tok);
    std::vector<float> logits(tok->vocab_size(), 0.0f);
    m.mask_logits(logits.data(), int64_t(logits.size()));
    size_t open = 0;
    for (size_t t = 0; t < logits.size(); t++) {
      if (logits[t] == -INFINITY) continue;
      open++;
      const std::string piece = tok->token_to_piece(TokenId(t));
      for (unsigned char c : piece) EXPECT_LT(c, 0x80) << model << " token " << t << " is allowed";
      if (piece.size() <= 8 && piece.find(',') == std::string::npos) {
        EXPECT_TRUE(m.allows(TokenId(t)));
      }
    }
    EXPECT_GT(open, 1000u) << model;
  }
}

TEST(GrammarMatcher, EndOfGenerationOnlyWhenComplete) {
  auto tok = load_tokenizer("qwen3-bpe-q5_k_m.gguf");
  ASSERT_TRUE(tok->eos().has_value());
  const TokenId eos = *tok->eos();
  GrammarMatcher m(Grammar::parse_gbnf("root ::= \"yes\" | \"yes!\""), *tok);
  std::vector<float> logits(tok->vocab_size(), 0.0f);
  m.mask_logits(logits.data(), int64_t(logits.size()));
  EXPECT_EQ(logits[size_t(eos)], -INFINITY);
  EXPECT_THROW(m.accept(eos), hearth::Error);
  for (TokenId t : tok->encode("yes", false, false)) m.accept(t);
  EXPECT_TRUE(m.accepted());
  EXPECT_FALSE(m.finished());   // "!" may still follow
  std::fill(logits.begin(), logits.end(), 0.0f);
  m.mask_logits(logits.data(), int64_t(logits.size()));
  EXPECT_NE(logits[size_t(eos)], -INFINITY);
  for (TokenId t : tok->encode("!", false, false)) m.accept(t);
  EXPECT_TRUE(m.finished());
  std::fill(logits.begin(), logits.end(), 0.0f);
  m.mask_logits(logits.data(), int64_t(logits.size()));
  size_t open = 0;
  for (size_t t = 0; t < logits.size(); t++) open += logits[t] != -INFINITY;
  EXPECT_GE(open, 1u);
  for (size_t t = 0; t < logits.size(); t++)
    if (logits[t] != -INFINITY) {
      EXPECT_TRUE(tok->is_end_of_generation(TokenId(t)) || TokenId(t) == eos) << t;
    }
  m.accept(eos);
  EXPECT_THROW(m.accept(eos), hearth::Error);   // nothing after the end
}

TEST(GrammarMatcher, RejectsDisallowedAndControlTokens) {
  auto tok = load_tokenizer("qwen3-bpe-q5_k_m.gguf");
  GrammarMatcher m(Grammar::parse_gbnf("root ::= [0-9]+"), *tok);
  const auto letters = tok->encode("abc", false, false);
  try {
    m.accept(letters[0]);
    FAIL() << "a letter was accepted by a digits-only grammar";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not allowed here"), std::string::npos) << e.what();
  }
  const auto control = tok->encode("<|im_start|>", false, true);
  ASSERT_EQ(control.size(), 1u);
  EXPECT_FALSE(m.allows(control[0]));
  EXPECT_THROW(m.accept(control[0]), hearth::Error);
  EXPECT_THROW(m.accept(TokenId(tok->vocab_size())), hearth::Error);
  EXPECT_THROW(m.accept(-1), hearth::Error);
  // A rejected token leaves the state as it was.
  for (TokenId t : tok->encode("12", false, false)) m.accept(t);
  EXPECT_TRUE(m.accepted());
}

}  // namespace
