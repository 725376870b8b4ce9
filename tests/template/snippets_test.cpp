// One Jinja construct per case, rendered by @huggingface/jinja (tools/reference/template_snippets.json ->
// tests/data/template/snippets.json); hearth must match byte for byte.
#include <gtest/gtest.h>

#include "hearth/chat_template.h"
#include "hearth/error.h"
#include "reference_data.h"

namespace {

using nlohmann::ordered_json;

TEST(JinjaSnippets, MatchReference) {
  ordered_json data = hearth::test::load_template_reference("snippets.json");
  int checked = 0, gaps = 0;
  for (const ordered_json& s : data["snippets"]) {
    const std::string name = s["name"].get<std::string>();
    if (s.contains("reference_gap")) {  // the reference lacks this construct; nothing to compare with
      ++gaps;
      continue;
    }
    ++checked;
    ordered_json context = s.contains("context") ? s["context"] : ordered_json::object();
    try {
      hearth::JinjaTemplate t(s["template"].get<std::string>());
      std::string out = t.render(context);
      if (s.contains("raises")) {
        ADD_FAILURE() << name << ": expected an error, got " << out;
      } else {
        EXPECT_EQ(out, s["output"].get<std::string>()) << name << ": " << s["template"];
      }
    } catch (const hearth::Error& e) {
      if (s.contains("raises")) {
        EXPECT_NE(std::string(e.what()).find(s["raises"].get<std::string>()), std::string::npos) << name << ": " << e.what();
      } else {
        ADD_FAILURE() << name << ": " << e.what();
      }
    }
  }
  std::printf("snippets: %d checked, %d skipped as reference gaps\n", checked, gaps);
  EXPECT_GE(checked, 60);
}

// Constructs @huggingface/jinja lacks, recorded with Python Jinja2 by
// tools/reference/render_template_snippets_jinja2.py.
TEST(JinjaSnippets, MatchPythonJinja2WhereReferenceLacksConstruct) {
  ordered_json data = hearth::test::load_template_reference("snippets_jinja2.json");
  int checked = 0;
  for (const ordered_json& s : data["snippets"]) {
    ++checked;
    const std::string name = s["name"].get<std::string>();
    ordered_json context = s.contains("context") ? s["context"] : ordered_json::object();
    try {
      std::string out = hearth::JinjaTemplate(s["template"].get<std::string>()).render(context);
      ASSERT_TRUE(s.contains("output")) << name << ": expected an error";
      EXPECT_EQ(out, s["output"].get<std::string>()) << name << ": " << s["template"];
    } catch (const hearth::Error& e) {
      EXPECT_TRUE(s.contains("raises")) << name << ": " << e.what();
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
