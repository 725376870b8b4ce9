// JSON schema -> GBNF. Every value rule ends in `space`, a bounded run of whitespace, so a model can never
// loop on whitespace. Keywords that would need checks a context-free grammar cannot make cheaply (numeric
// bounds, uniqueItems, not, ...) are refused with the schema location rather than silently ignored, so an
// accepted schema means every generated output validates.
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "grammar/grammar.h"
#include "grammar/gbnf_text.h"
#include "grammar/schema_pattern.h"
#include "hearth/error.h"

namespace hearth {

using nlohmann::json;

namespace {

// The standard rules, added to the output only when used.
const std::map<std::string, std::string>& primitive_rules() {
  static const std::map<std::string, std::string> rules = {
      {"space", R"(| " " | "\n" [ \t]{0,20})"},
      {"boolean", R"(("true" | "false") space)"},
      {"null", R"("null" space)"},
      {"integral-part", R"([0] | [1-9] [0-9]{0,15})"},
      {"integer", R"("-"? integral-part space)"},
      // Exponents of at most two digits keep every number finite as a double (1e999 parses as Infinity,
      // which validators reject).
      {"number", R"("-"? integral-part ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})? space)"},
      // A JSON string character: anything but quote, backslash and control characters, or an escape
      // (\u escapes exclude surrogates so each counts as one character, as validators count).
      {"char", R"([^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})))"},
      {"string", R"("\"" char* "\"" space)"},
      {"value", R"(object | array | string | number | boolean | null)"},
      {"member", R"(string ":" space value)"},
      {"object", R"("{" space (member ("," space member)*)? "}" space)"},
      {"array", R"("[" space (value ("," space value)*)? "]" space)"},
      {"key-char", R"([^"\\\x00-\x1F])"},
      {"date", R"([0-9]{4} "-" ("0" [13578] "-" day-31 | "1" [02] "-" day-31 | "0" [469] "-" day-30 | "11-" day-30 | "02-" day-28))"},
      {"day-31", R"("0" [1-9] | [12] [0-9] | "3" [01])"},
      {"day-30", R"("0" [1-9] | [12] [0-9] | "30")"},
      {"day-28", R"("0" [1-9] | "1" [0-9] | "2" [0-8])"},
      {"time", R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))"},
      {"date-time", R"(date "T" time)"},
      {"uuid", R"([0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12})"},
  };
  return rules;
}

// What each primitive rule refers to, so using one pulls in the rest.
const std::map<std::string, std::vector<std::string>>& primitive_deps() {
  static const std::map<std::string, std::vector<std::string>> deps = {
      {"boolean", {"space"}},
      {"null", {"space"}},
      {"integer", {"integral-part", "space"}},
      {"number", {"integral-part", "space"}},
      {"string", {"char", "space"}},
      {"value", {"object", "array", "string", "number", "boolean", "null"}},
      {"member", {"string", "space", "value"}},
      {"object", {"member", "space"}},
      {"array", {"value", "space"}},
      {"date", {"day-31", "day-30", "day-28"}},
      {"date-time", {"date", "time"}},
  };
  return deps;
}

const std::set<std::string>& annotation_keywords() {
  static const std::set<std::string> k = {"$schema", "$id", "$comment", "$defs", "definitions", "title", "description",
                                          "default", "examples", "deprecated", "readOnly", "writeOnly",
                                          "contentMediaType", "contentEncoding", "$anchor"};
  return k;
}

const std::set<std::string>& supported_keywords() {
  static const std::set<std::string> k = {"type", "properties", "required", "additionalProperties", "items",
                                          "prefixItems", "minItems", "maxItems", "enum", "const", "anyOf", "oneOf",
                                          "allOf", "$ref", "minLength", "maxLength", "pattern", "format"};
  return k;
}

class Converter {
 public:
  explicit Converter(const json& root) : root_(root) {}

  std::string run() {
    const std::string body = visit(root_, "#");
    std::string out = "root ::= " + body + "\n";
    for (const auto& [name, rule] : rules_) out += name + " ::= " + rule + "\n";
    for (const auto& name : used_primitives_) out += name + " ::= " + primitive_rules().at(name) + "\n";
    return out;
  }

