// libFuzzer harness for the Jinja engine (chat templates and prompt assets): any source must parse or throw
// hearth::Error, and a parsed template must render or throw hearth::Error within its limits (output size,
// steps, call depth) — never crash, hang, or throw anything else. Seeded with the real chat templates in
// ../shared/templates (scripts/run_fuzz.sh passes them as a corpus directory).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hearth/chat_template.h"
#include "hearth/error.h"

namespace {

const nlohmann::json& conversation() {
  static const nlohmann::json messages = nlohmann::json::parse(R"([
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi <b>there</b> {{ x }}"},
    {"role": "assistant", "content": "Hello.", "tool_calls": [{"type": "function",
      "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
    {"role": "tool", "content": "42"},
    {"role": "user", "content": [{"type": "text", "text": "part"}, {"type": "image"}]}
  ])");
  return messages;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  try {
    hearth::ChatTemplate tmpl(source);
    hearth::ChatTemplateOptions options;
    options.bos_token = "<s>";
    options.eos_token = "</s>";
    options.extra_context = {{"tools", nlohmann::json::array({{{"name", "f"}}})}, {"enable_thinking", true}};
    tmpl.render(conversation(), options);
  } catch (const hearth::Error&) {
    // A clear error is the expected outcome for most inputs.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "template threw a non-hearth exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
