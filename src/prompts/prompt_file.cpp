#include "prompts/prompt_file.h"

#include <algorithm>

#include <toml++/toml.h>

#include "common/toml_file.h"
#include "hearth/error.h"

namespace hearth::prompts {

namespace {

constexpr std::string_view kSuffix = ".prompt.toml";

nlohmann::json to_json(const toml::node& node) {
  if (auto* t = node.as_table()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : *t) j[std::string(key.str())] = to_json(value);
    return j;
  }
  if (auto* a = node.as_array()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& value : *a) j.push_back(to_json(value));
    return j;
  }
  if (auto v = node.value_exact<std::string>()) return *v;
  if (auto v = node.value_exact<int64_t>()) return *v;
  if (auto v = node.value_exact<double>()) return *v;
  if (auto v = node.value_exact<bool>()) return *v;
  throw Error("dates and times are not supported in prompt files");
}

bool has_suffix(const std::string& s) {
  return s.size() > kSuffix.size() && s.compare(s.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

}  // namespace

PromptFile load_prompt_file(const std::filesystem::path& path) {
  toml::table root = parse_toml_file(path);
  PromptFile f;
  f.path = path;
  std::string stem = path.filename().string();
  if (has_suffix(stem)) stem.resize(stem.size() - kSuffix.size());
  f.name = root["name"].value_or(stem);
  f.message = root["message"].value_or(std::string());
  f.author = root["author"].value_or(std::string());
  auto tmpl = root["template"].value<std::string>();
  if (!tmpl) throw Error(path.string() + ": missing template = \"\"\"...\"\"\"");
  f.body = {{"template", *tmpl}};
  try {
    if (auto* vars = root["variables"].as_table()) f.body["variables"] = to_json(*vars);
    if (auto* hints = root["hints"].as_table()) f.body["hints"] = to_json(*hints);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
  for (const auto& [key, value] : root) {
    std::string_view k = key.str();
    if (k != "name" && k != "message" && k != "author" && k != "template" && k != "variables" && k != "hints")
      throw Error(path.string() + ": unknown key \"" + std::string(k) + "\"");
  }
  return f;
}

std::vector<std::filesystem::path> find_prompt_files(const std::filesystem::path& file_or_dir) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_regular_file(file_or_dir)) return {file_or_dir};
  if (!std::filesystem::is_directory(file_or_dir)) throw Error(file_or_dir.string() + ": no such file or directory");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(file_or_dir))
    if (entry.is_regular_file() && has_suffix(entry.path().filename().string())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace hearth::prompts
