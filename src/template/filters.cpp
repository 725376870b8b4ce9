// Jinja filters: `value | name(args)`.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "template/builtins.h"
#include "template/eval_error.h"
#include "template/interpreter.h"
#include "template/utf8.h"

namespace hearth::jinja {

namespace {

constexpr std::array<std::string_view, 43> kFilters = {
    "abs",       "attr",   "batch",      "capitalize", "count",  "d",       "default", "dictsort", "e",
    "escape",    "first",  "float",      "indent",     "int",    "items",   "join",    "last",     "length",
    "list",      "lower",  "map",        "max",        "min",    "reject",  "rejectattr", "replace", "reverse",
    "round",     "safe",   "select",     "selectattr", "sort",   "string",  "sum",     "title",    "tojson",
    "trim",      "unique", "upper",      "wordcount",  "center", "forceescape", "bool"};

std::string require_string(const Value& v, std::string_view filter) {
  if (v.is_string()) return v.string;
  if (v.is_undefined()) return "";
  fail("filter '" + std::string(filter) + "' needs a string, got " + kind_name(v));
}

bool flag(const Value& v, bool fallback) { return v.is_undefined() ? fallback : truthy(v); }

std::vector<Value> as_list(const Value& v, std::string_view filter) {
  switch (v.kind) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::Array: return *v.array;
    case Value::Kind::String: {
      std::vector<Value> out;
      for (std::string_view c : utf8::split_code_points(v.string)) out.push_back(Value::from(std::string(c)));
      return out;
    }
    case Value::Kind::Object:
      if (!v.is_namespace) {
        std::vector<Value> keys;
        for (const auto& [k, item] : v.object->entries()) keys.push_back(Value::from(k));
        return keys;
      }
      break;
    default: break;
  }
  fail("filter '" + std::string(filter) + "' needs a sequence, got " + kind_name(v));
}

// `select`/`reject`/`selectattr`/`rejectattr`: keep items whose test result equals `keep`.
Value select_items(const Value& operand, CallArgs& args, bool by_attribute, bool keep, std::string_view filter) {
  std::vector<Value> items = as_list(operand, filter);
  size_t first_test_arg = by_attribute ? 1 : 0;
  std::string attribute;
  if (by_attribute) {
    Value attr = args.get(0, "attribute");
    if (!attr.is_string()) fail("filter '" + std::string(filter) + "' needs an attribute name");
    attribute = attr.string;
  }
  std::string test;
  CallArgs test_args;
  if (args.positional.size() > first_test_arg) {
    const Value& t = args.positional[first_test_arg];
    if (!t.is_string()) fail("filter '" + std::string(filter) + "': test name must be a string");
    test = t.string;
    if (!is_known_test(test)) fail("unknown test '" + test + "'");
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(first_test_arg) + 1, args.positional.end());
  }
  Array out;
  for (const Value& item : items) {
    Value subject = by_attribute ? get_attribute_path(item, attribute) : item;
    bool result = test.empty() ? truthy(subject) : apply_test(test, subject, test_args);
    if (result == keep) out.push_back(item);
  }
  return Value::from(std::move(out));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value to_int(const Value& v, const Value& fallback) {
  Value def = fallback.is_undefined() ? Value::from(int64_t{0}) : fallback;
  switch (v.kind) {
    case Value::Kind::Int: return v;
    case Value::Kind::Bool: return Value::from(static_cast<int64_t>(v.boolean));
    case Value::Kind::Float:
      if (!std::isfinite(v.real) || std::fabs(v.real) > 9.2e18) return def;
      return Value::from(static_cast<int64_t>(v.real));  // Python int() truncates toward zero
    case Value::Kind::String: {
      std::string s = strip_chars(v.string, Value::undefined(), true, true);
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && errno == 0) return Value::from(static_cast<int64_t>(i));
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::from(static_cast<int64_t>(d));
      return def;
    }
    default: return def;
  }
}

Value to_float(const Value& v, const Value& fallback) {
  Value def = fallback.is_undefined() ? Value::from(0.0) : fallback;
  switch (v.kind) {
    case Value::Kind::Int:
    case Value::Kind::Bool:
    case Value::Kind::Float: return Value::from(v.as_double());
    case Value::Kind::String: {
      std::string s = strip_chars(v.string, Value::undefined(), true, true);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return Value::from(d);
      return def;
    }
    default: return def;
  }
}

