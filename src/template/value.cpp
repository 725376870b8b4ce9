#include "template/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "template/eval_error.h"
#include "template/utf8.h"

namespace hearth::jinja {

const Value* Object::find(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Object::find(std::string_view key) {
  for (auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Object::set(const std::string& key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
  } else {
    entries_.emplace_back(key, std::move(value));
  }
}

Value Value::none() {
  Value v;
  v.kind = Kind::None;
  return v;
}
Value Value::from(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
Value Value::from(int64_t i) {
  Value v;
  v.kind = Kind::Int;
  v.integer = i;
  return v;
}
Value Value::from(double d) {
  Value v;
  v.kind = Kind::Float;
  v.real = d;
  return v;
}
Value Value::from(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.string = std::move(s);
  return v;
}
Value Value::from(jinja::Array a) {
  Value v;
  v.kind = Kind::Array;
  v.array = std::make_shared<jinja::Array>(std::move(a));
  return v;
}
Value Value::from(jinja::Object o) {
  Value v;
  v.kind = Kind::Object;
  v.object = std::make_shared<jinja::Object>(std::move(o));
  return v;
}
Value Value::from(jinja::Function f) {
  Value v;
  v.kind = Kind::Function;
  v.function = std::make_shared<jinja::Function>(std::move(f));
  return v;
}

Value CallArgs::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return positional[index];
  if (const Value* v = keyword_arg(name)) return *v;
  return Value::undefined();
}

const Value* CallArgs::keyword_arg(std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

const char* kind_name(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return "undefined";
    case Value::Kind::None: return "none";
    case Value::Kind::Bool: return "boolean";
    case Value::Kind::Int: return "integer";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "string";
    case Value::Kind::Array: return "list";
    case Value::Kind::Object: return v.is_namespace ? "namespace" : "dict";
    case Value::Kind::Function: return "function";
  }
  return "value";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.boolean;
    case Value::Kind::Int: return v.integer != 0;
    case Value::Kind::Float: return v.real != 0.0;
    case Value::Kind::String: return !v.string.empty();
    case Value::Kind::Array: return !v.array->empty();
    case Value::Kind::Object: return v.is_namespace || v.object->size() > 0;
    case Value::Kind::Function: return true;
  }
  return false;
}

namespace {
bool numeric_like(const Value& v) {
  return v.kind == Value::Kind::Int || v.kind == Value::Kind::Float || v.kind == Value::Kind::Bool;
}
}  // namespace

bool equals(const Value& a, const Value& b) {
  if (numeric_like(a) && numeric_like(b)) {
    if (a.kind == Value::Kind::Float || b.kind == Value::Kind::Float) return a.as_double() == b.as_double();
    return (a.kind == Value::Kind::Bool ? a.boolean : a.integer) == (b.kind == Value::Kind::Bool ? b.boolean : b.integer);
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.string == b.string;
    case Value::Kind::Array: {
      if (a.array == b.array) return true;
      if (a.array->size() != b.array->size()) return false;
      for (size_t i = 0; i < a.array->size(); ++i) {
        if (!equals((*a.array)[i], (*b.array)[i])) return false;
      }
      return true;
    }
    case Value::Kind::Object: {
      if (a.object == b.object) return true;
      if (a.is_namespace || b.is_namespace) return false;
      if (a.object->size() != b.object->size()) return false;
      for (const auto& [k, v] : a.object->entries()) {
        const Value* other = b.object->find(k);
        if (!other || !equals(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Function: return a.function == b.function;
    default: return false;
  }
}

namespace {
std::string lowercase_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}
}  // namespace

int compare(const Value& a, const Value& b, bool case_sensitive) {
  if (numeric_like(a) && numeric_like(b)) {
    if (a.kind != Value::Kind::Float && b.kind != Value::Kind::Float) {
      int64_t x = a.kind == Value::Kind::Bool ? a.boolean : a.integer;
      int64_t y = b.kind == Value::Kind::Bool ? b.boolean : b.integer;
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = case_sensitive ? a.string.compare(b.string) : lowercase_ascii(a.string).compare(lowercase_ascii(b.string));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_array() && b.is_array()) {
    size_t n = std::min(a.array->size(), b.array->size());
    for (size_t i = 0; i < n; ++i) {
      int c = compare((*a.array)[i], (*b.array)[i], case_sensitive);
      if (c != 0) return c;
    }
    return a.array->size() < b.array->size() ? -1 : (a.array->size() > b.array->size() ? 1 : 0);
  }
  fail(std::string("cannot compare ") + kind_name(a) + " with " + kind_name(b));
}

namespace {

#if defined(_LIBCPP_VERSION)
// Emscripten's libc++ has no floating-point std::to_chars: find the fewest significant digits that read
// back as d, then print them the way to_chars does (fixed unless scientific is shorter).
std::string shortest_round_trip(double d) {
  char sci[64];
  for (int precision = 0; precision < 17; ++precision) {
    std::snprintf(sci, sizeof sci, "%.*e", precision, d);
    if (std::strtod(sci, nullptr) == d) break;
  }
  const std::string s = sci;
  const bool negative = s[0] == '-';
  const size_t e_pos = s.find('e');
  std::string digits;
  for (size_t i = negative ? 1 : 0; i < e_pos; ++i)
    if (s[i] != '.') digits += s[i];
  const int exponent = std::atoi(s.c_str() + e_pos + 1);
  const int n = int(digits.size());
  std::string fixed = negative ? "-" : "";
  if (exponent >= n - 1) {
    // An integer: to_chars prints its exact value (same length as the zero-padded digits).
    char whole[400];
    std::snprintf(whole, sizeof whole, "%.0f", d);
    fixed = whole;
  } else if (exponent >= 0) {
    fixed += digits.substr(0, size_t(exponent + 1)) + "." + digits.substr(size_t(exponent + 1));
  } else {
    fixed += "0." + std::string(size_t(-exponent - 1), '0') + digits;
  }
  return fixed.size() <= s.size() ? fixed : s;
}
#else
std::string shortest_round_trip(double d) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, res.ptr);
}
#endif

}  // namespace

std::string format_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == std::floor(d) && std::fabs(d) < 1e16) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", d);
    return buf;
  }
  return shortest_round_trip(d);
}

std::string to_text(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return "";
    case Value::Kind::Bool: return v.boolean ? "true" : "false";
    case Value::Kind::Int: return std::to_string(v.integer);
    case Value::Kind::Float: return format_float(v.real);
    case Value::Kind::String: return v.string;
    case Value::Kind::Array:
    case Value::Kind::Object: return to_json(v, JsonStyle{});
    case Value::Kind::Function: return "<function>";
  }
  return "";
}

