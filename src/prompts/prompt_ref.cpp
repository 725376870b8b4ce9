#include "prompts/prompt_ref.h"

#include <algorithm>
#include <cctype>

#include "hearth/error.h"
#include "prompts/prompt_content.h"

namespace hearth::prompts {

PromptRef parse_prompt_ref(std::string_view ref) {
  if (!is_prompt_ref(ref))
    throw Error("prompt reference \"" + std::string(ref) + "\" must look like prompt://name@stage or prompt://name@3");
  std::string_view rest = ref.substr(kPromptScheme.size());
  PromptRef out;
  size_t at = rest.rfind('@');
  out.name = std::string(rest.substr(0, at));
  std::string selector = at == std::string_view::npos ? "prod" : std::string(rest.substr(at + 1));
  if (!is_valid_prompt_name(out.name))
    throw Error("prompt reference \"" + std::string(ref) + "\": bad prompt name");
  bool digits = !selector.empty() && selector.size() <= 18 &&
                std::all_of(selector.begin(), selector.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (digits) {
    out.version = std::stoll(selector);
    if (out.version <= 0) throw Error("prompt reference \"" + std::string(ref) + "\": versions start at 1");
  } else if (is_valid_stage_name(selector)) {
    out.stage = selector;
  } else {
    throw Error("prompt reference \"" + std::string(ref) + "\": bad stage or version after '@'");
  }
  return out;
}

}  // namespace hearth::prompts
