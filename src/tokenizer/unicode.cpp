#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode_tables.h"

namespace hearth::unicode {
namespace ut = unicode_tables;

namespace {

uint32_t map_pair(const ut::CodepointPair* table, size_t n, uint32_t cpt) {
  const auto* end = table + n;
  const auto* it = std::lower_bound(table, end, cpt, [](const ut::CodepointPair& p, uint32_t c) { return p.from < c; });
  return (it != end && it->from == cpt) ? it->to : cpt;
}

bool in_ranges(const ut::CodepointRange* table, size_t n, uint32_t cpt) {
  const auto* end = table + n;
  const auto* it = std::upper_bound(table, end, cpt, [](uint32_t c, const ut::CodepointRange& r) { return c < r.lo; });
  if (it == table) return false;
  --it;
  return cpt >= it->lo && cpt <= it->hi;
}

struct ByteMap {
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 324> from_cpt;   // GPT-2 maps bytes into U+0000..U+0143
  ByteMap() {
    from_cpt.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const uint32_t cpt = printable ? uint32_t(b) : uint32_t(256 + n++);
      append_utf8(to_utf8[b], cpt);
      from_cpt[cpt] = int16_t(b);
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

uint16_t flags(uint32_t cpt) {
  if (cpt >= 0x110000) return 0;
  const auto* end = ut::kFlagRuns + ut::kFlagRunCount;
  const auto* it = std::upper_bound(ut::kFlagRuns, end, cpt, [](uint32_t c, const ut::FlagRun& r) { return c < r.first; });
  return (it - 1)->flags;
}

uint32_t to_lower(uint32_t cpt) { return map_pair(ut::kLowercase, ut::kLowercaseCount, cpt); }
uint32_t nfd_first(uint32_t cpt) { return map_pair(ut::kNfd, ut::kNfdCount, cpt); }

size_t utf8_len(uint8_t lead) {
  static const size_t lookup[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[lead >> 4];
}

void decode_utf8(std::string_view s, std::vector<uint32_t>& cpts, std::vector<size_t>& offsets) {
  cpts.clear();
  offsets.clear();
  cpts.reserve(s.size());
  offsets.reserve(s.size() + 1);
  size_t i = 0;
  const size_t n = s.size();
  auto cont = [&](size_t k) { return k < n && (uint8_t(s[k]) & 0xC0) == 0x80; };
  while (i < n) {
    offsets.push_back(i);
    const uint8_t c = uint8_t(s[i]);
    if (!(c & 0x80)) {
      cpts.push_back(c);
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && cont(i + 1)) {
      cpts.push_back(((c & 0x1Fu) << 6) | (uint8_t(s[i + 1]) & 0x3Fu));
      i += 2;
    } else if ((c & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      cpts.push_back(((c & 0x0Fu) << 12) | ((uint8_t(s[i + 1]) & 0x3Fu) << 6) | (uint8_t(s[i + 2]) & 0x3Fu));
      i += 3;
    } else if ((c & 0xF8) == 0xF0 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      cpts.push_back(((c & 0x07u) << 18) | ((uint8_t(s[i + 1]) & 0x3Fu) << 12) | ((uint8_t(s[i + 2]) & 0x3Fu) << 6) |
                     (uint8_t(s[i + 3]) & 0x3Fu));
      i += 4;
    } else {
      cpts.push_back(0xFFFD);
      i += 1;
    }
  }
  offsets.push_back(n);
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> cpts;
  std::vector<size_t> offsets;
  decode_utf8(s, cpts, offsets);
  return cpts;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xC0 | (c >> 6));
    out += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += char(0xE0 | (c >> 12));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  } else {
    out += char(0xF0 | ((c >> 18) & 0x07));
    out += char(0x80 | ((c >> 12) & 0x3F));
    out += char(0x80 | ((c >> 6) & 0x3F));
    out += char(0x80 | (c & 0x3F));
  }
}

const std::string& byte_to_utf8(uint8_t b) { return byte_map().to_utf8[b]; }

int utf8_to_byte(uint32_t cpt) { return cpt < byte_map().from_cpt.size() ? byte_map().from_cpt[cpt] : -1; }

std::string byte_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += byte_to_utf8(uint8_t(c));
  return out;
}

bool in_deepseek_latin(uint32_t c) { return in_ranges(ut::kDeepseekLatin, ut::kDeepseekLatinCount, c); }
bool in_deepseek_punct(uint32_t c) { return in_ranges(ut::kDeepseekPunct, ut::kDeepseekPunctCount, c); }
bool in_deepseek_cjk(uint32_t c) { return in_ranges(ut::kDeepseekCjk, ut::kDeepseekCjkCount, c); }
bool in_deepseek3_cjk(uint32_t c) { return in_ranges(ut::kDeepseek3Cjk, ut::kDeepseek3CjkCount, c); }

}  // namespace hearth::unicode
