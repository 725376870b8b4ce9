#pragma once
// Names a template reads from its context: every variable it refers to that it does not bind itself
// (set, for, macro parameters) and that is not a global function. Used to reject undeclared variables.
#include <set>
#include <string>
#include <string_view>

namespace hearth::prompts {

// Parses `source` (throws hearth::Error with line:column on syntax errors) and returns its free names.
std::set<std::string> template_free_names(std::string_view source);

}  // namespace hearth::prompts
