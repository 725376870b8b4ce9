#include "tokenizer/pretokenizer.h"

#include "hearth/error.h"
#include "tokenizer/unicode.h"

namespace hearth {
namespace {

using namespace unicode;
constexpr uint32_t kOut = 0xFFFFFFFF;

// One fragment of the text: code points and their flags, positions past `end` read as "nothing".
struct Span {
  const uint32_t* cpt;
  const uint16_t* flag;
  size_t end;
  uint32_t at(size_t i) const { return i < end ? cpt[i] : kOut; }
  uint16_t fl(size_t i) const { return i < end ? flag[i] : 0; }
  bool ws(size_t i) const { return fl(i) & kWhitespace; }
};

// A matcher returns the end of the match starting at pos, or pos when nothing matches there.
using Matcher = size_t (*)(const Span&, size_t);

bool is_nl(uint32_t c) { return c == '\r' || c == '\n'; }
bool ascii_alpha(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// llama.cpp runs non-custom regexes on text where every non-ASCII code point is collapsed to one byte
// per category, whitespace first: a whitespace code point never counts as punctuation or symbol.
bool ucat_p(uint32_t, uint16_t f) { return !(f & kWhitespace) && (f & kPunctuation); }
bool ucat_s(uint32_t, uint16_t f) { return !(f & kWhitespace) && (f & kSymbol); }
bool not_ws_l_n(uint16_t f) { return f != 0 && !(f & (kWhitespace | kLetter | kNumber)); }

// \s*[\r\n]+ | \s+(?!\S) | \s+   (the tail shared by the llama3-family regexes)
size_t whitespace_tail(const Span& s, size_t pos, bool with_newline_rule, bool with_plain_run) {
  size_t n = 0;
  size_t last_nl = 0;
  while (s.ws(pos + n)) {
    if (is_nl(s.at(pos + n))) last_nl = pos + n + 1;
    ++n;
  }
  if (with_newline_rule && last_nl > 0) return last_nl;
  if (n > 1 && s.at(pos + n) != kOut) return pos + n - 1;
  if (n > 0) {
    if (with_plain_run || s.at(pos + n) == kOut) return pos + n;
  }
  return pos;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
size_t match_gpt2(const Span& s, size_t pos) {
  const uint32_t c = s.at(pos);
  if (c == '\'' && pos + 1 < s.end) {
    const uint32_t n1 = s.at(pos + 1);
    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return pos + 2;
    const uint32_t n2 = s.at(pos + 2);
    if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) return pos + 3;
  }
  const size_t start = pos + (c == ' ' ? 1 : 0);
  const uint16_t f2 = s.fl(start);
  size_t p = start;
  if (f2 & kLetter) {
    while (s.fl(p) & kLetter) ++p;
    return p;
  }
  if (f2 & kNumber) {
    while (s.fl(p) & kNumber) ++p;
    return p;
  }
  if (not_ws_l_n(f2)) {
    while (not_ws_l_n(s.fl(p))) ++p;
    return p;
  }
  // A lone whitespace before a non-space is left unmatched by the regex; it ends up a word of its own.
  size_t e = whitespace_tail(s, pos, false, true);
  return e > pos ? e : pos + 1;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
template <int kMaxDigits>
size_t match_llama3(const Span& s, size_t pos) {
  const uint32_t c = s.at(pos);
  const uint16_t f = s.fl(pos);
  if (c == '\'' && pos + 1 < s.end) {
    const uint32_t n1 = to_lower(s.at(pos + 1));
    if (n1 == 's' || n1 == 't' || n1 == 'm' || n1 == 'd') return pos + 2;
    if (pos + 2 < s.end) {
      const uint32_t n2 = to_lower(s.at(pos + 2));
      if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l')) return pos + 3;
    }
  }
  if (!(is_nl(c) || (f & kNumber))) {
    if ((f & kLetter) || (s.fl(pos + 1) & kLetter)) {
      size_t p = pos + 1;
      while (s.fl(p) & kLetter) ++p;
      return p;
    }
  }
  if (f & kNumber) {
    size_t p = pos;
    while (p < pos + kMaxDigits && (s.fl(p) & kNumber)) ++p;
    return p;
  }
  const size_t start = pos + (c == ' ' ? 1 : 0);
  if (not_ws_l_n(s.fl(start))) {
    size_t p = start;
    while (not_ws_l_n(s.fl(p))) ++p;
    while (is_nl(s.at(p))) ++p;
    return p;
  }
  const size_t e = whitespace_tail(s, pos, true, true);
  return e > pos ? e : pos + 1;
}

// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
size_t match_deepseek3_main(const Span& s, size_t pos) {
  const uint32_t c = s.at(pos);
  const uint16_t f = s.fl(pos);
  if (c < 128 && c > 32 && c != 127 && !ascii_alpha(c) && !(c >= '0' && c <= '9') && ascii_alpha(s.at(pos + 1))) {
    size_t p = pos + 1;
    while (ascii_alpha(s.at(p))) ++p;
    return p;
  }
  auto lm = [&](size_t i) { return (s.fl(i) & (kLetter | kMark)) != 0; };
  auto ps = [&](size_t i) { return i < s.end && (ucat_p(s.at(i), s.fl(i)) || ucat_s(s.at(i), s.fl(i))); };
  const bool opt = !is_nl(c) && !(f & kLetter) && !ucat_p(c, f) && !ucat_s(c, f);
  if ((opt && lm(pos + 1)) || lm(pos)) {
    size_t p = pos + 1;
    while (lm(p)) ++p;
    return p;
  }
  const size_t start = pos + ((c == ' ' && ps(pos + 1)) ? 1 : 0);
  if (ps(start)) {
    size_t p = start;
    while (ps(p)) ++p;
    while (is_nl(s.at(p))) ++p;
    return p;
  }
  return whitespace_tail(s, pos, true, true);
}

size_t match_digits_1(const Span& s, size_t pos) { return (s.fl(pos) & kNumber) ? pos + 1 : pos; }
size_t match_digits_3(const Span& s, size_t pos) {
  size_t p = pos;
  while (p < pos + 3 && (s.fl(p) & kNumber)) ++p;
  return p;
}
size_t match_digits_run(const Span& s, size_t pos) {
  size_t p = pos;
  while (s.fl(p) & kNumber) ++p;
  return p;
}
size_t match_ascii_digits_3(const Span& s, size_t pos) {
  for (size_t i = 0; i < 3; ++i) {
    const uint32_t c = s.at(pos + i);
    if (c < '0' || c > '9') return pos;
  }
  return pos + 3;
}
// [\p{P}\$\+<=>\^~\|]+
size_t match_default_punct(const Span& s, size_t pos) {
  size_t p = pos;
  while (p < s.end) {
    const uint32_t c = s.at(p);
    if (!(ucat_p(c, s.fl(p)) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' ||
          c == '|'))
      break;
    ++p;
  }
  return p;
}

// Classes spelled as literals in llama.cpp's deepseek regexes run through std::wregex, which sees every
// non-ASCII whitespace as '\v': such code points never match a literal class.
bool literal_ok(const Span& s, size_t i) { return i < s.end && !(s.at(i) > 0x7F && s.ws(i)); }
template <bool (*InClass)(uint32_t)>
size_t match_ws_opt_class_run(const Span& s, size_t pos) {   // \s?[class]+
  auto in = [&](size_t i) { return literal_ok(s, i) && InClass(s.at(i)); };
  const size_t start = pos + (s.ws(pos) ? 1 : 0);
  size_t p = start;
  while (in(p)) ++p;
  return p > start ? p : pos;
}
template <bool (*InClass)(uint32_t)>
size_t match_class_run(const Span& s, size_t pos) {   // [class]+
  size_t p = pos;
  while (literal_ok(s, p) && InClass(s.at(p))) ++p;
  return p;
}
size_t match_newline(const Span& s, size_t pos) { return is_nl(s.at(pos)) ? pos + 1 : pos; }
size_t match_trailing_ws(const Span& s, size_t pos) {   // \s+$
  size_t p = pos;
  while (s.ws(p)) ++p;
  return (p > pos && p == s.end) ? p : pos;
}

void apply_stage(const std::vector<uint32_t>& cpts, const std::vector<uint16_t>& flags, std::vector<size_t>& lens,
                 Matcher m) {
  std::vector<size_t> out;
  out.reserve(lens.size() * 2);
  size_t start = 0;
  for (size_t len : lens) {
    const size_t end = start + len;
    const Span s{cpts.data(), flags.data(), end};
    size_t pos = start;
    size_t unmatched = start;
    while (pos < end) {
      const size_t e = m(s, pos);
      if (e > pos) {
        if (unmatched < pos) out.push_back(pos - unmatched);
        out.push_back(e - pos);
        pos = unmatched = e;
      } else {
        ++pos;
      }
    }
    if (unmatched < end) out.push_back(end - unmatched);
    start = end;
  }
  lens.swap(out);
}

std::vector<Matcher> stages(PreTokenizer type) {
  switch (type) {
    case PreTokenizer::Llama3: return {match_llama3<3>};
    case PreTokenizer::Qwen2: return {match_llama3<1>};
    case PreTokenizer::Gpt2: return {match_gpt2};
    case PreTokenizer::Smollm: return {match_digits_1, match_gpt2};
    case PreTokenizer::DeepseekLlm:
      return {match_newline,
              match_ws_opt_class_run<in_deepseek_latin>,
              match_ws_opt_class_run<in_deepseek_punct>,
              match_trailing_ws,
              match_class_run<in_deepseek_cjk>,
              match_digits_run};
    case PreTokenizer::Deepseek3: return {match_digits_3, match_class_run<in_deepseek3_cjk>, match_deepseek3_main};
    case PreTokenizer::Default:
    default: return {match_default_punct, match_gpt2, match_digits_run, match_ascii_digits_3};
  }
}

}  // namespace

PreTokenizerInfo pre_tokenizer_from_name(std::string_view n) {
  auto any = [&](std::initializer_list<std::string_view> names) {
    for (auto x : names)
      if (n == x) return true;
    return false;
  };
  PreTokenizerInfo info;
  if (n.empty() || n == "default") {
    info.type = PreTokenizer::Default;
  } else if (any({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"})) {
    info = {PreTokenizer::Llama3, true, true, true};
  } else if (any({"dbrx", "smaug-bpe"})) {
    info.type = PreTokenizer::Llama3;
  } else if (any({"qwen2", "deepseek-r1-qwen"})) {
    info = {PreTokenizer::Qwen2, false, false, false};
  } else if (any({"megrez", "stablelm2"})) {
    info.type = PreTokenizer::Qwen2;
  } else if (any({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "mpt", "olmo",
                  "jais", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe"})) {
    info.type = PreTokenizer::Gpt2;
  } else if (any({"trillion"})) {
    info = {PreTokenizer::Gpt2, false, false, false};
  } else if (any({"starcoder", "refact", "codeshell", "exaone", "minerva-7b"})) {
    info.type = PreTokenizer::Smollm;
  } else if (any({"smollm", "command-r"})) {
    info = {PreTokenizer::Smollm, false, false, false};
  } else if (n == "deepseek-llm") {
    info = {PreTokenizer::DeepseekLlm, false, false, false};
  } else if (any({"deepseek-v3", "hunyuan-dense"})) {
    info = {PreTokenizer::Deepseek3, false, false, false};
  } else {
    throw Error("tokenizer.ggml.pre '" + std::string(n) + "' is not a pre-tokenizer hearth implements");
  }
  return info;
}

std::vector<std::string> pre_tokenize(std::string_view text, PreTokenizer type, bool byte_encode) {
  std::vector<uint32_t> cpts = decode_utf8(text);
  std::vector<uint16_t> flags(cpts.size());
  for (size_t i = 0; i < cpts.size(); ++i) flags[i] = unicode::flags(cpts[i]);
  std::vector<size_t> lens;
  if (!cpts.empty()) lens.push_back(cpts.size());
  for (Matcher m : stages(type)) apply_stage(cpts, flags, lens, m);

  std::vector<std::string> words;
  words.reserve(lens.size());
  size_t start = 0;
  std::string utf8;
  for (size_t len : lens) {
    utf8.clear();
    for (size_t i = start; i < start + len; ++i) append_utf8(utf8, cpts[i]);
    words.push_back(byte_encode ? unicode::byte_encode(utf8) : utf8);
    start += len;
  }
  return words;
}

}  // namespace hearth