Value min_max(const Value& operand, CallArgs& args, bool want_max) {
  std::vector<Value> items = as_list(operand, want_max ? "max" : "min");
  if (items.empty()) return Value::undefined();
  bool case_sensitive = flag(args.get(0, "case_sensitive"), false);
  Value attribute = args.get(1, "attribute");
  auto key = [&](const Value& v) { return attribute.is_string() ? get_attribute_path(v, attribute.string) : v; };
  const Value* best = &items[0];
  for (const Value& item : items) {
    int c = compare(key(item), key(*best), case_sensitive);
    if (want_max ? c > 0 : c < 0) best = &item;
  }
  return *best;
}

}  // namespace

bool is_known_filter(std::string_view name) {
  for (std::string_view f : kFilters) {
    if (f == name) return true;
  }
  return false;
}

Value apply_filter(Interpreter& in, std::string_view name, const Value& v, CallArgs& args) {
  if (name == "safe" || name == "forceescape") return v;
  if (name == "default" || name == "d") {
    Value fallback = args.get(0, "default_value");
    if (fallback.is_undefined()) fallback = Value::from(std::string());
    bool boolean = flag(args.get(1, "boolean"), false);
    if (v.is_undefined() || (boolean && !truthy(v))) return fallback;
    return v;
  }
  if (name == "tojson") {
    JsonStyle style;
    Value indent = args.get(0, "indent");
    if (indent.kind == Value::Kind::Int) {
      style.indent = static_cast<int>(std::clamp<int64_t>(indent.integer, 0, 64));
      style.item_separator = ",";
    } else if (!indent.is_undefined() && !indent.is_none()) {
      fail("tojson: indent must be an integer");
    }
    Value separators = args.get(99, "separators");
    if (separators.is_array() && separators.array->size() == 2 && (*separators.array)[0].is_string() &&
        (*separators.array)[1].is_string()) {
      style.item_separator = (*separators.array)[0].string;
      style.key_separator = (*separators.array)[1].string;
    } else if (!separators.is_undefined() && !separators.is_none()) {
      fail("tojson: separators must be a pair of strings");
    }
    style.sort_keys = flag(args.get(99, "sort_keys"), false);
    style.ensure_ascii = flag(args.get(99, "ensure_ascii"), false);
    std::string json = to_json(v, style);
    check_string_size(json.size());
    return Value::from(std::move(json));
  }
  if (name == "string") return v.is_string() ? v : Value::from(to_text(v));
  if (name == "length" || name == "count") {
    switch (v.kind) {
      case Value::Kind::String: return Value::from(static_cast<int64_t>(utf8::length(v.string)));
      case Value::Kind::Array: return Value::from(static_cast<int64_t>(v.array->size()));
      case Value::Kind::Object: return Value::from(static_cast<int64_t>(v.object->size()));
      case Value::Kind::Undefined: return Value::from(int64_t{0});
      default: fail(std::string("object of type '") + kind_name(v) + "' has no length");
    }
  }
  if (name == "upper") return Value::from(to_upper(require_string(v, name)));
  if (name == "lower") return Value::from(to_lower(require_string(v, name)));
  if (name == "trim") return Value::from(strip_chars(require_string(v, name), args.get(0, "chars"), true, true));
  if (name == "title" || name == "capitalize") {
    // Jinja's title: each word (split at whitespace, '-', and opening brackets) gets an upper first letter and
    // lower rest; capitalize does that to the whole string.
    std::string s = require_string(v, name);
    bool word_start = true;
    for (char& c : s) {
      bool delimiter = name == "title" && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-' || c == '(' ||
                                           c == '{' || c == '[' || c == '<');
      if (delimiter) {
        word_start = true;
        continue;
      }
      if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      else if (!word_start && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      word_start = false;
    }
    return Value::from(s);
  }
  if (name == "replace") {
    std::string s = require_string(v, name);
    Value from = args.get(0, "old"), to = args.get(1, "new"), count = args.get(2, "count");
    CallArgs m;
    m.positional = {from, to};
    if (!count.is_undefined()) m.positional.push_back(count);
    Value method = get_attribute(Value::from(s), "replace");
    return (*method.function)(m);
  }
  if (name == "indent") {
    std::string s = require_string(v, name);
    Value width = args.get(0, "width");
    std::string pad = width.is_string() ? width.string : std::string(static_cast<size_t>(std::clamp<int64_t>(width.kind == Value::Kind::Int ? width.integer : 4, 0, 256)), ' ');
    bool first = flag(args.get(1, "first"), false), blank = flag(args.get(2, "blank"), false);
    std::string out;
    size_t start = 0;
    bool is_first = true;
    while (true) {
      size_t nl = s.find('\n', start);
      std::string_view line = std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (!((is_first && !first) || (!blank && line.empty()))) out += pad;
      out += line;
      check_string_size(out.size());
      if (nl == std::string::npos) break;
      out += '\n';
      start = nl + 1;
      is_first = false;
    }
    return Value::from(out);
  }
  if (name == "center") {
    std::string s = require_string(v, name);
    Value width = args.get(0, "width");
    int64_t w = std::clamp<int64_t>(width.kind == Value::Kind::Int ? width.integer : 80, 0, 4096);
    int64_t len = static_cast<int64_t>(utf8::length(s));
    if (len >= w) return Value::from(s);
    int64_t total = w - len, left = total / 2 + (total & w & 1);
    return Value::from(std::string(static_cast<size_t>(left), ' ') + s + std::string(static_cast<size_t>(total - left), ' '));
  }
  if (name == "wordcount") {
    Value words = get_attribute(Value::from(require_string(v, name)), "split");
    CallArgs none;
    return Value::from(static_cast<int64_t>((*words.function)(none).array->size()));
  }
  if (name == "escape" || name == "e") return Value::from(html_escape(v.is_string() ? v.string : to_text(v)));
  if (name == "int") return to_int(v, args.get(0, "default"));
  if (name == "float") return to_float(v, args.get(0, "default"));
  if (name == "bool") return Value::from(truthy(v));
  if (name == "abs") {
    if (v.kind == Value::Kind::Int) {
      if (v.integer == INT64_MIN) fail("integer overflow");
      return Value::from(v.integer < 0 ? -v.integer : v.integer);
    }
    if (v.kind == Value::Kind::Float) return Value::from(std::fabs(v.real));
    fail(std::string("bad operand type for abs(): ") + kind_name(v));
  }
  if (name == "round") {
    if (!v.is_number()) fail(std::string("filter 'round' needs a number, got ") + kind_name(v));
    Value precision = args.get(0, "precision"), method = args.get(1, "method");
    int64_t p = precision.kind == Value::Kind::Int ? std::clamp<int64_t>(precision.integer, -30, 30) : 0;
    std::string how = method.is_string() ? method.string : "common";
    double scale = std::pow(10.0, static_cast<double>(p));
    double x = v.as_double() * scale;
    // Python's round() rounds half to even.
    double r = how == "ceil" ? std::ceil(x) : how == "floor" ? std::floor(x) : std::nearbyint(x);
    if (how != "common" && how != "ceil" && how != "floor") fail("round: method must be 'common', 'ceil' or 'floor'");
    return Value::from(r / scale);
  }
  if (name == "first" || name == "last") {
    if (v.is_array()) {
      if (v.array->empty()) return Value::undefined();
      return name == "first" ? v.array->front() : v.array->back();
    }
    std::vector<Value> items = as_list(v, name);
    if (items.empty()) return Value::undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "list") return Value::from(as_list(v, name));
  if (name == "reverse") {
    if (v.is_string()) {
      auto cps = utf8::split_code_points(v.string);
      std::string out;
      for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
      return Value::from(out);
    }
    std::vector<Value> items = as_list(v, name);
    std::reverse(items.begin(), items.end());
    return Value::from(std::move(items));
  }
  if (name == "join") {
    Value sep = args.get(0, "d"), attribute = args.get(1, "attribute");
    if (const Value* named = args.keyword_arg("separator")) sep = *named;  // @huggingface/jinja's name for `d`
    std::string separator = sep.is_string() ? sep.string : "";
    std::string out;
    bool first = true;
    for (const Value& item : as_list(v, name)) {
      if (!first) out += separator;
      first = false;
      out += to_text(attribute.is_string() ? get_attribute_path(item, attribute.string) : item);
      check_string_size(out.size());
    }
    return Value::from(out);
  }
  if (name == "unique") {
    bool case_sensitive = flag(args.get(0, "case_sensitive"), false);
    Value attribute = args.get(1, "attribute");
    Array out;
    std::vector<Value> seen;
    for (const Value& item : as_list(v, name)) {
      Value key = attribute.is_string() ? get_attribute_path(item, attribute.string) : item;
      if (!case_sensitive && key.is_string()) key = Value::from(to_lower(key.string));
      bool dup = false;
      for (const Value& s : seen) dup = dup || equals(s, key);
      in.tick();
      if (!dup) {
        seen.push_back(key);
        out.push_back(item);
      }
    }
    return Value::from(std::move(out));
  }
  if (name == "sort") {
    bool reverse = flag(args.get(0, "reverse"), false);
    bool case_sensitive = flag(args.get(1, "case_sensitive"), false);
    Value attribute = args.get(2, "attribute");
    std::vector<Value> items = as_list(v, name);
    in.tick(items.size());
    auto key = [&](const Value& x) {
      if (attribute.is_string()) return get_attribute_path(x, attribute.string);
      if (attribute.kind == Value::Kind::Int) return get_item(x, attribute);
      return x;
    };
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      int c = compare(key(a), key(b), case_sensitive);
      return reverse ? c > 0 : c < 0;
    });
    return Value::from(std::move(items));
  }
  if (name == "dictsort") {
    if (!v.is_mapping()) fail(std::string("filter 'dictsort' needs a dict, got ") + kind_name(v));
    bool case_sensitive = flag(args.get(0, "case_sensitive"), false);
    Value by = args.get(1, "by");
    bool by_value = by.is_string() && by.string == "value";
    bool reverse = flag(args.get(2, "reverse"), false);
    Array pairs;
    for (const auto& [k, item] : v.object->entries()) pairs.push_back(Value::from(Array{Value::from(k), item}));
    std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
      int c = compare((*a.array)[by_value ? 1 : 0], (*b.array)[by_value ? 1 : 0], case_sensitive);
      return reverse ? c > 0 : c < 0;
    });
    return Value::from(std::move(pairs));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::from(Array{});
    if (!v.is_mapping()) fail(std::string("filter 'items' needs a dict, got ") + kind_name(v));
    Array pairs;
    for (const auto& [k, item] : v.object->entries()) pairs.push_back(Value::from(Array{Value::from(k), item}));
    return Value::from(std::move(pairs));
  }
  if (name == "attr") {
    Value attribute = args.get(0, "name");
    if (!attribute.is_string()) fail("filter 'attr' needs an attribute name");
    return get_attribute(v, attribute.string);
  }
  if (name == "map") {
    std::vector<Value> items = as_list(v, name);
    Array out;
    if (const Value* attribute = args.keyword_arg("attribute")) {
      if (!attribute->is_string() && attribute->kind != Value::Kind::Int) fail("map: attribute must be a string");
      const Value* fallback = args.keyword_arg("default");
      for (const Value& item : items) {
        Value x = attribute->is_string() ? get_attribute_path(item, attribute->string) : get_item(item, *attribute);
        out.push_back(x.is_undefined() && fallback ? *fallback : x);
      }
    } else {
      if (args.positional.empty() || !args.positional[0].is_string()) fail("map: needs a filter name or attribute=");
      std::string filter = args.positional[0].string;
      if (!is_known_filter(filter)) fail("unknown filter '" + filter + "'");
      CallArgs rest;
      rest.positional.assign(args.positional.begin() + 1, args.positional.end());
      rest.keyword = args.keyword;
      for (const Value& item : items) {
        in.tick();
        CallArgs call = rest;
        out.push_back(apply_filter(in, filter, item, call));
      }
    }
    return Value::from(std::move(out));
  }
  if (name == "select") return select_items(v, args, false, true, name);
  if (name == "reject") return select_items(v, args, false, false, name);
  if (name == "selectattr") return select_items(v, args, true, true, name);
  if (name == "rejectattr") return select_items(v, args, true, false, name);
  if (name == "sum") {
    Value attribute = args.get(0, "attribute"), start = args.get(1, "start");
    Value total = start.is_undefined() ? Value::from(int64_t{0}) : start;
    for (const Value& item : as_list(v, name)) {
      Value x = attribute.is_string() ? get_attribute_path(item, attribute.string) : item;
      if (!x.is_number() || !total.is_number()) fail(std::string("sum: cannot add ") + kind_name(x));
      if (x.kind == Value::Kind::Int && total.kind == Value::Kind::Int) {
        int64_t r;
        if (__builtin_add_overflow(total.integer, x.integer, &r)) fail("integer overflow");
        total = Value::from(r);
      } else {
        total = Value::from(total.as_double() + x.as_double());
      }
    }
    return total;
  }
  if (name == "min") return min_max(v, args, false);
  if (name == "max") return min_max(v, args, true);
  if (name == "batch") {
    Value size = args.get(0, "linecount"), fill = args.get(1, "fill_with");
    if (size.kind != Value::Kind::Int || size.integer <= 0) fail("batch: size must be a positive integer");
    Array out, current;
    for (const Value& item : as_list(v, name)) {
      current.push_back(item);
      if (static_cast<int64_t>(current.size()) == size.integer) {
        out.push_back(Value::from(std::move(current)));
        current = Array{};
      }
    }
    if (!current.empty()) {
      if (!fill.is_undefined()) {
        while (static_cast<int64_t>(current.size()) < size.integer) current.push_back(fill);
      }
      out.push_back(Value::from(std::move(current)));
    }
    return Value::from(std::move(out));
  }
  fail("filter '" + std::string(name) + "' is not supported");
}

}  // namespace hearth::jinja
