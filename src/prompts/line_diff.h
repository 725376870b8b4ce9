#pragma once
// Line diff (Myers' O(ND) algorithm) and unified-diff output, for comparing prompt versions.
#include <string>
#include <string_view>
#include <vector>

namespace hearth::prompts {

struct DiffLine {
  enum class Kind { Equal, Delete, Insert };
  Kind kind;
  std::string_view text;  // the line including its '\n' (the last line of a file may lack it)
};

// Splits into lines that keep their terminating '\n'.
std::vector<std::string_view> split_lines(std::string_view text);

// A shortest edit script turning `a` into `b`. Beyond kMaxEditDistance edits it falls back to deleting
// every changed line and inserting the new ones (still correct, not minimal), bounding memory.
constexpr int kMaxEditDistance = 2000;
std::vector<DiffLine> diff_lines(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b);

// `diff -u` style text with `context` lines around each change; empty when the texts are equal.
std::string unified_diff(std::string_view a, std::string_view b, std::string_view a_label, std::string_view b_label,
                         int context = 3);

}  // namespace hearth::prompts
