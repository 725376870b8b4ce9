#pragma once
// Minimal UTF-8 helpers: Jinja indexes, slices and measures strings by code point, not by byte.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::jinja::utf8 {

// Splits into code points, each kept as its UTF-8 bytes; invalid bytes become one-byte pieces.
std::vector<std::string_view> split_code_points(std::string_view s);
size_t length(std::string_view s);
void append_code_point(std::string& out, uint32_t cp);

// Case mapping for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (what chat content needs);
// other scripts pass through unchanged.
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);

// ASCII whitespace (Python's string.whitespace): what the lexer trims and str.split() splits on.
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace hearth::jinja::utf8
