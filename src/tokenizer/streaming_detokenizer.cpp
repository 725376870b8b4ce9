#include "hearth/tokenizer.h"

namespace hearth {
namespace {

// Length of the UTF-8 sequence at s[i]: >0 complete and valid, 0 a valid but unfinished prefix that
// reaches the end of s, -1 invalid (one byte to replace).
int sequence_at(const std::string& s, size_t i) {
  const uint8_t c = uint8_t(s[i]);
  if (c < 0x80) return 1;
  int len;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) len = 2, min = 0x80;
  else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800;
  else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000;
  else return -1;
  uint32_t cpt = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const uint8_t cc = uint8_t(s[i + k]);
    if ((cc & 0xC0) != 0x80) return -1;
    cpt = (cpt << 6) | (cc & 0x3F);
  }
  if (cpt < min || cpt > 0x10FFFF || (cpt >= 0xD800 && cpt <= 0xDFFF)) return -1;
  return len;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tok, bool render_special)
    : tok_(tok), render_special_(render_special) {}

std::string StreamingDetokenizer::push(TokenId id) {
  std::string piece = tok_.token_to_piece(id, render_special_);
  if (first_) {
    // decode() strips the space SPM put in front of the first token, so the stream does too
    if (tok_.add_space_prefix() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    first_ = false;
  }
  pending_ += piece;
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const int n = sequence_at(pending_, i);
    if (n == 0) break;   // wait for the rest of this character
    if (n < 0) {
      out += kReplacement;
      i += 1;
    } else {
      out.append(pending_, i, size_t(n));
      i += size_t(n);
    }
  }
  pending_.erase(0, i);
  return out;
}

std::string StreamingDetokenizer::flush() {
  // only an unfinished character can be pending: it becomes one replacement character
  std::string out = pending_.empty() ? "" : std::string(kReplacement);
  pending_.clear();
  return out;
}

}  // namespace hearth
