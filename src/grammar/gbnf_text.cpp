#include "grammar/gbnf_text.h"

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth {

std::string gbnf_class_char(uint32_t cp) {
  if (cp == '\\' || cp == ']' || cp == '-' || cp == '^' || cp == '"' || cp < 0x20 || cp == 0x7F)
    return cp <= 0xFF ? fmt::format("\\x{:02X}", cp) : fmt::format("\\u{:04X}", cp);
  std::string out;
  append_utf8(out, cp);
  return out;
}

std::string gbnf_literal_chars(const std::vector<uint32_t>& cps) {
  std::string out = "\"";
  for (uint32_t cp : cps) {
    if (cp == '"' || cp == '\\')
      out += std::string("\\") + char(cp);
    else if (cp < 0x20 || cp == 0x7F)
      out += fmt::format("\\x{:02X}", cp);
    else
      append_utf8(out, cp);
  }
  return out + "\"";
}

std::string gbnf_literal(std::string_view utf8) { return gbnf_literal_chars(decode_utf8(utf8)); }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const uint8_t b = uint8_t(s[i]);
    const int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + size_t(len) > s.size()) throw Error("invalid UTF-8 in a JSON schema string");
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (int k = 1; k < len; k++) {
      const uint8_t c = uint8_t(s[i + size_t(k)]);
      if ((c & 0xC0) != 0x80) throw Error("invalid UTF-8 in a JSON schema string");
      cp = (cp << 6) | (c & 0x3Fu);
    }
    out.push_back(cp);
    i += size_t(len);
  }
  return out;
}

}  // namespace hearth
