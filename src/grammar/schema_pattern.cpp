#include "grammar/schema_pattern.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "grammar/gbnf_text.h"
#include "grammar/grammar.h"
#include "hearth/error.h"

namespace hearth {

namespace {
using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges normalize(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (const auto& x : r) {
    if (!out.empty() && x.first <= out.back().second + 1)
      out.back().second = std::max(out.back().second, x.second);
    else
      out.push_back(x);
  }
  return out;
}

Ranges complement(const Ranges& r) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& x : normalize(r)) {
    if (x.first > next) out.push_back({next, x.first - 1});
    next = x.second + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

const Ranges kDigit = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
                       {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const Ranges kLineTerminators = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};

// How a character that JSON must escape is written inside a JSON string.
std::string json_escape(uint32_t cp) {
  switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return fmt::format("\\u{:04x}", cp);
  }
}

bool in_ranges(const Ranges& r, uint32_t cp) {
  for (const auto& [lo, hi] : r)
    if (lo <= cp && cp <= hi) return true;
  return false;
}

// Both lists normalized.
Ranges intersect(const Ranges& a, const Ranges& b) {
  Ranges out;
  for (const auto& x : a)
    for (const auto& y : b) {
      const uint32_t lo = std::max(x.first, y.first), hi = std::min(x.second, y.second);
      if (lo <= hi) out.push_back({lo, hi});
    }
  return normalize(out);
}

// GBNF for one character from `ranges`, as it appears JSON-encoded: raw where JSON allows it, otherwise
// its escape.
std::string charset_expr(const Ranges& ranges) {
  static const Ranges needs_escape = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
  const Ranges normalized = normalize(ranges);
  const Ranges safe = intersect(normalized, complement(needs_escape));
  std::vector<std::string> alts;
  for (uint32_t c = 0; c <= '\\'; c++)
    if (in_ranges(needs_escape, c) && in_ranges(normalized, c)) alts.push_back(gbnf_literal(json_escape(c)));
  if (!safe.empty() && alts.empty() && safe.size() == 1 && safe[0].first == safe[0].second)
    return gbnf_literal_chars({safe[0].first});
  if (!safe.empty()) {
    std::string cls = "[";
    for (const auto& [lo, hi] : normalize(safe)) {
      cls += gbnf_class_char(lo);
      if (hi > lo) cls += "-" + gbnf_class_char(hi);
    }
    alts.insert(alts.begin(), cls + "]");
  }
  if (alts.empty()) throw Error("pattern: a character class matches nothing");
  if (alts.size() == 1) return alts[0];
  std::string out;
  for (const auto& a : alts) out += (out.empty() ? "(" : " | ") + a;
  return out + ")";
}

class PatternConverter {
 public:
  explicit PatternConverter(std::string_view pattern) : pattern_(pattern), cps_(decode_utf8(pattern)) {}

  std::string run() {
    std::string out = alternation(0);
    if (i_ < cps_.size()) fail(cps_[i_] == ')' ? "unmatched ')'" : "unexpected character");
    return out;
  }

