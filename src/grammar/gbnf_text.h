#pragma once
// Writing GBNF text: literals and class members with the escapes the GBNF parser reads back, and the
// UTF-8 conversions that needs.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

std::string gbnf_literal(std::string_view utf8);                  // "..." matching exactly these characters
std::string gbnf_literal_chars(const std::vector<uint32_t>& cps);
std::string gbnf_class_char(uint32_t cp);                          // one member inside [...]
void append_utf8(std::string& out, uint32_t cp);
std::vector<uint32_t> decode_utf8(std::string_view s);             // throws hearth::Error on invalid UTF-8

}  // namespace hearth
