#include "prompts/prompt_content.h"

#include <regex>

#include "hearth/chat_template.h"
#include "prompts/sha256.h"
#include "prompts/template_names.h"

namespace hearth {

std::string_view prompt_var_type_name(PromptVarType type) {
  switch (type) {
    case PromptVarType::String: return "string";
    case PromptVarType::Integer: return "integer";
    case PromptVarType::Number: return "number";
    case PromptVarType::Boolean: return "boolean";
    case PromptVarType::Array: return "array";
    case PromptVarType::Object: return "object";
  }
  return "?";
}

namespace {

bool matches(const nlohmann::json& v, PromptVarType type) {
  switch (type) {
    case PromptVarType::String: return v.is_string();
    case PromptVarType::Integer: return v.is_number_integer();
    case PromptVarType::Number: return v.is_number();
    case PromptVarType::Boolean: return v.is_boolean();
    case PromptVarType::Array: return v.is_array();
    case PromptVarType::Object: return v.is_object();
  }
  return false;
}

std::string json_kind(const nlohmann::json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  return v.type_name();
}

}  // namespace

nlohmann::json bind_prompt_variables(const std::vector<PromptVariable>& declared, const nlohmann::json& given) {
  if (!given.is_null() && !given.is_object()) throw Error("prompt variables must be a JSON object");
  nlohmann::json context = nlohmann::json::object();
  if (given.is_object()) {
    for (const auto& [name, value] : given.items()) {
      auto it = std::find_if(declared.begin(), declared.end(), [&](const PromptVariable& d) { return d.name == name; });
      if (it == declared.end()) throw Error("prompt variable \"" + name + "\" is not declared by the prompt");
      if (!matches(value, it->type))
        throw Error("prompt variable \"" + name + "\" must be " + std::string(prompt_var_type_name(it->type)) +
                    ", got " + json_kind(value));
      context[name] = value;
    }
  }
  for (const PromptVariable& d : declared) {
    if (context.contains(d.name)) continue;
    if (!d.default_value) throw Error("prompt variable \"" + d.name + "\" is required and has no default");
    context[d.name] = *d.default_value;
  }
  return context;
}

namespace prompts {

namespace {

std::optional<PromptVarType> parse_type(std::string_view s) {
  for (PromptVarType t : {PromptVarType::String, PromptVarType::Integer, PromptVarType::Number,
                          PromptVarType::Boolean, PromptVarType::Array, PromptVarType::Object})
    if (prompt_var_type_name(t) == s) return t;
  return std::nullopt;
}

PromptError invalid(const std::string& code, const std::string& message) { return PromptError(400, code, message); }

nlohmann::json sample_value(PromptVarType type) {
  switch (type) {
    case PromptVarType::String: return "sample";
    case PromptVarType::Integer: return 1;
    case PromptVarType::Number: return 1.5;
    case PromptVarType::Boolean: return true;
    case PromptVarType::Array: return nlohmann::json::array();
    case PromptVarType::Object: return nlohmann::json::object();
  }
  return nullptr;
}

// "template 3:14: message" -> {"line": 3, "column": 14}
nlohmann::json position_of(const std::string& message) {
  static const std::regex kPos(R"(template (\d+):(\d+):)");
  std::smatch m;
  if (!std::regex_search(message, m, kPos)) return nullptr;
  return {{"line", std::stoi(m[1].str())}, {"column", std::stoi(m[2].str())}};
}

}  // namespace

bool is_valid_prompt_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return name != "." && name != "..";
}

bool is_valid_stage_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

std::vector<PromptVariable> variables_from_json(const nlohmann::json& j) {
  std::vector<PromptVariable> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw invalid("invalid_variables", "variables must be an object of {name: {type, default}}");
  for (const auto& [name, declared] : j.items()) {
    static const std::regex kIdent("[A-Za-z_][A-Za-z0-9_]*");
    if (!std::regex_match(name, kIdent))
      throw invalid("invalid_variables", "variable name \"" + name + "\" is not an identifier");
    PromptVariable v;
    v.name = name;
    // shorthand: {"user": "string"}
    nlohmann::json spec = declared.is_string() ? nlohmann::json{{"type", declared}} : declared;
    if (!spec.is_object()) throw invalid("invalid_variables", "variable \"" + name + "\" must be an object");
    std::string type = spec.value("type", std::string("string"));
    auto parsed = parse_type(type);
    if (!parsed)
      throw invalid("invalid_variables", "variable \"" + name + "\" has unknown type \"" + type +
                                             "\" (string, integer, number, boolean, array, object)");
    v.type = *parsed;
    if (spec.contains("default")) {
      const nlohmann::json& d = spec["default"];
      if (!matches(d, v.type))
        throw invalid("ill_typed_variable", "variable \"" + name + "\" is declared " + type +
                                                " but its default is " + json_kind(d));
      v.default_value = d;
    }
    if (spec.contains("description")) {
      if (!spec["description"].is_string())
        throw invalid("invalid_variables", "variable \"" + name + "\": description must be a string");
      v.description = spec["description"].get<std::string>();
    }
    for (const auto& [key, value] : spec.items())
      if (key != "type" && key != "default" && key != "description")
        throw invalid("invalid_variables", "variable \"" + name + "\": unknown field \"" + key + "\"");
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::json variables_to_json(const std::vector<PromptVariable>& variables) {
  nlohmann::json j = nlohmann::json::object();
  for (const PromptVariable& v : variables) {
    nlohmann::json spec = {{"type", prompt_var_type_name(v.type)}};
    if (v.default_value) spec["default"] = *v.default_value;
    if (!v.description.empty()) spec["description"] = v.description;
    j[v.name] = std::move(spec);
  }
  return j;
}

PromptContent content_from_json(const nlohmann::json& body) {
  if (!body.is_object()) throw invalid("invalid_request", "request body must be a JSON object");
  if (!body.contains("template") || !body["template"].is_string())
    throw invalid("invalid_request", "\"template\" (string) is required");
  PromptContent c;
  c.template_text = body["template"].get<std::string>();
  c.variables = variables_from_json(body.value("variables", nlohmann::json()));
  if (body.contains("hints")) {
    if (!body["hints"].is_object()) throw invalid("invalid_request", "\"hints\" must be an object");
    c.hints = body["hints"];
  }
  return c;
}

nlohmann::json content_to_json(const PromptContent& content) {
  return {{"template", content.template_text}, {"variables", variables_to_json(content.variables)},
          {"hints", content.hints}};
}

std::string content_hash(const PromptContent& content) { return sha256_hex(content_to_json(content).dump()); }

void validate_content(const PromptContent& content) {
  std::optional<JinjaTemplate> parsed;
  try {
    parsed.emplace(content.template_text);
  } catch (const Error& e) {
    throw PromptError(400, "template_syntax", e.what(), position_of(e.what()));
  }
  std::set<std::string> free = template_free_names(content.template_text);
  std::string undeclared;
  for (const std::string& name : free) {
    bool declared = std::any_of(content.variables.begin(), content.variables.end(),
                                [&](const PromptVariable& v) { return v.name == name; });
    if (!declared) undeclared += (undeclared.empty() ? "" : ", ") + name;
  }
  if (!undeclared.empty())
    throw PromptError(400, "undeclared_variable",
                      "template uses undeclared variable(s): " + undeclared + " (declare them under variables)",
                      {{"variables", undeclared}});
  nlohmann::json sample = nlohmann::json::object();
  for (const PromptVariable& v : content.variables) sample[v.name] = v.default_value.value_or(sample_value(v.type));
  try {
    parsed->render(sample);
  } catch (const Error& e) {
    throw PromptError(400, "ill_typed_variable",
                      std::string("template fails to render with values of the declared types: ") + e.what(),
                      position_of(e.what()));
  }
}

}  // namespace prompts
}  // namespace hearth
