#pragma once
// prompt:// references: prompt://name@stage, prompt://name@3 (a version) or prompt://name (= @prod).
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::prompts {

struct PromptRef {
  std::string name;
  std::string stage;    // or
  int64_t version = 0;  // when > 0
};

constexpr std::string_view kPromptScheme = "prompt://";

inline bool is_prompt_ref(std::string_view text) { return text.substr(0, kPromptScheme.size()) == kPromptScheme; }

// Throws hearth::Error naming the reference and what is wrong with it.
PromptRef parse_prompt_ref(std::string_view ref);

}  // namespace hearth::prompts
