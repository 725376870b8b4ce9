#pragma once
// Jinja's built-in filters, tests, methods of str/list/dict, and global functions.
#include <ctime>
#include <string>
#include <string_view>

#include "template/value.h"

namespace hearth::jinja {

class Interpreter;

// Filters (filters.cpp). Unknown names are rejected at parse time.
bool is_known_filter(std::string_view name);
Value apply_filter(Interpreter& in, std::string_view name, const Value& operand, CallArgs& args);

// Tests (tests.cpp), as in `x is defined`.
bool is_known_test(std::string_view name);
bool apply_test(std::string_view name, const Value& operand, const CallArgs& args);

// `obj.name` (methods.cpp): a dict key, else a bound method of str, list or dict; Undefined if none.
Value get_attribute(const Value& object, const std::string& name);
// `obj[key]`.
Value get_item(const Value& object, const Value& key);
Value slice(const Value& object, const Value& start, const Value& stop, const Value& step);

// Global functions (globals.cpp): range, namespace, dict, raise_exception, strftime_now.
void add_globals(Object& scope, std::time_t now);  // now: what strftime_now() formats

// Shared helpers for str methods and filters.
std::string strip_chars(std::string_view s, const Value& chars, bool left, bool right);
std::string to_lower(std::string s);
std::string to_upper(std::string s);
// Looks up a dotted attribute path like "function.name" (integers index lists).
Value get_attribute_path(const Value& object, std::string_view path);

// Maximum size of one string value; hostile templates can't grow memory without bound.
inline constexpr size_t kMaxStringBytes = size_t{32} << 20;
void check_string_size(size_t bytes);

}  // namespace hearth::jinja
