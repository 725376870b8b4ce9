#include "template/lexer.h"

#include <algorithm>

#include "hearth/error.h"
#include "template/utf8.h"

namespace hearth::jinja {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Text after a preprocessing pass, with each byte's offset in the original source (for line:column).
struct MappedText {
  std::string text;
  std::vector<uint32_t> origin;

  void push(char c, uint32_t at) {
    text += c;
    origin.push_back(at);
  }
};

MappedText drop_final_newline(std::string_view source) {
  MappedText out;
  size_t n = source.size();
  if (n > 0 && source[n - 1] == '\n') --n;
  for (size_t i = 0; i < n; ++i) out.push(source[i], static_cast<uint32_t>(i));
  return out;
}

// lstrip_blocks: spaces and tabs before `{%`, `{#` (and `{-`) at the start of a line are removed.
MappedText lstrip_blocks(const MappedText& in) {
  MappedText out;
  const std::string& s = in.text;
  size_t i = 0;
  while (i < s.size()) {
    bool line_start = i == 0 || s[i - 1] == '\n' || s[i - 1] == '\r';
    if (line_start) {
      size_t j = i;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j + 1 < s.size() && s[j] == '{' && (s[j + 1] == '#' || s[j + 1] == '%' || s[j + 1] == '-')) i = j;
    }
    out.push(s[i], in.origin[i]);
    ++i;
  }
  return out;
}

// trim_blocks: the first newline after a block or comment tag is removed.
MappedText trim_blocks(const MappedText& in) {
  MappedText out;
  const std::string& s = in.text;
  for (size_t i = 0; i < s.size(); ++i) {
    out.push(s[i], in.origin[i]);
    char c = s[i];
    if ((c == '#' || c == '%' || c == '-') && i + 2 < s.size() && s[i + 1] == '}' && s[i + 2] == '\n') {
      out.push(s[i + 1], in.origin[i + 1]);
      i += 2;
    }
  }
  return out;
}

