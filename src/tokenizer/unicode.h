#pragma once
// UTF-8 and Unicode property helpers for the tokenizers (tables in unicode_tables.cpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::unicode {

enum Flag : uint16_t {
  kNumber = 0x02,       // \p{N}
  kLetter = 0x04,       // \p{L}
  kSeparator = 0x08,    // \p{Z}
  kMark = 0x10,         // \p{M}
  kPunctuation = 0x20,  // \p{P}
  kSymbol = 0x40,       // \p{S}
  kControl = 0x80,      // \p{C}, unassigned included
  kWhitespace = 0x100,  // White_Space
};

uint16_t flags(uint32_t cpt);   // 0 for values past U+10FFFF
inline bool is_letter(uint32_t c) { return flags(c) & kLetter; }
inline bool is_number(uint32_t c) { return flags(c) & kNumber; }
inline bool is_whitespace(uint32_t c) { return flags(c) & kWhitespace; }
uint32_t to_lower(uint32_t cpt);
uint32_t nfd_first(uint32_t cpt);   // first code point of the NFD decomposition

// Decodes like llama.cpp: an invalid or truncated sequence yields U+FFFD and skips one byte.
std::vector<uint32_t> decode_utf8(std::string_view s);
// Code points with their byte offsets (offsets.size() == cpts.size() + 1).
void decode_utf8(std::string_view s, std::vector<uint32_t>& cpts, std::vector<size_t>& offsets);
void append_utf8(std::string& out, uint32_t cpt);
size_t utf8_len(uint8_t lead);   // 1..4 from the lead byte, as llama.cpp counts it

// GPT-2 byte-level mapping: each byte to a printable code point and back.
const std::string& byte_to_utf8(uint8_t b);
int utf8_to_byte(uint32_t cpt);   // -1 when cpt is not a mapped byte
std::string byte_encode(std::string_view bytes);

bool in_deepseek_latin(uint32_t c);
bool in_deepseek_punct(uint32_t c);
bool in_deepseek_cjk(uint32_t c);
bool in_deepseek3_cjk(uint32_t c);

}  // namespace hearth::unicode
