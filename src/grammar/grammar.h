#pragma once
// Structured output: a context-free grammar (GBNF, as llama.cpp writes it, or derived from a JSON schema)
// and a matcher that masks a model's logits so only tokens that keep the output inside the grammar can be
// sampled.
//
//   auto g = hearth::Grammar::from_json_schema(schema);      // once; shareable between requests
//   hearth::GrammarMatcher m(g, engine.tokenizer());         // once per request
//   m.mask_logits(logits, n_vocab); tok = sample(logits); m.accept(tok);   // per token
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/tokenizer.h"

namespace hearth {

// The largest Unicode code point: the upper end of every open character range.
inline constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// A set of Unicode code points, kept as sorted, disjoint, inclusive ranges (negation is resolved at parse
// time, so `[^a]` is stored as its complement).
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  bool contains(uint32_t cp) const;
  bool intersects(uint32_t lo, uint32_t hi) const;
};

// One symbol of a rule alternative. Alternatives are stored back to back in one array, each closed by End.
struct GrammarElement {
  enum class Kind : uint8_t { End, Chars, Ref };
  Kind kind;
  uint32_t value;   // Chars: index into classes(); Ref: index into rules()
};

class Grammar {   // immutable, shareable between requests
 public:
  struct Rule {
    std::string name;
    std::vector<uint32_t> alternatives;   // start positions in elements()
  };

  // Throws hearth::Error "grammar line L:C: ..." for syntax errors, undefined rules, left recursion.
  static std::shared_ptr<const Grammar> parse_gbnf(std::string_view text);
  // Throws hearth::Error naming the schema location for keywords it cannot enforce.
  static std::shared_ptr<const Grammar> from_json_schema(const nlohmann::json& schema);
  // The GBNF text from_json_schema parses (useful to read what a schema turned into).
  static std::string json_schema_to_gbnf(const nlohmann::json& schema);

  // Whether the whole of `utf8` is a sentence of the grammar.
  bool matches(std::string_view utf8) const;

  const std::vector<GrammarElement>& elements() const { return elements_; }
  const std::vector<CharClass>& classes() const { return classes_; }
  const std::vector<Rule>& rules() const { return rules_; }
  uint32_t root() const { return root_; }

 private:
  friend class GbnfParser;
  std::vector<GrammarElement> elements_;
  std::vector<CharClass> classes_;
  std::vector<Rule> rules_;
  uint32_t root_ = 0;
};

class TokenTrie;
class StackSetAutomaton;

class GrammarMatcher {   // one per request
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, const Tokenizer& tokenizer);
  ~GrammarMatcher();
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;

  // Sets -INFINITY for every token that cannot follow; end-of-generation tokens stay only when the grammar
  // can end here. Tokens past the tokenizer's vocabulary (padding rows of the output layer) are masked.
  void mask_logits(float* logits, int64_t n_vocab);
  // Advances by one token; hearth::Error if the grammar does not allow it here.
  void accept(TokenId token);
  // Whether accept(token) would succeed, checked on the token's own bytes (no trie): the slow reference
  // that mask_logits must agree with.
  bool allows(TokenId token);
  // The input so far is a complete sentence.
  bool accepted() const;
  // Complete, and nothing but an end-of-generation token may follow: generation should stop here.
  bool finished() const;

 private:
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenTrie> trie_;
  std::unique_ptr<StackSetAutomaton> automaton_;
  uint32_t state_ = 0;          // a set of stacks in automaton_
  uint32_t utf8_pending_ = 0;   // a code point's leading bits when a token ended inside it
  uint8_t utf8_remaining_ = 0;  // continuation bytes it still needs
  uint8_t utf8_length_ = 0;     // its full length in bytes
  bool ended_ = false;          // an end-of-generation token was accepted
  std::vector<uint8_t> allowed_;
  // Recent masks by state: a state that recurs (inside an unbounded string, every character leads back to
  // the same state) is masked by a copy instead of a trie walk.
  struct CachedMask {
    uint32_t state = 0, pending = 0;
    uint8_t remaining = 0, length = 0;
    uint64_t last_use = 0;
    std::vector<uint8_t> allowed;
  };
  std::vector<CachedMask> mask_cache_;
  uint64_t mask_clock_ = 0;

  void compute_allowed();
  // Runs `piece` from the current state; false as soon as a byte is rejected. Leaves the result in the
  // out-parameters without committing it.
  bool run_piece(std::string_view piece, uint32_t& state, uint32_t& pending, uint8_t& remaining, uint8_t& length);
};

}  // namespace hearth