 private:
  const json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> taken_names_;
  std::map<std::string, std::string> ref_rules_;   // "$ref" string -> rule name
  std::set<std::string> used_primitives_;

  [[noreturn]] static void fail(const std::string& path, const std::string& message) {
    throw Error(fmt::format("JSON schema at {}: {}", path, message));
  }

  static uint64_t non_negative_integer(const json& v, const char* key, const std::string& path) {
    // 3 and 3.0 are the same number in JSON.
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<uint64_t>();
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_float() && v.get<double>() >= 0 && v.get<double>() < 1e15 && v.get<double>() == double(uint64_t(v.get<double>())))
      return uint64_t(v.get<double>());
    fail(path, fmt::format("{} must be a non-negative integer", key));
  }

  std::string use(const std::string& primitive) {
    if (used_primitives_.insert(primitive).second) {
      auto deps = primitive_deps().find(primitive);
      if (deps != primitive_deps().end())
        for (const auto& d : deps->second) use(d);
    }
    return primitive;
  }

  std::string fresh_name(const std::string& hint) {
    std::string base;
    for (char c : hint) base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
    if (base.empty()) base = "rule";
    base = "s-" + base;   // never collides with the primitives
    std::string name = base;
    for (int i = 2; !taken_names_.insert(name).second; i++) name = fmt::format("{}-{}", base, i);
    return name;
  }

  std::string add_rule(const std::string& hint, const std::string& body) {
    std::string name = fresh_name(hint);
    rules_.emplace_back(name, body);
    return name;
  }

  const json& resolve(const std::string& ref, const std::string& path) const {
    if (ref.empty() || ref[0] != '#')
      fail(path, fmt::format("$ref '{}' is not supported: only references inside this schema (#/...)", ref));
    try {
      return root_.at(json::json_pointer(ref.substr(1)));
    } catch (const json::exception&) {
      fail(path, fmt::format("$ref '{}' points to nothing", ref));
    }
  }

  std::string ref_rule(const std::string& ref, const std::string& path) {
    auto it = ref_rules_.find(ref);
    if (it != ref_rules_.end()) return it->second;
    const json& target = resolve(ref, path);
    // Name the rule before visiting its schema, so recursive schemas refer to it.
    const std::string name = fresh_name(ref.substr(ref.find_last_of('/') + 1));
    ref_rules_[ref] = name;
    const size_t slot = rules_.size();
    rules_.emplace_back(name, "");
    const std::string body = visit(target, ref);
    rules_[slot].second = body;
    return name;
  }

  std::string visit(const json& schema, const std::string& path) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) fail(path, "the schema `false` accepts nothing");
      return use("value");
    }
    if (!schema.is_object()) fail(path, "a schema must be an object or a boolean");
    for (const auto& [key, unused] : schema.items())
      if (!supported_keywords().count(key) && !annotation_keywords().count(key))
        fail(path, fmt::format("keyword '{}' is not supported by the grammar converter", key));

    if (schema.contains("$ref")) return ref_rule(schema["$ref"].get<std::string>(), path);
    if (schema.contains("const")) return literal(schema["const"]);
    if (schema.contains("enum")) {
      const json& values = schema["enum"];
      if (!values.is_array() || values.empty()) fail(path, "enum must be a non-empty array");
      std::string alts;
      for (const auto& v : values) alts += (alts.empty() ? "" : " | ") + literal(v);
      return "(" + alts + ")";
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      const json& subs = schema[key];
      if (!subs.is_array() || subs.empty()) fail(path, fmt::format("{} must be a non-empty array", key));
      std::string alts;
      for (size_t i = 0; i < subs.size(); i++)
        alts += (alts.empty() ? "" : " | ") + visit(subs[i], fmt::format("{}/{}/{}", path, key, i));
      return "(" + alts + ")";
    }
    if (schema.contains("allOf")) return visit(merge_all_of(schema, path), path);

    if (schema.contains("type") && schema["type"].is_array()) {
      std::string alts;
      for (const auto& t : schema["type"]) {
        json single = schema;
        single["type"] = t;
        alts += (alts.empty() ? "" : " | ") + visit(single, path);
      }
      if (alts.empty()) fail(path, "type is an empty list");
      return "(" + alts + ")";
    }
    std::string type;
    if (schema.contains("type")) {
      if (!schema["type"].is_string()) fail(path, "type must be a string or a list of strings");
      type = schema["type"].get<std::string>();
    } else if (schema.contains("properties") || schema.contains("additionalProperties") || schema.contains("required")) {
      type = "object";
    } else if (schema.contains("items") || schema.contains("prefixItems") || schema.contains("minItems") ||
               schema.contains("maxItems")) {
      type = "array";
    } else if (schema.contains("pattern") || schema.contains("minLength") || schema.contains("maxLength") ||
               schema.contains("format")) {
      type = "string";
    } else {
      return use("value");
    }
    if (type == "object") return object(schema, path);
    if (type == "array") return array(schema, path);
    if (type == "string") return string(schema, path);
    if (type == "number") return use("number");
    if (type == "integer") return use("integer");
    if (type == "boolean") return use("boolean");
    if (type == "null") return use("null");
    fail(path, fmt::format("unknown type '{}'", type));
  }

  // A JSON value written exactly as nlohmann dumps it, as a GBNF literal.
  std::string literal(const json& value) {
    use("space");
    return gbnf_literal(value.dump()) + " space";
  }

  json merge_all_of(const json& schema, const std::string& path) {
    json merged = schema;
    merged.erase("allOf");
    const json& parts = schema["allOf"];
    if (!parts.is_array() || parts.empty()) fail(path, "allOf must be a non-empty array");
    for (size_t i = 0; i < parts.size(); i++) {
      const std::string part_path = fmt::format("{}/allOf/{}", path, i);
      json part = parts[i];
      while (part.is_object() && part.contains("$ref")) part = resolve(part["$ref"].get<std::string>(), part_path);
      if (part.is_object() && part.contains("allOf")) part = merge_all_of(part, part_path);
      if (!part.is_object()) fail(part_path, "allOf parts must be schemas (objects)");
      for (const auto& [key, v] : part.items()) {
        if (key == "properties") {
          for (const auto& [name, s] : v.items()) {
            if (merged["properties"].contains(name) && merged["properties"][name] != s)
              fail(part_path, fmt::format("allOf gives property '{}' two different schemas", name));
            merged["properties"][name] = s;
          }
        } else if (key == "required") {
          std::set<std::string> names;
          if (merged.contains("required"))
            for (const auto& n : merged["required"]) names.insert(n.get<std::string>());
          for (const auto& n : v) names.insert(n.get<std::string>());
          merged["required"] = names;
        } else if (key == "additionalProperties") {
          // Only `false` (or its absence) combines soundly: extra keys must be allowed by every part.
          if (!v.is_boolean() || v.get<bool>()) continue;
          merged["additionalProperties"] = false;
        } else if (annotation_keywords().count(key)) {
          continue;
        } else if (!merged.contains(key)) {
          merged[key] = v;
        } else if (merged[key] != v) {
          fail(part_path, fmt::format("allOf parts disagree on '{}'; only objects with distinct constraints merge", key));
        }
      }
    }
    return merged;
  }

  std::string object(const json& schema, const std::string& path) {
    use("space");
    static const json empty_object = json::object();
    const json& props = schema.contains("properties") ? schema["properties"] : empty_object;
    if (!props.is_object()) fail(path, "properties must be an object");
    std::set<std::string> required;
    if (schema.contains("required")) {
      if (!schema["required"].is_array()) fail(path, "required must be an array of names");
      for (const auto& n : schema["required"]) required.insert(n.get<std::string>());
    }
    // Extra keys: `additionalProperties` as given; when absent, only a schema without `properties` allows
    // them (declared properties are all a model should produce).
    json extra = schema.contains("additionalProperties") ? schema["additionalProperties"] : json(props.empty());
    if (props.empty() && required.empty() && (extra.is_boolean() && extra.get<bool>())) return use("object");

    struct Member {
      std::string rule;
      bool required;
    };
    std::vector<Member> members;
    std::set<std::string> declared;
    auto add_member = [&](const std::string& name, const json& value_schema, bool is_required) {
      const std::string value = visit(value_schema, path + "/properties/" + name);
      const std::string body = gbnf_literal(json(name).dump()) + " space \":\" space " + value;
      members.push_back({add_rule(name + "-kv", body), is_required});
      declared.insert(name);
    };
    // Required members first, then optional ones, so the grammar stays small and unambiguous.
    for (const auto& [name, s] : props.items())
      if (required.count(name)) add_member(name, s, true);
    for (const auto& name : required)
      if (!props.contains(name)) {
        if (extra.is_boolean() && !extra.get<bool>())
          fail(path, fmt::format("'{}' is required but additionalProperties is false and it has no schema", name));
        add_member(name, extra.is_boolean() ? json(true) : extra, true);
      }
    for (const auto& [name, s] : props.items())
      if (!required.count(name)) add_member(name, s, false);

    std::string extra_member;
    if (!(extra.is_boolean() && !extra.get<bool>())) {
      const std::string value = visit(extra, path + "/additionalProperties");
      extra_member = add_rule("additional-kv", "\"\\\"\" " + key_not_in(declared) + " space \":\" space " + value);
    }
    // rest(i): members i.. after at least one was written (each behind a comma).
    auto rest = [&](size_t i) {
      std::string out;
      for (size_t k = i; k < members.size(); k++)
        out += members[k].required ? " \",\" space " + members[k].rule : " (\",\" space " + members[k].rule + ")?";
      if (!extra_member.empty()) out += " (\",\" space " + extra_member + ")*";
      return out;
    };
    // first(i): members i.. when none was written yet.
    std::function<std::string(size_t)> first = [&](size_t i) -> std::string {
      if (i == members.size())
        return extra_member.empty() ? "" : "(" + extra_member + " (\",\" space " + extra_member + ")*)?";
      if (members[i].required) return members[i].rule + rest(i + 1);
      return "(" + members[i].rule + rest(i + 1) + " | " + first(i + 1) + ")";
    };
    return "\"{\" space " + first(0) + " \"}\" space";
  }

  // A JSON object key (after its opening quote, through its closing quote) that is none of `names`. Keys
  // use unescaped characters only, so no escape can spell a declared name.
  std::string key_not_in(const std::set<std::string>& names) {
    use("key-char");
    struct TrieNode {
      std::map<uint32_t, size_t> children;
      bool terminal = false;
    };
    std::vector<TrieNode> trie(1);
    for (const auto& name : names) {
      size_t node = 0;
      for (uint32_t cp : decode_utf8(name)) {
        auto it = trie[node].children.find(cp);
        if (it == trie[node].children.end()) {
          trie.push_back({});
          it = trie[node].children.emplace(cp, trie.size() - 1).first;
        }
        node = it->second;
      }
      trie[node].terminal = true;
    }
    std::function<std::string(size_t)> build = [&](size_t node) -> std::string {
      std::vector<std::string> alts;
      if (!trie[node].terminal) alts.push_back("\"\\\"\"");
      std::string others = "[^\"\\\\\\x00-\\x1F";
      for (const auto& [cp, child] : trie[node].children) others += gbnf_class_char(cp);
      alts.push_back(others + "] key-char* \"\\\"\"");
      for (const auto& [cp, child] : trie[node].children) {
        if (cp < 0x20 || cp == '"' || cp == '\\') continue;   // such names need escapes: never equal
        alts.push_back(gbnf_literal_chars({cp}) + " " + build(child));
      }
      std::string body;
      for (const auto& a : alts) body += (body.empty() ? "" : " | ") + a;
      return add_rule("key", body);
    };
    return build(0);
  }

  std::string array(const json& schema, const std::string& path) {
    use("space");
    auto count = [&](const char* key, uint64_t fallback) -> uint64_t {
      if (!schema.contains(key)) return fallback;
      return non_negative_integer(schema[key], key, path);
    };
    constexpr uint64_t kUnbounded = ~uint64_t(0);
    const uint64_t min = count("minItems", 0), max = count("maxItems", kUnbounded);
    if (max < min) fail(path, "maxItems is below minItems");
    std::vector<std::string> prefix;
    if (schema.contains("prefixItems")) {
      const json& p = schema["prefixItems"];
      if (!p.is_array()) fail(path, "prefixItems must be an array");
      for (size_t i = 0; i < p.size(); i++) prefix.push_back(visit(p[i], fmt::format("{}/prefixItems/{}", path, i)));
    }
    std::string extra;   // empty: no items beyond the prefix
    if (!schema.contains("items") || !schema["items"].is_boolean() || schema["items"].get<bool>()) {
      extra = schema.contains("items") ? visit(schema["items"], path + "/items") : use("value");
      if (schema.contains("items") && schema["items"].is_array()) fail(path, "items as an array: use prefixItems");
    }
    const uint64_t limit = extra.empty() ? std::min<uint64_t>(max, prefix.size()) : max;
    if (limit < min) fail(path, "minItems needs more items than prefixItems and items allow");
    if (!extra.empty() && extra.find(' ') != std::string::npos) extra = add_rule("item", extra);

    auto item = [&](uint64_t k) { return k < prefix.size() ? prefix[size_t(k)] : extra; };
    auto sep = [](uint64_t k) { return std::string(k == 0 ? "" : "\",\" space "); };
    auto upto = [&](uint64_t n) { return limit == kUnbounded ? std::string("*") : fmt::format("{{0,{}}}", n); };
    // tail(k): items k.. given k were written.
    std::function<std::string(uint64_t)> tail = [&](uint64_t k) -> std::string {
      if (k >= limit) return "";
      if (k >= prefix.size()) {
        // Only the repeated item is left: the required copies, then a bounded or unbounded repetition.
        std::string out;
        if (k < min) {
          if (k == 0) out += " " + extra;
          const uint64_t more = min - std::max<uint64_t>(k, 1);
          if (more > 0) out += fmt::format(" (\",\" space {}){{{}}}", extra, more);
          k = min;
        }
        if (k >= limit) return out;
        if (k == 0) return " (" + extra + " (\",\" space " + extra + ")" + upto(limit - 1) + ")?";
        return out + " (\",\" space " + extra + ")" + upto(limit - k);
      }
      if (k < min) return " " + sep(k) + item(k) + tail(k + 1);
      return " (" + sep(k) + item(k) + tail(k + 1) + ")?";
    };
    return "\"[\" space" + tail(0) + " \"]\" space";
  }

  std::string string(const json& schema, const std::string& path) {
    use("space");
    if (schema.contains("format")) {
      const std::string f = schema["format"].get<std::string>();
      if (f != "date" && f != "time" && f != "date-time" && f != "uuid")
        fail(path, fmt::format("format '{}' is not supported (date, time, date-time, uuid are)", f));
      if (schema.contains("pattern") || schema.contains("minLength") || schema.contains("maxLength"))
        fail(path, "format cannot be combined with pattern/minLength/maxLength here");
      return "\"\\\"\" " + use(f) + " \"\\\"\" space";
    }
    if (schema.contains("pattern")) {
      if (schema.contains("minLength") || schema.contains("maxLength"))
        fail(path, "pattern cannot be combined with minLength/maxLength here");
      try {
        return "\"\\\"\" " + add_rule("pattern", schema_pattern_to_gbnf(schema["pattern"].get<std::string>())) +
               " \"\\\"\" space";
      } catch (const Error& e) {
        fail(path, e.what());
      }
    }
    if (!schema.contains("minLength") && !schema.contains("maxLength")) return use("string");
    use("char");
    auto length = [&](const char* key) { return non_negative_integer(schema[key], key, path); };
    const uint64_t min = schema.contains("minLength") ? length("minLength") : 0;
    if (schema.contains("maxLength")) {
      const uint64_t max = length("maxLength");
      if (max < min) fail(path, "maxLength is below minLength");
      return fmt::format("\"\\\"\" char{{{},{}}} \"\\\"\" space", min, max);
    }
    return fmt::format("\"\\\"\" char{{{},}} \"\\\"\" space", min);
  }
};

}  // namespace

std::string Grammar::json_schema_to_gbnf(const json& schema) { return Converter(schema).run(); }

std::shared_ptr<const Grammar> Grammar::from_json_schema(const json& schema) {
  std::string gbnf;
  try {
    gbnf = json_schema_to_gbnf(schema);
  } catch (const json::exception& e) {
    throw Error(fmt::format("JSON schema: {}", e.what()));
  }
  try {
    return parse_gbnf(gbnf);
  } catch (const Error& e) {
    // A recursive schema without a base case (or a bug here): show the generated grammar's complaint.
    throw Error(fmt::format("JSON schema: the derived grammar is invalid: {}", e.what()));
  }
}

}  // namespace hearth
