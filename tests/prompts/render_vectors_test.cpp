// The prompt rendering vectors shared with the browser's PromptResolver (tests/prompts/render_vectors.json):
// hearth's Jinja renders each `text`, with the variables as the C++ resolver holds them (nlohmann::json, so
// 1.0 stays a float). The browser test checks the same file, differences included.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "hearth/chat_template.h"

namespace hearth {
namespace {

TEST(PromptRenderVectors, HearthJinjaRendersEveryText) {
  std::ifstream in(std::string(HEARTH_SOURCE_DIR) + "/tests/prompts/render_vectors.json");
  ASSERT_TRUE(in) << "no tests/prompts/render_vectors.json";
  const nlohmann::json file = nlohmann::json::parse(in);
  const auto& vectors = file.at("vectors");
  ASSERT_GE(vectors.size(), 10u);
  for (const auto& v : vectors) {
    const std::string tmpl = v.at("template").get<std::string>();
    EXPECT_EQ(JinjaTemplate(tmpl).render(v.at("variables")), v.at("text").get<std::string>()) << tmpl;
  }
}

}  // namespace
}  // namespace hearth