 private:
  std::string_view pattern_;
  std::vector<uint32_t> cps_;
  size_t i_ = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("pattern '{}': {} at character {}", pattern_, what, i_ + 1));
  }
  bool more() const { return i_ < cps_.size(); }
  uint32_t peek(size_t ahead = 0) const { return i_ + ahead < cps_.size() ? cps_[i_ + ahead] : 0xFFFFFFFFu; }

  std::string alternation(int depth) {
    std::vector<std::string> alts{sequence(depth)};
    while (peek() == '|') {
      i_++;
      alts.push_back(sequence(depth));
    }
    if (alts.size() == 1) return alts[0];
    std::string out;
    for (const auto& a : alts) out += (out.empty() ? "(" : " | ") + a;
    return out + ")";
  }

  std::string sequence(int depth) {
    std::vector<std::string> items;
    while (more() && peek() != '|' && peek() != ')') {
      const uint32_t c = peek();
      // Anchors at the ends of a top-level branch change nothing for a full match.
      if (c == '^') {
        if (depth != 0 || !items.empty()) fail("'^' is only supported at the start");
        i_++;
        continue;
      }
      if (c == '$') {
        i_++;
        if (depth != 0 || (more() && peek() != '|')) fail("'$' is only supported at the end");
        continue;
      }
      std::string atom_text = atom(depth);
      items.push_back(quantified(std::move(atom_text)));
    }
    if (items.empty()) return "\"\"";
    std::string out;
    for (const auto& it : items) out += (out.empty() ? "" : " ") + it;
    return items.size() == 1 ? out : "(" + out + ")";
  }

  std::string quantified(std::string atom_text) {
    std::string q;
    const uint32_t c = peek();
    if (c == '*' || c == '+' || c == '?') {
      q = std::string(1, char(c));
      i_++;
    } else if (c == '{') {
      i_++;
      auto number = [&]() {
        uint64_t v = 0;
        const size_t start = i_;
        while (peek() >= '0' && peek() <= '9') {
          v = v * 10 + (peek() - '0');
          if (v > 10000) fail("repetition count above 10000");
          i_++;
        }
        if (i_ == start) fail("expected a number in {...}");
        return v;
      };
      const uint64_t min = number();
      uint64_t max = min;
      bool unbounded = false;
      if (peek() == ',') {
        i_++;
        if (peek() == '}')
          unbounded = true;
        else
          max = number();
      }
      if (peek() != '}') fail("expected '}'");
      i_++;
      if (!unbounded && max < min) fail("{m,n} with n < m");
      q = unbounded ? fmt::format("{{{},}}", min) : fmt::format("{{{},{}}}", min, max);
    } else {
      return atom_text;
    }
    if (peek() == '?') i_++;   // lazy: same set of full matches
    if (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{') fail("nested quantifier");
    return "(" + atom_text + ")" + q;
  }

  std::string atom(int depth) {
    const uint32_t c = peek();
    if (c == '(') {
      i_++;
      if (peek() == '?') {
        if (peek(1) == ':') {
          i_ += 2;
        } else if (peek(1) == '<' && peek(2) != '=' && peek(2) != '!') {
          i_ += 2;   // named group: the name is irrelevant here
          while (more() && peek() != '>') i_++;
          if (!more()) fail("unterminated group name");
          i_++;
        } else {
          fail("lookaround assertions are not supported");
        }
      }
      std::string inner = alternation(depth + 1);
      if (peek() != ')') fail("unmatched '('");
      i_++;
      return "(" + inner + ")";
    }
    if (c == '[') return charset_expr(char_class());
    if (c == '.') {
      i_++;
      return charset_expr(complement(kLineTerminators));
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') fail("quantifier without anything to repeat");
    if (c == '\\') return escape_atom();
    i_++;
    return charset_expr({{c, c}});
  }

  // An escape outside a class: a character or a class shorthand.
  std::string escape_atom() {
    Ranges r = escape(false);
    return charset_expr(r);
  }

  uint32_t hex(int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; k++) {
      const uint32_t c = peek();
      int h = (c >= '0' && c <= '9') ? int(c - '0') : (c >= 'a' && c <= 'f') ? int(c - 'a' + 10)
            : (c >= 'A' && c <= 'F') ? int(c - 'A' + 10) : -1;
      if (h < 0) fail("bad hex escape");
      v = v * 16 + uint32_t(h);
      i_++;
    }
    return v;
  }

  // After a backslash: the set it stands for.
  Ranges escape(bool in_class) {
    i_++;   // backslash
    if (!more()) fail("pattern ends with a backslash");
    const uint32_t e = cps_[i_++];
    switch (e) {
      case 'd': return kDigit;
      case 'D': return complement(kDigit);
      case 'w': return kWord;
      case 'W': return complement(kWord);
      case 's': return kSpace;
      case 'S': return complement(kSpace);
      case 't': return {{'\t', '\t'}};
      case 'n': return {{'\n', '\n'}};
      case 'r': return {{'\r', '\r'}};
      case 'f': return {{'\f', '\f'}};
      case 'v': return {{'\v', '\v'}};
      case '0': return {{0, 0}};
      case 'x': { uint32_t v = hex(2); return {{v, v}}; }
      case 'u': {
        if (peek() == '{') {
          i_++;
          uint32_t v = 0;
          while (peek() != '}') {
            const uint32_t d = hex(1);
            v = v * 16 + d;
            if (v > kMaxCodePoint) fail("code point beyond U+10FFFF");
          }
          i_++;
          return {{v, v}};
        }
        uint32_t v = hex(4);
        return {{v, v}};
      }
      case 'b':
        if (in_class) return {{'\b', '\b'}};
        fail("word boundaries (\\b) are not supported");
      case 'B': fail("\\B is not supported");
      case 'p': case 'P': fail("Unicode property escapes are not supported");
      default:
        if (e >= '1' && e <= '9') fail("backreferences are not supported");
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) fail(fmt::format("unknown escape '\\{}'", char(e)));
        return {{e, e}};   // an escaped punctuation character stands for itself
    }
  }

  Ranges char_class() {
    i_++;   // [
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      i_++;
    }
    Ranges r;
    while (more() && peek() != ']') {
      Ranges item = class_atom();
      if (peek() == '-' && peek(1) != ']' && peek(1) != 0xFFFFFFFFu && item.size() == 1 &&
          item[0].first == item[0].second) {
        i_++;
        Ranges upper = class_atom();
        if (upper.size() != 1 || upper[0].first != upper[0].second) fail("a class shorthand cannot end a range");
        if (upper[0].first < item[0].first) fail("reversed range in a character class");
        r.push_back({item[0].first, upper[0].first});
      } else {
        r.insert(r.end(), item.begin(), item.end());
      }
    }
    if (!more()) fail("unterminated character class");
    i_++;   // ]
    return negated ? complement(r) : normalize(r);
  }

  Ranges class_atom() {
    if (peek() == '\\') return escape(true);
    const uint32_t c = cps_[i_++];
    return {{c, c}};
  }
};
}  // namespace

std::string schema_pattern_to_gbnf(std::string_view pattern) { return PatternConverter(pattern).run(); }

}  // namespace hearth
