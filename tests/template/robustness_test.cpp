// A hostile or broken template must end in hearth::Error, never a hang, a crash or unbounded memory.
#include <gtest/gtest.h>

#include <random>

#include "hearth/chat_template.h"
#include "hearth/error.h"
#include "reference_data.h"

namespace {

bool render_fails(const std::string& source) {
  try {
    hearth::JinjaTemplate(source).render(nlohmann::ordered_json::object());
  } catch (const hearth::Error&) {
    return true;
  }
  return false;
}

TEST(TemplateLimits, NestedLoopsHitStepLimit) {
  EXPECT_TRUE(render_fails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"));
}

TEST(TemplateLimits, HugeOutputHitsSizeLimit) {
  EXPECT_TRUE(render_fails("{% for i in range(1000) %}{% for j in range(1000) %}{{ 'x' * 1000 }}{% endfor %}{% endfor %}"));
}

TEST(TemplateLimits, StringDoublingHitsSizeLimit) {
  EXPECT_TRUE(render_fails("{% set s = 'x' %}{% for i in range(100) %}{% set s = s ~ s %}{% endfor %}{{ s | length }}"));
}

TEST(TemplateLimits, HugeRepeatHitsSizeLimit) { EXPECT_TRUE(render_fails("{{ 'x' * 100000000000 }}")); }

TEST(TemplateLimits, UnboundedRecursionHitsDepthLimit) {
  EXPECT_TRUE(render_fails("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
}

TEST(TemplateLimits, DeepNestingRejectedAtParse) {
  std::string deep = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_THROW(hearth::JinjaTemplate{deep}, hearth::Error);
  std::string blocks;
  for (int i = 0; i < 10000; ++i) blocks += "{% if true %}";
  EXPECT_THROW(hearth::JinjaTemplate{blocks}, hearth::Error);
}

TEST(TemplateLimits, HugeRangeRejected) { EXPECT_TRUE(render_fails("{{ range(100000000000) | length }}")); }

// Byte-level mutations of real templates: each either renders or throws hearth::Error.
TEST(TemplateRobustness, MutatedRealTemplatesNeverCrash) {
  nlohmann::ordered_json data = hearth::test::load_template_reference("chat_templates.json");
  nlohmann::ordered_json messages = data["conversations"]["tool_call"]["messages"];
  nlohmann::ordered_json extra = {{"tools", data["conversations"]["tool_call"]["tools"]}};
  std::mt19937 rng(1234);
  const std::string alphabet = "{}%#-()[]|.,:'\"~+*/ \nabcxyz0123456789=!<>";
  int renders = 0, errors = 0;
  for (const auto& t : data["templates"]) {
    std::string source = t["source"].get<std::string>();
    for (int round = 0; round < 20; ++round) {
      std::string mutated = source;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !mutated.empty(); ++e) {
        size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0: mutated[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: mutated.erase(at, 1 + rng() % 8); break;
          default: mutated.insert(at, 1, alphabet[rng() % alphabet.size()]);
        }
      }
      try {
        hearth::ChatTemplate chat(mutated);
        chat.render(messages, hearth::ChatTemplateOptions{}, extra);
        ++renders;
      } catch (const hearth::Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(renders, 0);
  EXPECT_GT(errors, 0);
}

}  // namespace