// `{% generation %}` / `{% endgeneration %}` only mark assistant spans for training masks; rendering drops
// them, keeping the surrounding whitespace unless the tag has `-`.
MappedText drop_generation_tags(const MappedText& in) {
  MappedText out;
  const std::string& s = in.text;
  size_t resume = 0;  // first byte not yet copied
  size_t i = 0;
  while (i + 1 < s.size()) {
    if (!(s[i] == '{' && s[i + 1] == '%')) { ++i; continue; }
    size_t j = i + 2;
    bool strip_before = j < s.size() && s[j] == '-';
    if (strip_before) ++j;
    while (j < s.size() && utf8::is_space(s[j])) ++j;
    if (s.compare(j, 3, "end") == 0 && s.compare(j + 3, 10, "generation") == 0) j += 3;
    if (s.compare(j, 10, "generation") != 0) { ++i; continue; }
    j += 10;
    while (j < s.size() && utf8::is_space(s[j])) ++j;
    bool strip_after = j < s.size() && s[j] == '-';
    if (strip_after) ++j;
    if (s.compare(j, 2, "%}") != 0) { ++i; continue; }
    j += 2;
    size_t before = i;
    while (before > resume && utf8::is_space(s[before - 1])) --before;
    size_t after = j;
    while (after < s.size() && utf8::is_space(s[after])) ++after;
    for (size_t k = resume; k < before; ++k) out.push(s[k], in.origin[k]);
    if (!strip_before) for (size_t k = before; k < i; ++k) out.push(s[k], in.origin[k]);
    if (!strip_after) for (size_t k = j; k < after; ++k) out.push(s[k], in.origin[k]);
    resume = after;
    i = after;
  }
  for (size_t k = resume; k < s.size(); ++k) out.push(s[k], in.origin[k]);
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view original, MappedText mapped) : original_(original), m_(std::move(mapped)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < original_.size(); ++i) {
      if (original_[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
    }
  }

  std::vector<Token> run() {
    const std::string& s = m_.text;
    while (i_ < s.size()) {
      TokenKind last = tokens_.empty() ? TokenKind::End : tokens_.back().kind;
      if (tokens_.empty() || last == TokenKind::CloseStatement || last == TokenKind::CloseExpression || after_comment_) {
        after_comment_ = false;
        size_t start = i_;
        while (i_ < s.size() && !(s[i_] == '{' && i_ + 1 < s.size() && (s[i_ + 1] == '%' || s[i_ + 1] == '{' || s[i_ + 1] == '#'))) ++i_;
        if (i_ > start) {
          push(TokenKind::Text, s.substr(start, i_ - start), start);
          continue;
        }
      }
      if (starts_with("{#")) { comment(); continue; }
      if (starts_with("{%-") || starts_with("{{-")) {
        strip_trailing_text();
        push(s[i_ + 1] == '%' ? TokenKind::OpenStatement : TokenKind::OpenExpression, s.substr(i_, 2), i_);
        curly_depth_ = 0;
        i_ += 3;
        continue;
      }
      while (i_ < s.size() && utf8::is_space(s[i_])) ++i_;
      if (i_ >= s.size()) break;
      if (starts_with("-%}") || starts_with("-}}")) {
        push(s[i_ + 1] == '%' ? TokenKind::CloseStatement : TokenKind::CloseExpression, s.substr(i_ + 1, 2), i_);
        i_ += 3;
        while (i_ < s.size() && utf8::is_space(s[i_])) ++i_;
        continue;
      }
      if (starts_with("{%")) { push(TokenKind::OpenStatement, "{%", i_); i_ += 2; curly_depth_ = 0; continue; }
      if (starts_with("%}")) { push(TokenKind::CloseStatement, "%}", i_); i_ += 2; continue; }
      if (starts_with("{{")) { push(TokenKind::OpenExpression, "{{", i_); i_ += 2; curly_depth_ = 0; continue; }
      if (curly_depth_ == 0 && starts_with("}}")) { push(TokenKind::CloseExpression, "}}", i_); i_ += 2; continue; }
      char c = s[i_];
      if (c == '\'' || c == '"') { string_literal(c); continue; }
      if (is_digit(c)) { number(); continue; }
      if (is_word(c)) {
        size_t start = i_;
        while (i_ < s.size() && is_word(s[i_])) ++i_;
        push(TokenKind::Identifier, s.substr(start, i_ - start), start);
        continue;
      }
      static const char* kOperators[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".",
                                         ":",  "|",  "+",  "-",  "~",  "*",  "/", "%", "<", ">", "="};
      bool matched = false;
      for (const char* op : kOperators) {
        if (starts_with(op)) {
          std::string_view text(op);
          push(TokenKind::Operator, std::string(text), i_);
          if (text == "{") ++curly_depth_;
          if (text == "}") --curly_depth_;
          i_ += text.size();
          matched = true;
          break;
        }
      }
      if (!matched) error(i_, std::string("unexpected character '") + c + "'");
    }
    Token end{TokenKind::End, "", position(s.size())};
    tokens_.push_back(std::move(end));
    return std::move(tokens_);
  }

 private:
  bool starts_with(std::string_view p) const { return m_.text.compare(i_, p.size(), p) == 0; }

  SourcePos position(size_t mapped_index) const {
    uint32_t offset = mapped_index < m_.origin.size() ? m_.origin[mapped_index] : static_cast<uint32_t>(original_.size());
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    return SourcePos{static_cast<uint32_t>(line), offset - line_starts_[line - 1] + 1};
  }

  [[noreturn]] void error(size_t at, const std::string& message) const {
    throw Error("template " + describe(position(at)) + ": " + message);
  }

  void push(TokenKind kind, std::string value, size_t at) { tokens_.push_back(Token{kind, std::move(value), position(at)}); }

  void strip_trailing_text() {
    if (tokens_.empty() || tokens_.back().kind != TokenKind::Text) return;
    std::string& text = tokens_.back().value;
    while (!text.empty() && utf8::is_space(text.back())) text.pop_back();
    if (text.empty()) tokens_.pop_back();
  }

  void comment() {
    const std::string& s = m_.text;
    size_t start = i_;
    i_ += 2;
    bool strip_before = i_ < s.size() && s[i_] == '-';
    size_t end = s.find("#}", i_);
    if (end == std::string::npos) error(start, "unterminated comment: missing '#}'");
    bool strip_after = end > i_ && s[end - 1] == '-';
    if (strip_before) strip_trailing_text();
    i_ = end + 2;
    if (strip_after) {
      while (i_ < s.size() && utf8::is_space(s[i_])) ++i_;
    }
    after_comment_ = true;
  }

  void string_literal(char quote) {
    const std::string& s = m_.text;
    size_t start = i_++;
    std::string value;
    while (true) {
      if (i_ >= s.size()) error(start, "unterminated string literal");
      char c = s[i_];
      if (c == quote) { ++i_; break; }
      if (c != '\\') { value += c; ++i_; continue; }
      if (i_ + 1 >= s.size()) error(start, "unterminated string literal");
      char e = s[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        case 'x':
        case 'u': {
          size_t len = e == 'x' ? 2 : 4;
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            char h = i_ + k < s.size() ? s[i_ + k] : '\0';
            int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) error(i_ - 2, std::string("invalid escape sequence \\") + e);
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          i_ += len;
          utf8::append_code_point(value, cp);
          break;
        }
        default:
          // Python keeps unknown escapes as written (e.g. "\d" in a regex-like string).
          value += '\\';
          value += e;
      }
    }
    push(TokenKind::String, std::move(value), start);
  }

  void number() {
    const std::string& s = m_.text;
    size_t start = i_;
    while (i_ < s.size() && is_digit(s[i_])) ++i_;
    bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::Operator && tokens_.back().value == ".";
    if (!after_dot && i_ + 1 < s.size() && s[i_] == '.' && is_digit(s[i_ + 1])) {
      ++i_;
      while (i_ < s.size() && is_digit(s[i_])) ++i_;
      push(TokenKind::Float, s.substr(start, i_ - start), start);
      return;
    }
    push(TokenKind::Integer, s.substr(start, i_ - start), start);
  }

  std::string_view original_;
  MappedText m_;
  std::vector<uint32_t> line_starts_;
  std::vector<Token> tokens_;
  size_t i_ = 0;
  int curly_depth_ = 0;
  bool after_comment_ = false;
};

}  // namespace

std::string describe(const SourcePos& pos) { return std::to_string(pos.line) + ":" + std::to_string(pos.column); }

std::vector<Token> tokenize(std::string_view source) {
  if (source.size() > (1u << 30)) throw Error("template: source larger than 1 GiB");
  MappedText text = drop_generation_tags(trim_blocks(lstrip_blocks(drop_final_newline(source))));
  return Lexer(source, std::move(text)).run();
}

}  // namespace hearth::jinja
