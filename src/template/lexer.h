#pragma once
// Turns template source into tokens. Whitespace handling follows transformers' apply_chat_template
// (trim_blocks and lstrip_blocks on, one trailing newline dropped, `{% generation %}` tags removed),
// done the same way as @huggingface/jinja so output matches it byte for byte.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::jinja {

struct SourcePos {
  uint32_t line = 1;
  uint32_t column = 1;
};

enum class TokenKind {
  Text,
  OpenStatement,    // {%
  CloseStatement,   // %}
  OpenExpression,   // {{
  CloseExpression,  // }}
  Identifier,
  Integer,
  Float,
  String,
  Operator,  // ( ) [ ] { } , . : | = + - ~ * / // % ** == != < > <= >=
  End,
};

struct Token {
  TokenKind kind;
  std::string value;
  SourcePos pos;
};

// Throws hearth::Error with line:column on a lexical error.
std::vector<Token> tokenize(std::string_view source);

std::string describe(const SourcePos& pos);

}  // namespace hearth::jinja
