#pragma once
// Syntax tree of a parsed template: expressions and statements, each with its source position.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/lexer.h"
#include "template/value.h"

namespace hearth::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    Literal,     // literal
    Name,        // name
    List,        // items
    Tuple,       // items
    Dict,        // pairs
    Attribute,   // a.name
    Subscript,   // a[b]
    Slice,       // a[b:c:d] (missing parts are null)
    Call,        // a(items, keywords)
    Filter,      // a | name(items, keywords)
    Test,        // a is [not] name(items)
    Unary,       // op a
    Binary,      // a op b
    Ternary,     // b if a else c  (c may be null)
  };

  Kind kind;
  SourcePos pos;
  Value literal;
  std::string name;  // identifier, attribute, filter/test name, or operator
  bool negate = false;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
  std::vector<std::pair<ExprPtr, ExprPtr>> pairs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Parameter {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  enum class Kind {
    Text,         // text
    Output,       // {{ value }}
    If,           // if value: body else: else_body
    For,          // for targets in value [if condition]: body else: else_body
    Set,          // set target = value
    SetBlock,     // set targets[0] %} body {% endset
    Macro,        // macro name(params): body
    CallBlock,    // call(params) value: body
    FilterBlock,  // filter value(=Filter expr on a null operand): body
    Break,
    Continue,
  };

  Kind kind;
  SourcePos pos;
  std::string text;
  std::string name;
  ExprPtr value;
  ExprPtr target;      // Set: Name, Tuple or Attribute
  ExprPtr condition;   // For: the `if` filter
  std::vector<std::string> targets;  // For/SetBlock loop variables
  std::vector<Parameter> params;
  Body body;
  Body else_body;
};

}  // namespace hearth::jinja