namespace {

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (c >= 0x80 && ensure_ascii) {
          // Decode one code point and write it as \uXXXX (a surrogate pair above the BMP), as Python does.
          auto pieces = utf8::split_code_points(s.substr(i, 4));
          std::string_view piece = pieces.front();
          uint32_t cp = 0;
          if (piece.size() == 1) {
            cp = c;
          } else {
            cp = static_cast<unsigned char>(piece[0]) & (0xFF >> (piece.size() + 1));
            for (size_t k = 1; k < piece.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(piece[k]) & 0x3F);
          }
          char buf[16];
          if (cp >= 0x10000) {
            uint32_t u = cp - 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (u >> 10), 0xDC00 + (u & 0x3FF));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          }
          out += buf;
          i += piece.size() - 1;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const Value& v, const JsonStyle& style, int depth) {
  if (depth > 512) fail("tojson: value nested too deeply");
  auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(style.indent) * static_cast<size_t>(level), ' ');
  };
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.integer); return;
    case Value::Kind::Float:
      if (std::isnan(v.real)) out += "NaN";
      else if (std::isinf(v.real)) out += v.real > 0 ? "Infinity" : "-Infinity";
      else out += format_float(v.real);
      return;
    case Value::Kind::String: append_json_string(out, v.string, style.ensure_ascii); return;
    case Value::Kind::Array: {
      if (v.array->empty()) { out += "[]"; return; }
      out += '[';
      bool first = true;
      for (const Value& item : *v.array) {
        if (!first) out += style.item_separator;
        first = false;
        if (style.indent >= 0) newline(depth + 1);
        append_json(out, item, style, depth + 1);
      }
      if (style.indent >= 0) newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      if (v.object->size() == 0) { out += "{}"; return; }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.object->entries()) entries.push_back(&e);
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      }
      out += '{';
      bool first = true;
      for (const auto* e : entries) {
        if (!first) out += style.item_separator;
        first = false;
        if (style.indent >= 0) newline(depth + 1);
        append_json_string(out, e->first, style.ensure_ascii);
        out += style.key_separator;
        append_json(out, e->second, style, depth + 1);
      }
      if (style.indent >= 0) newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::Function: fail("tojson: a function is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, const JsonStyle& style) {
  std::string out;
  append_json(out, v, style, 0);
  return out;
}

Value from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::from(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::from(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::from(static_cast<double>(u));
      return Value::from(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::from(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::from(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& item : j) a.push_back(from_json(item));
      return Value::from(std::move(a));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object o;
      for (const auto& [k, item] : j.items()) o.set(k, from_json(item));
      return Value::from(std::move(o));
    }
    default: return Value::none();
  }
}

}  // namespace hearth::jinja
