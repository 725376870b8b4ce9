#pragma once
// Byte-at-a-time UTF-8 decoding whose state fits in a few bytes, so a token may end in the middle of a
// character and the next token finish it.
#include <algorithm>
#include <cstdint>

namespace hearth {

struct Utf8Decoder {
  enum class Result : uint8_t { Complete, Partial, Invalid };
  uint32_t value = 0;      // bits gathered so far
  uint8_t remaining = 0;   // continuation bytes still needed
  uint8_t length = 0;      // full length of the character being decoded

  Result push(uint8_t b) {
    if (remaining == 0) {
      if (b < 0x80) {
        value = b;
        length = 1;
        return Result::Complete;
      }
      if (b >= 0xC2 && b <= 0xDF) { value = b & 0x1Fu; remaining = 1; length = 2; return Result::Partial; }
      if (b >= 0xE0 && b <= 0xEF) { value = b & 0x0Fu; remaining = 2; length = 3; return Result::Partial; }
      if (b >= 0xF0 && b <= 0xF4) { value = b & 0x07u; remaining = 3; length = 4; return Result::Partial; }
      return Result::Invalid;
    }
    if ((b & 0xC0) != 0x80) return Result::Invalid;
    value = (value << 6) | (b & 0x3Fu);
    if (--remaining > 0) {
      // Reject overlong and surrogate prefixes as soon as the second byte shows them.
      if (remaining + 2 == length && !prefix_possible()) return Result::Invalid;
      return Result::Partial;
    }
    if (length == 3 && (value < 0x800 || (value >= 0xD800 && value <= 0xDFFF))) return Result::Invalid;
    if (length == 4 && (value < 0x10000 || value > 0x10FFFF)) return Result::Invalid;
    return Result::Complete;
  }

  // The code points a partial character can still become: [lo, hi], within what its length can encode
  // (a lead byte alone says little: E0 starts U+0800..U+0FFF, not U+0000..U+0FFF).
  uint32_t range_lo() const { return std::max(value << (6 * remaining), min_for_length()); }
  uint32_t range_hi() const {
    return std::min((value << (6 * remaining)) | ((1u << (6 * remaining)) - 1), max_for_length());
  }

 private:
  uint32_t min_for_length() const { return length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000; }
  uint32_t max_for_length() const { return length == 2 ? 0x7FF : length == 3 ? 0xFFFF : 0x10FFFF; }
  bool prefix_possible() const {
    const uint32_t lo = range_lo(), hi = range_hi();
    if (lo > hi) return false;   // overlong or beyond U+10FFFF
    return !(length == 3 && lo >= 0xD800 && hi <= 0xDFFF);
  }
};

}  // namespace hearth
