#pragma once
#include <string>
#include <string_view>

namespace hearth {

// A GBNF expression for the JSON-encoded content (between the quotes) of strings that match a JSON-schema
// `pattern` in full. Full matches are a subset of what an unanchored pattern accepts, so every output
// validates. Supports literals, escapes (\d \w \s \D \W \S \t \n \xHH \uHHHH ...), classes, `.`, groups,
// alternation, * + ? {m} {m,} {m,n} (lazy forms too) and ^ $ at the ends; anything else is a hearth::Error.
std::string schema_pattern_to_gbnf(std::string_view pattern);

}  // namespace hearth
