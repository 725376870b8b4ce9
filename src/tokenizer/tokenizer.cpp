// Tokenizer::from_gguf and the three tokenizers, following llama.cpp's llama-vocab.cpp behaviour.
#include <algorithm>
#include <bitset>
#include <memory>
#include <queue>

#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace hearth {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";   // ▁

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  size_t pos = 0;
  for (size_t m; (m = s.find(from, pos)) != std::string::npos; pos = m + from.size()) {
    out.append(s, pos, m - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

struct Fragment {
  bool is_token;
  TokenId id;
  size_t off, len;
};

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;
};

// SentencePiece-style merging: repeatedly join the adjacent pair whose concatenation is the
// highest-scoring vocabulary entry (ties: leftmost); leftovers fall back to byte tokens.
void spm_tokenize(const Vocab& v, const std::string& text, std::vector<TokenId>& out) {
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(unicode::utf8_len(uint8_t(text[off])), text.size() - off);
    sym.push_back({int(sym.size()) - 1, off + len == text.size() ? -1 : int(sym.size()) + 1, text.data() + off, len});
    off += len;
  }
  if (sym.empty()) return;
  struct Bigram {
    int left, right;
    float score;
    size_t size;
  };
  auto cmp = [](const Bigram& l, const Bigram& r) { return l.score < r.score || (l.score == r.score && l.left > r.left); };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(cmp)> queue(cmp);
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const std::string_view s(sym[l].text, sym[l].n + sym[r].n);
    const TokenId id = v.find(s);
    if (id < 0) return;
    queue.push({l, r, v.tokens[id].score, s.size()});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(int(i) - 1, int(i));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int i = 0; i != -1; i = sym[i].next) {
    const std::string_view s(sym[i].text, sym[i].n);
    const TokenId id = v.find(s);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : s) {
      const TokenId b = v.byte_token(uint8_t(c));
      if (b >= 0) out.push_back(b);
    }
  }
}

// Byte-level BPE over the pre-tokenizer's words: apply the lowest-ranked merge first (ties: leftmost).
void bpe_tokenize(const Vocab& v, std::string_view text, std::vector<TokenId>& out) {
  const std::vector<std::string> words = pre_tokenize(text, v.pre_info.type);
  std::vector<Symbol> sym;
  struct Bigram {
    int left, right, rank;
    size_t size;
  };
  auto cmp = [](const Bigram& l, const Bigram& r) { return l.rank > r.rank || (l.rank == r.rank && l.left > r.left); };
  std::vector<Bigram> heap;
  for (const std::string& word : words) {
    sym.clear();
    heap.clear();
    if (v.pre_info.ignore_merges) {
      const TokenId id = v.find(word);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    for (size_t off = 0; off < word.size();) {
      const size_t len = std::min(unicode::utf8_len(uint8_t(word[off])), word.size() - off);
      sym.push_back({int(sym.size()) - 1, off + len == word.size() ? -1 : int(sym.size()) + 1, word.data() + off, len});
      off += len;
    }
    auto add = [&](int l, int r) {
      if (l < 0 || r < 0) return;
      const int rank = v.rank({sym[l].text, sym[l].n}, {sym[r].text, sym[r].n});
      if (rank < 0) return;
      heap.push_back({l, r, rank, sym[l].n + sym[r].n});
      std::push_heap(heap.begin(), heap.end(), cmp);
    };
    for (size_t i = 1; i < sym.size(); ++i) add(int(i) - 1, int(i));
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      const Bigram b = heap.back();
      heap.pop_back();
      Symbol& l = sym[b.left];
      Symbol& r = sym[b.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;   // outdated pair
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next].prev = b.left;
      add(l.prev, b.left);
      add(b.left, l.next);
    }
    for (int i = 0; i != -1 && !sym.empty(); i = sym[i].next) {
      const std::string_view s(sym[i].text, sym[i].n);
      const TokenId id = v.find(s);
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      // llama.cpp looks each byte of the encoded text up on its own; what is not a token is dropped
      for (char c : s) {
        const TokenId b = v.find(std::string_view(&c, 1));
        if (b >= 0) out.push_back(b);
      }
    }
  }
}

