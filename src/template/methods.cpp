// Attribute and item access, slicing, and the methods of str, list and dict that chat templates call.
#include <algorithm>
#include <optional>

#include "template/builtins.h"
#include "template/eval_error.h"
#include "template/utf8.h"

namespace hearth::jinja {

namespace {

Value method(Function f) { return Value::from(std::move(f)); }

std::string require_string(const Value& v, const char* what) {
  if (!v.is_string()) fail(std::string(what) + " must be a string, not " + kind_name(v));
  return v.string;
}

Value split(const std::string& s, const Value& sep_value, const Value& maxsplit_value) {
  int64_t maxsplit = maxsplit_value.kind == Value::Kind::Int ? maxsplit_value.integer : -1;
  Array parts;
  if (sep_value.is_undefined() || sep_value.is_none()) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && utf8::is_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        size_t end = s.size();
        while (end > i && utf8::is_space(s[end - 1])) --end;
        parts.push_back(Value::from(s.substr(i, end - i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !utf8::is_space(s[j])) ++j;
      parts.push_back(Value::from(s.substr(i, j - i)));
      i = j;
    }
    return Value::from(std::move(parts));
  }
  std::string sep = require_string(sep_value, "split() separator");
  if (sep.empty()) fail("split(): empty separator");
  size_t start = 0;
  while (true) {
    if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) break;
    size_t at = s.find(sep, start);
    if (at == std::string::npos) break;
    parts.push_back(Value::from(s.substr(start, at - start)));
    start = at + sep.size();
  }
  parts.push_back(Value::from(s.substr(start)));
  return Value::from(std::move(parts));
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` between every code point and at both ends.
    auto cps = utf8::split_code_points(s);
    int64_t done = 0;
    for (std::string_view cp : cps) {
      if (count < 0 || done < count) { out += to; ++done; }
      out += cp;
      check_string_size(out.size());
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += to;
    check_string_size(out.size());
    start = at + from.size();
    ++done;
  }
  out.append(s, start, std::string::npos);
  check_string_size(out.size());
  return out;
}

bool starts_or_ends(const std::string& s, const Value& arg, bool at_start) {
  auto test = [&](const Value& p) {
    const std::string& x = require_string(p, at_start ? "startswith() argument" : "endswith() argument");
    if (x.size() > s.size()) return false;
    return at_start ? s.compare(0, x.size(), x) == 0 : s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  if (arg.is_array()) {
    for (const Value& p : *arg.array) {
      if (test(p)) return true;
    }
    return false;
  }
  return test(arg);
}

// str.format with `{}`, `{0}` and `{name}` fields (no format specs).
std::string format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') { out += '{'; ++i; continue; }
    if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') { out += '}'; ++i; continue; }
    if (c != '{') { out += c; continue; }
    size_t end = fmt.find('}', i);
    if (end == std::string::npos) fail("format(): unmatched '{'");
    std::string field = fmt.substr(i + 1, end - i - 1);
    if (field.find(':') != std::string::npos || field.find('!') != std::string::npos) fail("format(): format specs are not supported");
    Value v;
    if (field.empty()) {
      v = auto_index < args.positional.size() ? args.positional[auto_index] : Value::undefined();
      ++auto_index;
    } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
      size_t idx = std::stoul(field);
      v = idx < args.positional.size() ? args.positional[idx] : Value::undefined();
    } else if (const Value* kw = args.keyword_arg(field)) {
      v = *kw;
    }
    if (v.is_undefined()) fail("format(): no argument for field {" + field + "}");
    out += to_text(v);
    i = end;
  }
  return out;
}

int64_t find_code_point_index(const std::string& s, const std::string& sub, bool reverse) {
  size_t at = reverse ? s.rfind(sub) : s.find(sub);
  if (at == std::string::npos) return -1;
  return static_cast<int64_t>(utf8::length(std::string_view(s).substr(0, at)));
}

Value string_method(const Value& self, const std::string& name) {
  const std::string s = self.string;
  if (name == "upper") return method([s](CallArgs&) { return Value::from(to_upper(s)); });
  if (name == "lower") return method([s](CallArgs&) { return Value::from(to_lower(s)); });
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool left = name != "rstrip", right = name != "lstrip";
    return method([s, left, right](CallArgs& a) { return Value::from(strip_chars(s, a.get(0, "chars"), left, right)); });
  }
  if (name == "title") {
    return method([s](CallArgs&) {
      std::string out = s;
      bool prev_letter = false;
      for (char& c : out) {
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (letter) c = prev_letter ? (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c)
                                    : (c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
        prev_letter = letter;
      }
      return Value::from(out);
    });
  }
  if (name == "capitalize") {
    return method([s](CallArgs&) {
      std::string out = to_lower(s);
      if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
      return Value::from(out);
    });
  }
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return method([s, start](CallArgs& a) { return Value::from(starts_or_ends(s, a.get(0, "prefix"), start)); });
  }
  if (name == "split") return method([s](CallArgs& a) { return split(s, a.get(0, "sep"), a.get(1, "maxsplit")); });
  if (name == "replace") {
    return method([s](CallArgs& a) {
      Value count = a.get(2, "count");
      return Value::from(replace_all(s, require_string(a.get(0, "old"), "replace() old"), require_string(a.get(1, "new"), "replace() new"),
                                     count.kind == Value::Kind::Int ? count.integer : -1));
    });
  }
  if (name == "find" || name == "rfind") {
    bool reverse = name == "rfind";
    return method([s, reverse](CallArgs& a) { return Value::from(find_code_point_index(s, require_string(a.get(0, "sub"), "find() argument"), reverse)); });
  }
  if (name == "count") {
    return method([s](CallArgs& a) {
      std::string sub = require_string(a.get(0, "sub"), "count() argument");
      if (sub.empty()) return Value::from(static_cast<int64_t>(utf8::length(s) + 1));
      int64_t n = 0;
      for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
      return Value::from(n);
    });
  }
  if (name == "join") {
    return method([s](CallArgs& a) {
      Value items = a.get(0, "iterable");
      if (!items.is_array()) fail("join() argument must be a list");
      std::string out;
      for (size_t i = 0; i < items.array->size(); ++i) {
        if (i) out += s;
        out += to_text((*items.array)[i]);
        check_string_size(out.size());
      }
      return Value::from(out);
    });
  }
  if (name == "format") return method([s](CallArgs& a) { return Value::from(format(s, a)); });
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    return method([s, name](CallArgs&) {
      if (s.empty()) return Value::from(false);
      for (char c : s) {
        bool digit = c >= '0' && c <= '9';
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool ok = name == "isdigit" ? digit : name == "isalpha" ? alpha : name == "isspace" ? utf8::is_space(c) : (digit || alpha);
        if (!ok) return Value::from(false);
      }
      return Value::from(true);
    });
  }
  if (name == "length") return Value::from(static_cast<int64_t>(utf8::length(s)));
  return Value::undefined();
}

Value list_method(const Value& self, const std::string& name) {
  std::shared_ptr<Array> list = self.array;
  if (name == "append") {
    return method([list](CallArgs& a) {
      if (a.positional.size() != 1) fail("append() takes exactly one argument");
      list->push_back(a.positional[0]);
      return Value::none();
    });
  }
  if (name == "extend") {
    return method([list](CallArgs& a) {
      Value other = a.get(0, "iterable");
      if (!other.is_array()) fail("extend() argument must be a list");
      Array copy = *other.array;
      list->insert(list->end(), copy.begin(), copy.end());
      return Value::none();
    });
  }
  if (name == "insert") {
    return method([list](CallArgs& a) {
      Value index = a.get(0, "index");
      if (index.kind != Value::Kind::Int) fail("insert() index must be an integer");
      int64_t n = static_cast<int64_t>(list->size());
      int64_t i = index.integer < 0 ? std::max<int64_t>(0, n + index.integer) : std::min(index.integer, n);
      list->insert(list->begin() + i, a.get(1, "object"));
      return Value::none();
    });
  }
  if (name == "pop") {
    return method([list](CallArgs& a) {
      if (list->empty()) fail("pop from empty list");
      Value index = a.get(0, "index");
      int64_t n = static_cast<int64_t>(list->size());
      int64_t i = index.kind == Value::Kind::Int ? index.integer : n - 1;
      if (i < 0) i += n;
      if (i < 0 || i >= n) fail("pop index out of range");
      Value v = (*list)[static_cast<size_t>(i)];
      list->erase(list->begin() + i);
      return v;
    });
  }
  if (name == "index" || name == "count") {
    bool count = name == "count";
    return method([list, count](CallArgs& a) {
      Value x = a.get(0, "value");
      int64_t n = 0;
      for (size_t i = 0; i < list->size(); ++i) {
        if (!equals((*list)[i], x)) continue;
        if (!count) return Value::from(static_cast<int64_t>(i));
        ++n;
      }
      if (!count) fail("index(): value is not in list");
      return Value::from(n);
    });
  }
  if (name == "length") return Value::from(static_cast<int64_t>(list->size()));
  return Value::undefined();
}

Value dict_method(const Value& self, const std::string& name) {
  std::shared_ptr<Object> dict = self.object;
  if (name == "get") {
    return method([dict](CallArgs& a) {
      Value key = a.get(0, "key");
      if (key.is_string()) {
        if (const Value* v = dict->find(key.string)) return *v;
      }
      Value fallback = a.get(1, "default");
      return fallback.is_undefined() ? Value::none() : fallback;
    });
  }
  if (name == "items" || name == "keys" || name == "values") {
    int which = name == "items" ? 0 : name == "keys" ? 1 : 2;
    return method([dict, which](CallArgs&) {
      Array out;
      for (const auto& [k, v] : dict->entries()) {
        if (which == 0) out.push_back(Value::from(Array{Value::from(k), v}));
        else if (which == 1) out.push_back(Value::from(k));
        else out.push_back(v);
      }
      return Value::from(std::move(out));
    });
  }
  return Value::undefined();
}

}  // namespace

std::string to_lower(std::string s) { return utf8::to_lower(s); }
std::string to_upper(std::string s) { return utf8::to_upper(s); }

std::string strip_chars(std::string_view s, const Value& chars, bool left, bool right) {
  auto strip_this = [&](std::string_view cp) {
    if (chars.is_undefined() || chars.is_none()) return cp.size() == 1 && utf8::is_space(cp[0]);
    return chars.string.find(cp) != std::string::npos;
  };
  if (!chars.is_undefined() && !chars.is_none() && !chars.is_string()) fail("strip(): chars must be a string");
  auto cps = utf8::split_code_points(s);
  size_t begin = 0, end = cps.size();
  if (left) while (begin < end && strip_this(cps[begin])) ++begin;
  if (right) while (end > begin && strip_this(cps[end - 1])) --end;
  if (begin == end) return "";
  const char* from = cps[begin].data();
  const char* to = cps[end - 1].data() + cps[end - 1].size();
  return std::string(from, static_cast<size_t>(to - from));
}

void check_string_size(size_t bytes) {
  if (bytes > kMaxStringBytes) fail("string value exceeds " + std::to_string(kMaxStringBytes) + " bytes");
}

Value get_attribute(const Value& object, const std::string& name) {
  switch (object.kind) {
    case Value::Kind::Object: {
      if (const Value* v = object.object->find(name)) return *v;
      return object.is_namespace ? Value::undefined() : dict_method(object, name);
    }
    case Value::Kind::String: return string_method(object, name);
    case Value::Kind::Array: return list_method(object, name);
    default: return Value::undefined();
  }
}

Value get_item(const Value& object, const Value& key) {
  if (key.is_string()) return get_attribute(object, key.string);
  if (key.kind != Value::Kind::Int) {
    if (object.is_undefined() || object.is_none()) return Value::undefined();
    fail(std::string("cannot index a ") + kind_name(object) + " with a " + kind_name(key));
  }
  if (object.is_array()) {
    int64_t n = static_cast<int64_t>(object.array->size());
    int64_t i = key.integer < 0 ? key.integer + n : key.integer;
    if (i < 0 || i >= n) return Value::undefined();
    return (*object.array)[static_cast<size_t>(i)];
  }
  if (object.is_string()) {
    auto cps = utf8::split_code_points(object.string);
    int64_t n = static_cast<int64_t>(cps.size());
    int64_t i = key.integer < 0 ? key.integer + n : key.integer;
    if (i < 0 || i >= n) return Value::undefined();
    return Value::from(std::string(cps[static_cast<size_t>(i)]));
  }
  if (object.is_mapping()) {
    if (const Value* v = object.object->find(std::to_string(key.integer))) return *v;
  }
  return Value::undefined();
}

Value slice(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v) {
  auto as_index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_none() || v.is_undefined()) return std::nullopt;
    if (v.kind != Value::Kind::Int) fail(std::string("slice ") + what + " must be an integer");
    return v.integer;
  };
  std::optional<int64_t> start = as_index(start_v, "start"), stop = as_index(stop_v, "stop"), step_opt = as_index(step_v, "step");
  int64_t step = step_opt.value_or(1);
  if (step == 0) fail("slice step cannot be zero");

  std::vector<std::string_view> cps;
  int64_t n = 0;
  if (object.is_array()) n = static_cast<int64_t>(object.array->size());
  else if (object.is_string()) { cps = utf8::split_code_points(object.string); n = static_cast<int64_t>(cps.size()); }
  else fail(std::string("cannot slice a ") + kind_name(object));

  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> v, int64_t def) {
    if (!v) return def;
    int64_t i = *v;
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t lo = clamp(start, step < 0 ? n - 1 : 0);
  int64_t hi = clamp(stop, step < 0 ? -1 : n);

  Array items;
  std::string text;
  for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
    if (object.is_array()) items.push_back((*object.array)[static_cast<size_t>(i)]);
    else text += cps[static_cast<size_t>(i)];
  }
  return object.is_array() ? Value::from(std::move(items)) : Value::from(std::move(text));
}

Value get_attribute_path(const Value& object, std::string_view path) {
  Value v = object;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (numeric && v.is_array()) v = get_item(v, Value::from(static_cast<int64_t>(std::stoll(part))));
    else v = v.is_object() ? get_attribute(v, part) : Value::undefined();
    if (dot == std::string_view::npos) return v;
    start = dot + 1;
  }
}

}  // namespace hearth::jinja
