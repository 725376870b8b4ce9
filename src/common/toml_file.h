#pragma once
// A TOML file parsed, with a syntax error reported as hearth::Error "path:line:column: what" (the form editors
// jump to). Shared by the gateway config, the token file and prompt files. Header-only: those live in
// libraries that do not link each other.
#include <filesystem>
#include <string>

#include <toml++/toml.h>

#include "hearth/error.h"

namespace hearth {

inline toml::table parse_toml_file(const std::filesystem::path& path) {
  try {
    return toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw Error(path.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
}

}  // namespace hearth
