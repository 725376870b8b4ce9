#pragma once
// Prompts as files (config as code): NAME.prompt.toml with name, template, variables, hints, message.
//
//   name = "greeting"
//   message = "friendlier tone"
//   template = """Hello {{ user }}!"""
//   [variables]
//   user = { type = "string", default = "friend" }
//   [hints]
//   model = "llama-3"
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/prompts.h"

namespace hearth::prompts {

struct PromptFile {
  std::filesystem::path path;
  std::string name;
  std::string message;
  std::string author;  // optional; the registry falls back to the token's name
  nlohmann::json body;  // {template, variables, hints} as the registry takes it
};

PromptFile load_prompt_file(const std::filesystem::path& path);

// A file, or every *.prompt.toml under a directory (recursively), sorted by path.
std::vector<std::filesystem::path> find_prompt_files(const std::filesystem::path& file_or_dir);

}  // namespace hearth::prompts
