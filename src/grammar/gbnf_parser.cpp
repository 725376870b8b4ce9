// GBNF, the grammar notation of llama.cpp:
//   root  ::= item ("," item)*          # rules; `root` is where a sentence starts
//   item  ::= [a-z]+ | "\"" [^"]* "\""  # literals, char classes (ranges, [^...]), `.`, groups
//   count ::= [0-9]{1,3}                # repetition: * + ? {m} {m,} {m,n}
// Groups and repetitions become rules of their own, so the matcher only ever sees char classes and
// references to rules.
#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "grammar/grammar.h"
#include "grammar/grammar_checks.h"
#include "hearth/error.h"

namespace hearth {

namespace {
constexpr uint64_t kMaxRepetition = 10000;   // bounds the rules a {m,n} expands into

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Sorts and merges ranges; complements them over all code points when negated.
CharClass make_class(std::vector<std::pair<uint32_t, uint32_t>> ranges, bool negated) {
  std::sort(ranges.begin(), ranges.end());
  CharClass merged;
  for (const auto& r : ranges) {
    if (!merged.ranges.empty() && r.first <= merged.ranges.back().second + 1)
      merged.ranges.back().second = std::max(merged.ranges.back().second, r.second);
    else
      merged.ranges.push_back(r);
  }
  if (!negated) return merged;
  CharClass complement;
  uint32_t next = 0;
  for (const auto& r : merged.ranges) {
    if (r.first > next) complement.ranges.push_back({next, r.first - 1});
    next = r.second + 1;
  }
  if (next <= kMaxCodePoint) complement.ranges.push_back({next, kMaxCodePoint});
  return complement;
}
}  // namespace

bool CharClass::contains(uint32_t cp) const {
  // Ranges are sorted: find the first range ending at or after cp.
  auto it = std::lower_bound(ranges.begin(), ranges.end(), cp,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) { return r.second < v; });
  return it != ranges.end() && it->first <= cp;
}

