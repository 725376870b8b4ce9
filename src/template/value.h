#pragma once
// Runtime values of the Jinja interpreter. Lists, dicts and namespaces are shared by reference, as in
// Python, so `list.append` and `ns.x = ...` are seen through every name that holds them.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::jinja {

struct Value;
struct CallArgs;
using Array = std::vector<Value>;

// Insertion-ordered mapping (Python dicts keep insertion order; tojson output depends on it).
class Object {
 public:
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(const std::string& key, Value value);
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const;   // defined after Value: clang instantiates pair<string, Value> here otherwise

 private:
  std::vector<std::pair<std::string, Value>> entries_;
};

using Function = std::function<Value(CallArgs&)>;

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, Array, Object, Function };

  Kind kind = Kind::Undefined;
  bool boolean = false;
  bool is_namespace = false;   // Object made by namespace(): attribute assignment allowed, no dict methods
  int64_t integer = 0;
  double real = 0.0;
  std::string string;
  std::shared_ptr<jinja::Array> array;
  std::shared_ptr<jinja::Object> object;
  std::shared_ptr<jinja::Function> function;

  static Value undefined() { return {}; }
  static Value none();
  static Value from(bool b);
  static Value from(int64_t i);
  static Value from(double d);
  static Value from(std::string s);
  static Value from(const char* s) { return from(std::string(s)); }
  static Value from(jinja::Array a);
  static Value from(jinja::Object o);
  static Value from(jinja::Function f);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_object() const { return kind == Kind::Object; }
  bool is_mapping() const { return kind == Kind::Object && !is_namespace; }
  double as_double() const { return kind == Kind::Float ? real : static_cast<double>(kind == Kind::Bool ? boolean : integer); }
};

inline size_t Object::size() const { return entries_.size(); }

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // Positional index `index` or keyword `name`, else Undefined.
  Value get(size_t index, std::string_view name) const;
  const Value* keyword_arg(std::string_view name) const;
};

const char* kind_name(const Value& v);
bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// Python-style ordering for numbers, strings and lists; throws hearth::Error otherwise.
int compare(const Value& a, const Value& b, bool case_sensitive = true);

// Text a value prints as in `{{ }}` and `~`. Lists and dicts print as JSON and booleans as true/false,
// matching @huggingface/jinja (the reference renderer) rather than Python's repr.
std::string to_text(const Value& v);
std::string format_float(double d);

struct JsonStyle {
  int indent = -1;   // < 0: single line
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python json.dumps formatting (HF's tojson: ensure_ascii=False).
std::string to_json(const Value& v, const JsonStyle& style);

Value from_json(const nlohmann::ordered_json& j);

}  // namespace hearth::jinja
