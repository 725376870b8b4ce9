#pragma once
// Loads the reference renderings recorded by tools/reference/render_templates.mjs.
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace hearth::test {

inline nlohmann::ordered_json load_template_reference(const std::string& file) {
  std::ifstream in(std::string(HEARTH_SOURCE_DIR) + "/tests/data/template/" + file);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::ordered_json::parse(text.str());
}

}  // namespace hearth::test