bool CharClass::intersects(uint32_t lo, uint32_t hi) const {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), lo,
                             [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) { return r.second < v; });
  return it != ranges.end() && it->first <= hi;
}

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view text) : text_(text) {}

  std::shared_ptr<const Grammar> parse() {
    skip_space(true);
    while (pos_ < text_.size()) {
      parse_rule();
      skip_space(true);
    }
    return build();
  }

 private:
  using Sequence = std::vector<GrammarElement>;
  struct RawRule {
    std::string name;
    std::vector<Sequence> alternatives;
    bool defined = false;
    bool synthetic = false;
    size_t defined_at = 0;   // text offset of the definition (or of the group that made it)
    size_t first_use = 0;    // text offset of the first reference
  };

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<RawRule> rules_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::vector<CharClass> classes_;
  std::map<uint32_t, uint32_t> single_char_classes_;

  [[noreturn]] void fail(size_t at, const std::string& message) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < text_.size(); i++) {
      if (text_[i] == '\n') {
        line++;
        col = 1;
      } else if ((uint8_t(text_[i]) & 0xC0) != 0x80) {
        col++;
      }
    }
    throw Error(fmt::format("grammar line {}:{}: {}", line, col, message));
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  // Spaces, tabs and `#` comments; newlines only where a rule may continue on the next line.
  void skip_space(bool newlines) {
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t') {
        pos_++;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n' && peek() != '\r') pos_++;
      } else if (newlines && (c == '\n' || c == '\r')) {
        pos_++;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    size_t start = pos_;
    while (!at_end() && is_name_char(peek())) pos_++;
    if (pos_ == start) fail(start, "expected a rule name");
    return std::string(text_.substr(start, pos_ - start));
  }

  uint32_t rule_named(const std::string& name, size_t at) {
    auto [it, inserted] = by_name_.emplace(name, uint32_t(rules_.size()));
    if (inserted) {
      RawRule r;
      r.name = name;
      r.first_use = at;
      rules_.push_back(std::move(r));
    }
    return it->second;
  }

  uint32_t new_synthetic_rule(const std::string& owner, size_t at) {
    RawRule r;
    r.name = fmt::format("{}_{}", owner, rules_.size());
    r.defined = r.synthetic = true;
    r.defined_at = r.first_use = at;
    rules_.push_back(std::move(r));
    return uint32_t(rules_.size() - 1);
  }

  uint32_t add_class(CharClass c) {
    classes_.push_back(std::move(c));
    return uint32_t(classes_.size() - 1);
  }

  uint32_t single_char_class(uint32_t cp) {
    auto it = single_char_classes_.find(cp);
    if (it != single_char_classes_.end()) return it->second;
    uint32_t id = add_class(make_class({{cp, cp}}, false));
    single_char_classes_.emplace(cp, id);
    return id;
  }

  void parse_rule() {
    const size_t start = pos_;
    std::string name = parse_name();
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") fail(pos_, fmt::format("expected '::=' after rule name '{}'", name));
    pos_ += 3;
    skip_space(true);
    uint32_t id = rule_named(name, start);
    if (rules_[id].defined) {
      fail(start, fmt::format("rule '{}' is defined twice (first at {})", name, describe(rules_[id].defined_at)));
    }
    rules_[id].defined = true;
    rules_[id].defined_at = start;
    auto alternatives = parse_alternatives(name, false);
    rules_[id].alternatives = std::move(alternatives);
    if (!at_end() && peek() != '\n' && peek() != '\r') {
      if (peek() == ')') fail(pos_, "unmatched ')'");
      fail(pos_, fmt::format("unexpected '{}' in rule '{}'", peek(), name));
    }
  }

  std::string describe(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
      if (text_[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return fmt::format("{}:{}", line, col);
  }

  std::vector<Sequence> parse_alternatives(const std::string& owner, bool nested) {
    std::vector<Sequence> alternatives;
    alternatives.push_back(parse_sequence(owner, nested));
    while (peek() == '|') {
      pos_++;
      skip_space(true);
      alternatives.push_back(parse_sequence(owner, nested));
    }
    return alternatives;
  }

  Sequence parse_sequence(const std::string& owner, bool nested) {
    Sequence seq;
    size_t item_start = seq.size();
    bool have_item = false;
    while (!at_end()) {
      const size_t at = pos_;
      const char c = peek();
      if (c == '"') {
        pos_++;
        item_start = seq.size();
        while (peek() != '"') {
          if (at_end() || peek() == '\n' || peek() == '\r') fail(at, "unterminated string literal");
          seq.push_back({GrammarElement::Kind::Chars, single_char_class(parse_char())});
        }
        pos_++;
        have_item = true;
      } else if (c == '[') {
        item_start = seq.size();
        seq.push_back({GrammarElement::Kind::Chars, parse_char_class()});
        have_item = true;
      } else if (c == '.') {
        pos_++;
        item_start = seq.size();
        seq.push_back({GrammarElement::Kind::Chars, add_class(make_class({{0, kMaxCodePoint}}, false))});
        have_item = true;
      } else if (c == '(') {
        pos_++;
        skip_space(true);
        uint32_t group = new_synthetic_rule(owner, at);
        auto alternatives = parse_alternatives(owner, true);
        if (peek() != ')') fail(at, "unmatched '('");
        pos_++;
        rules_[group].alternatives = std::move(alternatives);
        item_start = seq.size();
        seq.push_back({GrammarElement::Kind::Ref, group});
        have_item = true;
      } else if (is_name_char(c)) {
        // A name followed by ::= starts the next rule: only possible after a newline, which ends the
        // sequence at top level; inside a group it is an error.
        std::string name = parse_name();
        skip_space(nested);
        if (text_.substr(pos_, 3) == "::=") fail(at, fmt::format("missing newline before rule '{}'", name));
        item_start = seq.size();
        seq.push_back({GrammarElement::Kind::Ref, rule_named(name, at)});
        have_item = true;
        continue;   // spaces already skipped
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!have_item) fail(at, fmt::format("'{}' has nothing to repeat", c));
        auto [min, max] = parse_repetition();
        apply_repetition(seq, item_start, min, max, owner, at);
        have_item = false;   // "x**" is an error, as in llama.cpp
      } else {
        break;
      }
      skip_space(nested);
    }
    return seq;
  }

  // Returns {min, max}; max == UINT64_MAX for unbounded.
  std::pair<uint64_t, uint64_t> parse_repetition() {
    const size_t at = pos_;
    const char c = text_[pos_++];
    constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();
    if (c == '*') return {0, kUnbounded};
    if (c == '+') return {1, kUnbounded};
    if (c == '?') return {0, 1};
    auto number = [&]() -> uint64_t {
      skip_space(false);
      size_t start = pos_;
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + uint64_t(peek() - '0');
        if (v > kMaxRepetition) fail(start, fmt::format("repetition count above {}", kMaxRepetition));
        pos_++;
      }
      if (pos_ == start) fail(start, "expected a number in '{...}'");
      skip_space(false);
      return v;
    };
    uint64_t min = number(), max = min;
    if (peek() == ',') {
      pos_++;
      skip_space(false);
      max = peek() == '}' ? kUnbounded : number();
    }
    if (peek() != '}') fail(at, "expected '}' to close the repetition");
    pos_++;
    if (max < min) fail(at, fmt::format("repetition {{{},{}}} has its maximum below its minimum", min, max));
    return {min, max};
  }

  // Replaces the item at seq[item_start..] by `min` copies and an optional tail up to `max`.
  void apply_repetition(Sequence& seq, size_t item_start, uint64_t min, uint64_t max, const std::string& owner,
                        size_t at) {
    GrammarElement item;
    if (seq.size() - item_start == 1) {
      item = seq.back();
    } else {   // a multi-character literal repeats as a whole
      uint32_t r = new_synthetic_rule(owner, at);
      rules_[r].alternatives = {Sequence(seq.begin() + std::ptrdiff_t(item_start), seq.end())};
      item = {GrammarElement::Kind::Ref, r};
    }
    seq.resize(item_start);
    for (uint64_t i = 0; i < min; i++) seq.push_back(item);
    if (max == std::numeric_limits<uint64_t>::max()) {
      uint32_t star = new_synthetic_rule(owner, at);   // star ::= item star | (empty)
      rules_[star].alternatives = {{item, {GrammarElement::Kind::Ref, star}}, {}};
      seq.push_back({GrammarElement::Kind::Ref, star});
      return;
    }
    // opt_k ::= item opt_{k-1} | (empty): at most max - min more items, without ambiguity.
    bool have_inner = false;
    GrammarElement inner{};
    for (uint64_t i = min; i < max; i++) {
      uint32_t opt = new_synthetic_rule(owner, at);
      Sequence body{item};
      if (have_inner) body.push_back(inner);
      rules_[opt].alternatives = {body, {}};
      inner = {GrammarElement::Kind::Ref, opt};
      have_inner = true;
    }
    if (have_inner) seq.push_back(inner);
  }

  uint32_t parse_char_class() {
    const size_t at = pos_;
    pos_++;   // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      pos_++;
    }
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    while (peek() != ']') {
      if (at_end() || peek() == '\n' || peek() == '\r') fail(at, "unterminated character class");
      const size_t char_at = pos_;
      uint32_t lo = parse_char(), hi = lo;
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < text_.size()) {
        pos_++;
        hi = parse_char();
        if (hi < lo) fail(char_at, fmt::format("range U+{:04X}-U+{:04X} is reversed", lo, hi));
      }
      ranges.push_back({lo, hi});
    }
    pos_++;   // ']'
    if (ranges.empty() && !negated) fail(at, "empty character class matches nothing");
    return add_class(make_class(std::move(ranges), negated));
  }

  // One character of a literal or class: an escape or a UTF-8 encoded code point.
  uint32_t parse_char() {
    const size_t at = pos_;
    const uint8_t b = uint8_t(text_[pos_]);
    if (b == '\\') {
      pos_++;
      if (at_end()) fail(at, "escape at end of input");
      const char e = text_[pos_++];
      switch (e) {
        case 'n': return '\n';
        case 'r': return '\r';
        case 't': return '\t';
        case '0': return 0;
        case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/': case '.':
          return uint32_t(uint8_t(e));
        case 'x': return parse_hex(2, at);
        case 'u': return parse_hex(4, at);
        case 'U': return parse_hex(8, at);
        default:
          fail(at, fmt::format("unknown escape '\\{}'", e));
      }
    }
    // UTF-8: the text is expected to be valid; say where it is not.
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || pos_ + size_t(len) > text_.size()) fail(at, "invalid UTF-8 in grammar text");
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (int i = 1; i < len; i++) {
      uint8_t c = uint8_t(text_[pos_ + size_t(i)]);
      if ((c & 0xC0) != 0x80) fail(at, "invalid UTF-8 in grammar text");
      cp = (cp << 6) | (c & 0x3Fu);
    }
    pos_ += size_t(len);
    return cp;
  }

  uint32_t parse_hex(int digits, size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < digits; i++) {
      int h = hex_value(peek());
      if (h < 0) fail(at, fmt::format("escape needs {} hex digits", digits));
      v = v * 16 + uint32_t(h);
      pos_++;
    }
    if (v > kMaxCodePoint) fail(at, fmt::format("code point U+{:X} is beyond U+10FFFF", v));
    return v;
  }

  std::shared_ptr<const Grammar> build() {
    auto root = by_name_.find("root");
    if (root == by_name_.end() || !rules_[root->second].defined) fail(0, "the grammar has no 'root' rule");
    for (const auto& r : rules_)
      if (!r.defined) fail(r.first_use, fmt::format("rule '{}' is used but never defined", r.name));

    auto g = std::make_shared<Grammar>();
    g->classes_ = std::move(classes_);
    g->root_ = root->second;
    for (auto& raw : rules_) {
      Grammar::Rule rule;
      rule.name = raw.name;
      for (const auto& alt : raw.alternatives) {
        rule.alternatives.push_back(uint32_t(g->elements_.size()));
        g->elements_.insert(g->elements_.end(), alt.begin(), alt.end());
        g->elements_.push_back({GrammarElement::Kind::End, 0});
      }
      g->rules_.push_back(std::move(rule));
    }
    if (auto cycle = find_left_recursion(*g); !cycle.empty()) {
      // Name the cycle by the rules the author wrote; groups and repetitions carry their owner's name.
      std::string path;
      for (uint32_t r : cycle) path += (path.empty() ? "" : " -> ") + rules_[r].name;
      fail(rules_[cycle.front()].defined_at,
           fmt::format("left recursion: {} can reach itself without consuming input ({})", rules_[cycle.front()].name,
                       path));
    }
    return g;
  }
};

std::shared_ptr<const Grammar> Grammar::parse_gbnf(std::string_view text) { return GbnfParser(text).parse(); }

}  // namespace hearth
