#pragma once
// Builds the syntax tree from tokens. Syntax errors and unsupported tags throw hearth::Error with line:column.
#include <vector>

#include "template/ast.h"
#include "template/lexer.h"

namespace hearth::jinja {

Body parse(const std::vector<Token>& tokens);

}  // namespace hearth::jinja
