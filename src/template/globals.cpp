// Global functions available to every template.
#include <ctime>

#include "template/builtins.h"
#include "template/eval_error.h"

namespace hearth::jinja {

namespace {

constexpr int64_t kMaxRange = 100'000;  // lists are materialized; keep each one small

Value range(CallArgs& a) {
  std::vector<int64_t> ints;
  for (const Value& v : a.positional) {
    if (v.kind != Value::Kind::Int) fail(std::string("range() arguments must be integers, got ") + kind_name(v));
    ints.push_back(v.integer);
  }
  int64_t start = 0, stop = 0, step = 1;
  if (ints.size() == 1) stop = ints[0];
  else if (ints.size() == 2 || ints.size() == 3) { start = ints[0]; stop = ints[1]; if (ints.size() == 3) step = ints[2]; }
  else fail("range() takes 1 to 3 arguments");
  if (step == 0) fail("range() step must not be zero");
  Array out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (static_cast<int64_t>(out.size()) >= kMaxRange) fail("range() longer than " + std::to_string(kMaxRange) + " items");
    out.push_back(Value::from(i));
  }
  return Value::from(std::move(out));
}

Value make_namespace(CallArgs& a) {
  Object o;
  if (a.positional.size() > 1) fail("namespace() takes at most one positional argument");
  if (a.positional.size() == 1) {
    const Value& init = a.positional[0];
    if (!init.is_mapping()) fail("namespace() argument must be a dict");
    for (const auto& [k, v] : init.object->entries()) o.set(k, v);
  }
  for (const auto& [k, v] : a.keyword) o.set(k, v);
  Value ns = Value::from(std::move(o));
  ns.is_namespace = true;
  return ns;
}

Value make_dict(CallArgs& a) {
  Object o;
  for (const auto& [k, v] : a.keyword) o.set(k, v);
  return Value::from(std::move(o));
}

Value raise_exception(CallArgs& a) {
  std::string message = a.positional.empty() ? std::string("raise_exception() called") : to_text(a.positional[0]);
  fail("raise_exception: " + message);
}

Value strftime_now(CallArgs& a, std::time_t now) {
  Value format = a.get(0, "format");
  if (!format.is_string()) fail("strftime_now() needs a format string");
  std::tm local{};
  localtime_r(&now, &local);
  char buf[256];
  size_t n = std::strftime(buf, sizeof buf, format.string.c_str(), &local);
  return Value::from(std::string(buf, n));
}

}  // namespace

void add_globals(Object& scope, std::time_t now) {
  scope.set("range", Value::from(Function(range)));
  scope.set("namespace", Value::from(Function(make_namespace)));
  scope.set("dict", Value::from(Function(make_dict)));
  scope.set("raise_exception", Value::from(Function(raise_exception)));
  scope.set("strftime_now", Value::from(Function([now](CallArgs& a) { return strftime_now(a, now); })));
}

}  // namespace hearth::jinja
