// Jinja tests: `x is defined`, `x is divisibleby 3`, ...
#include <array>
#include <cmath>

#include "template/builtins.h"
#include "template/eval_error.h"

namespace hearth::jinja {

namespace {
constexpr std::array<std::string_view, 36> kTests = {
    "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "even", "false", "float", "ge", ">=",
    "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<", "lessthan", "mapping",
    "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "true", "undefined", "upper"};

int64_t require_int(const Value& v, std::string_view test) {
  if (v.kind != Value::Kind::Int) fail("test '" + std::string(test) + "' needs an integer, got " + kind_name(v));
  return v.integer;
}
}  // namespace

bool is_known_test(std::string_view name) {
  for (std::string_view t : kTests) {
    if (t == name) return true;
  }
  return false;
}

bool apply_test(std::string_view name, const Value& v, const CallArgs& args) {
  Value arg = args.get(0, "value");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == Value::Kind::Bool;
  if (name == "true") return v.kind == Value::Kind::Bool && v.boolean;
  if (name == "false") return v.kind == Value::Kind::Bool && !v.boolean;
  if (name == "integer") return v.kind == Value::Kind::Int;
  if (name == "float") return v.kind == Value::Kind::Float;
  if (name == "number") return v.kind == Value::Kind::Int || v.kind == Value::Kind::Float;
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_mapping();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_mapping();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_mapping();
  if (name == "callable") return v.kind == Value::Kind::Function;
  if (name == "lower") return v.is_string() && to_lower(v.string) == v.string;
  if (name == "upper") return v.is_string() && to_upper(v.string) == v.string;
  if (name == "odd") return require_int(v, name) % 2 != 0;
  if (name == "even") return require_int(v, name) % 2 == 0;
  if (name == "divisibleby") {
    int64_t d = require_int(arg, name);
    if (d == 0) fail("divisibleby 0");
    return require_int(v, name) % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, arg);
  if (name == "ne" || name == "!=") return !equals(v, arg);
  if (name == "sameas") {
    if (v.kind != arg.kind) return false;
    if (v.is_array()) return v.array == arg.array;
    if (v.is_object()) return v.object == arg.object;
    return equals(v, arg);
  }
  if (name == "lt" || name == "<" || name == "lessthan") return compare(v, arg) < 0;
  if (name == "le" || name == "<=") return compare(v, arg) <= 0;
  if (name == "gt" || name == ">" || name == "greaterthan") return compare(v, arg) > 0;
  if (name == "ge" || name == ">=") return compare(v, arg) >= 0;
  if (name == "in") {
    if (arg.is_string()) return v.is_string() && arg.string.find(v.string) != std::string::npos;
    if (arg.is_array()) {
      for (const Value& item : *arg.array) {
        if (equals(item, v)) return true;
      }
      return false;
    }
    if (arg.is_mapping()) return v.is_string() && arg.object->find(v.string) != nullptr;
    fail(std::string("test 'in' needs a container, got ") + kind_name(arg));
  }
  fail("unknown test '" + std::string(name) + "'");
}

}  // namespace hearth::jinja