bool is_chinese_char(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BERT WordPiece as llama.cpp does it: NFD (first code point), drop marks, lowercase, split on whitespace
// and punctuation, then greedy longest match with ▁ marking the start of a word.
void wpm_tokenize(const Vocab& v, std::string_view text, std::vector<TokenId>& out) {
  std::vector<std::string> words(1);
  for (uint32_t c : unicode::decode_utf8(text)) {
    if (v.strip_accents) c = unicode::nfd_first(c);
    const uint16_t f = unicode::flags(c);
    if (f & unicode::kWhitespace) {
      if (!words.back().empty()) words.emplace_back();
      continue;
    }
    if (c == 0 || c == 0xFFFD || (f & unicode::kControl)) continue;
    if (v.strip_accents && (f & unicode::kMark)) continue;
    std::string s;
    unicode::append_utf8(s, v.lowercase ? unicode::to_lower(c) : c);
    if ((f & unicode::kPunctuation) || (c < 0x7F && (f & unicode::kSymbol)) || is_chinese_char(c)) {
      if (!words.back().empty()) words.emplace_back();
      words.back() = s;
      words.emplace_back();
    } else {
      words.back() += s;
    }
  }
  for (const std::string& word : words) {
    if (word.empty()) continue;
    const std::string w = std::string(kSpace) + word;
    const size_t n = w.size();
    const size_t before = out.size();
    for (size_t i = 0; i < n; ++i) {
      bool match = false;
      for (size_t j = std::min(n, i + v.max_token_len + 1); j > i; --j) {
        const TokenId id = v.find(std::string_view(w).substr(i, j - i));
        if (id >= 0) {
          out.push_back(id);
          match = true;
          i = j - 1;
          break;
        }
      }
      if (!match) {
        out.resize(before);
        break;
      }
    }
    if (out.size() == before && v.unk >= 0) out.push_back(v.unk);
  }
}

class VocabTokenizer final : public Tokenizer {
 public:
  explicit VocabTokenizer(Vocab v) : v_(std::move(v)) {}

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override {
    std::vector<TokenId> out;
    const std::vector<Fragment> frags = partition(text, parse_special);
    switch (v_.kind) {
      case VocabKind::Spm: {
        bool prev_special = true;   // the first fragment gets the space prefix too
        if (add_special && v_.add_bos) out.push_back(v_.bos);
        for (const Fragment& f : frags) {
          if (f.is_token) {
            out.push_back(f.id);
            prev_special = true;
            continue;
          }
          std::string s = (v_.add_space_prefix && prev_special) ? " " : "";
          s.append(text.substr(f.off, f.len));
          replace_all(s, " ", kSpace);
          spm_tokenize(v_, s, out);
          prev_special = false;
        }
        if (add_special && v_.add_eos) out.push_back(v_.eos);
        break;
      }
      case VocabKind::Bpe: {
        if (add_special && v_.add_bos) out.push_back(v_.bos);
        for (const Fragment& f : frags) {
          if (f.is_token) out.push_back(f.id);
          else bpe_tokenize(v_, text.substr(f.off, f.len), out);
        }
        if (add_special && v_.add_eos) out.push_back(v_.eos);
        break;
      }
      case VocabKind::Wpm: {
        if (add_special && v_.bos >= 0) out.push_back(v_.bos);
        for (const Fragment& f : frags) {
          if (f.is_token) out.push_back(f.id);
          else wpm_tokenize(v_, text.substr(f.off, f.len), out);
        }
        if (add_special && v_.sep >= 0) out.push_back(v_.sep);
        break;
      }
    }
    return out;
  }

  std::string token_to_piece(TokenId id, bool render_special) const override {
    const auto& t = token(id);
    if (!render_special && (t.attr & (kAttrUnknown | kAttrControl))) return {};
    if (t.attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return t.text;
    if (t.attr & kAttrNormal) {
      std::string s = t.text;
      if (v_.kind == VocabKind::Bpe) return decode_byte_level(s);
      replace_all(s, kSpace, " ");
      return s;
    }
    if ((t.attr & kAttrByte) && v_.kind != VocabKind::Wpm && t.text.size() >= 5) {
      return std::string(1, char(std::stoi(t.text.substr(3, 2), nullptr, 16)));
    }
    return {};
  }

  std::string decode(const std::vector<TokenId>& ids, bool render_special) const override {
    std::string text;
    bool remove_space = v_.add_space_prefix;
    for (TokenId id : ids) {
      std::string piece = token_to_piece(id, render_special);
      if (remove_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
      remove_space = false;
      text += piece;
    }
    if (v_.clean_spaces) clean_spaces(text);
    return text;
  }

  size_t vocab_size() const override { return v_.tokens.size(); }
  std::string_view token_text(TokenId id) const override { return token(id).text; }
  TokenAttr token_attr(TokenId id) const override {
    const uint32_t a = token(id).attr;
    if (a & kAttrControl) return TokenAttr::Control;
    if (a & kAttrUserDefined) return TokenAttr::UserDefined;
    if (a & kAttrUnknown) return TokenAttr::Unknown;
    if (a & kAttrByte) return TokenAttr::Byte;
    if (a & kAttrUnused) return TokenAttr::Unused;
    return TokenAttr::Normal;
  }
  std::optional<TokenId> bos() const override { return opt(v_.bos); }
  std::optional<TokenId> eos() const override { return opt(v_.eos); }
  bool add_bos() const override { return v_.add_bos; }
  bool add_eos() const override { return v_.add_eos; }
  bool is_end_of_generation(TokenId id) const override {
    return std::find(v_.eog.begin(), v_.eog.end(), id) != v_.eog.end();
  }
  std::string_view model_name() const override { return v_.model; }
  bool add_space_prefix() const override { return v_.add_space_prefix; }
  bool is_lossless() const override {
    if (v_.kind == VocabKind::Bpe) return true;
    if (v_.kind != VocabKind::Spm) return false;
    for (int b = 0; b < 256; ++b) {
      const TokenId id = v_.byte_token(uint8_t(b));
      if (id < 0 || !(v_.tokens[id].attr & kAttrByte)) return false;
    }
    return true;
  }

 private:
  static std::optional<TokenId> opt(TokenId id) { return id >= 0 ? std::optional<TokenId>(id) : std::nullopt; }

  const Vocab::Token& token(TokenId id) const {
    if (id < 0 || size_t(id) >= v_.tokens.size()) {
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(v_.tokens.size()) + " tokens");
    }
    return v_.tokens[id];
  }

  static std::string decode_byte_level(const std::string& text) {
    std::string out;
    for (uint32_t c : unicode::decode_utf8(text)) {
      const int b = unicode::utf8_to_byte(c);
      if (b >= 0) {
        out += char(b);
        continue;
      }
      std::string u;
      unicode::append_utf8(u, c);
      out += "[UNK_BYTE_0x";
      static const char* hex = "0123456789abcdef";
      for (char ch : u) {
        out += hex[uint8_t(ch) >> 4];
        out += hex[uint8_t(ch) & 15];
      }
      out += text + "]";
    }
    return out;
  }

  // clean_up_tokenization_spaces, three passes as llama.cpp runs them.
  static void clean_spaces(std::string& t) {
    std::string a;
    for (size_t i = 0; i < t.size(); ++i) {
      const char x = t[i];
      if (i > 0 && t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') && !a.empty()) a.pop_back();
      a += x;
    }
    std::string b;
    for (size_t i = 0; i < a.size(); ++i) {
      const char x = a[i];
      if (i > 0 && x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
        b.pop_back();
        b += x;
        a[i + 1] = '\0';
        ++i;   // the space after is dropped
        continue;
      }
      b += x;
    }
    std::string c;
    for (size_t i = 0; i < b.size(); ++i) {
      const char x = b[i];
      if (i > 0 && b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
        const char x1 = b[i + 1];
        const char x2 = i + 2 < b.size() ? b[i + 2] : '\0';
        if (x1 == 's' || x1 == 'm' || (i + 2 < b.size() && ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')))) {
          c.pop_back();
        }
      }
      c += x;
    }
    t.swap(c);
  }

  // Splits text on special-token texts, longest first, as llama.cpp's tokenizer_st_partition does.
  // Control and unknown tokens only count when parse_special; user-defined ones always do.
  std::vector<Fragment> partition(std::string_view text, bool parse_special) const {
    std::vector<Fragment> frags;
    if (text.empty()) return frags;
    frags.push_back({false, -1, 0, text.size()});
    std::bitset<65536> pairs;   // byte pairs present: skips tokens that cannot occur
    std::bitset<256> singles;
    for (size_t i = 0; i < text.size(); ++i) {
      singles.set(uint8_t(text[i]));
      if (i + 1 < text.size()) pairs.set(size_t(uint8_t(text[i])) << 8 | uint8_t(text[i + 1]));
    }
    std::vector<Fragment> next;
    for (TokenId id : v_.special_by_length) {
      const auto& t = v_.tokens[id];
      if (!parse_special && (t.attr & (kAttrControl | kAttrUnknown))) continue;
      const std::string& s = t.text;
      if (s.size() > text.size()) continue;
      if (s.size() == 1 ? !singles.test(uint8_t(s[0])) : !pairs.test(size_t(uint8_t(s[0])) << 8 | uint8_t(s[1]))) continue;
      next.clear();
      bool changed = false;
      for (const Fragment& f : frags) {
        if (f.is_token) {
          next.push_back(f);
          continue;
        }
        size_t cur = f.off;
        const size_t end = f.off + f.len;
        const std::string_view window = text.substr(0, end);
        for (size_t m; (m = window.find(s, cur)) != std::string_view::npos;) {
          if (m > cur) next.push_back({false, -1, cur, m - cur});
          next.push_back({true, id, 0, 0});
          cur = m + s.size();
          changed = true;
        }
        if (cur < end) next.push_back({false, -1, cur, end - cur});
      }
      if (changed) frags.swap(next);
    }
    return frags;
  }

  Vocab v_;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  return std::make_unique<VocabTokenizer>(load_vocab(file));
}

}  // namespace hearth
