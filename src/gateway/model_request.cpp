#include "gateway/model_request.h"

#include <algorithm>
#include <cmath>

#include "gateway/api_error.h"
#include "prompts/prompt_ref.h"

namespace hearth::gateway {

namespace {

constexpr int64_t kMaxTokensLimit = 1 << 20;
constexpr size_t kMaxStops = 16;
constexpr size_t kMaxInputs = 4096;

const char* json_type(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

[[noreturn]] void bad(const std::string& param, const std::string& message) { throw ApiError(400, message, param); }

// Field readers: each names the field and what it should be when the value does not fit.
class Fields {
 public:
  explicit Fields(const nlohmann::json& body, std::string prefix = {}) : body_(body), prefix_(std::move(prefix)) {}

  const nlohmann::json* get(const std::string& key) {
    known_.push_back(key);
    auto it = body_.find(key);
    if (it == body_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string name(const std::string& key) const { return prefix_ + key; }
  std::optional<std::string> string(const std::string& key) {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) bad(name(key), name(key) + " must be a string, got " + json_type(*v));
    return v->get<std::string>();
  }
  std::optional<bool> boolean(const std::string& key) {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) bad(name(key), name(key) + " must be true or false, got " + json_type(*v));
    return v->get<bool>();
  }
  std::optional<double> number(const std::string& key, double lo, double hi) {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) bad(name(key), name(key) + " must be a number, got " + json_type(*v));
    double d = v->get<double>();
    if (!(d >= lo && d <= hi))
      bad(name(key), name(key) + " must be between " + trim(lo) + " and " + trim(hi));
    return d;
  }
  std::optional<int64_t> integer(const std::string& key, int64_t lo, int64_t hi) {
    const nlohmann::json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) bad(name(key), name(key) + " must be an integer, got " + json_type(*v));
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))
      bad(name(key), name(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    int64_t i = v->get<int64_t>();
    if (i < lo || i > hi)
      bad(name(key), name(key) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return i;
  }
  void reject_unknown() const {
    for (const auto& [key, value] : body_.items()) {
      if (std::find(known_.begin(), known_.end(), key) == known_.end())
        bad(prefix_ + key, "unknown field '" + prefix_ + key + "'");
    }
  }

 private:
  static std::string trim(double d) {
    std::string s = std::to_string(d);
    while (s.size() > 1 && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  const nlohmann::json& body_;
  std::string prefix_;
  std::vector<std::string> known_;
};

std::vector<std::string> read_stop(Fields& f) {
  const nlohmann::json* v = f.get("stop");
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    if (v->size() > kMaxStops) bad("stop", "stop may hold at most " + std::to_string(kMaxStops) + " strings");
    for (const auto& s : *v) {
      if (!s.is_string()) bad("stop", "stop must be a string or an array of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    bad("stop", std::string("stop must be a string or an array of strings, got ") + json_type(*v));
  }
  for (const std::string& s : out)
    if (s.empty()) bad("stop", "stop strings must not be empty");
  return out;
}

// OpenAI's message content: a string, or an array of {type: "text", text} parts.
std::string message_content(const nlohmann::json& m, size_t i) {
  std::string where = "messages[" + std::to_string(i) + "].content";
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) bad(where, where + " must be a string or an array of text parts");
  std::string text;
  for (const auto& part : *it) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      bad(where, where + ": only {\"type\": \"text\", \"text\": \"...\"} parts are supported");
    text += part["text"].get<std::string>();
  }
  return text;
}

nlohmann::json read_messages(Fields& f) {
  const nlohmann::json* v = f.get("messages");
  if (!v) bad("messages", "messages is required");
  if (!v->is_array() || v->empty()) bad("messages", "messages must be a non-empty array of {role, content}");
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& m = (*v)[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(where, where + " must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(where + ".role", where + ".role must be a string");
    static const std::vector<std::string> kRoles = {"system", "developer", "user", "assistant", "tool"};
    std::string r = role->get<std::string>();
    if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end())
      bad(where + ".role", where + ".role must be system, developer, user, assistant or tool");
    for (const auto& [key, value] : m.items())
      if (key != "role" && key != "content" && key != "name")
        bad(where + "." + key, "unsupported field '" + where + "." + key + "'");
    out.push_back({{"role", r == "developer" ? "system" : r}, {"content", message_content(m, i)}});
  }
  return out;
}

std::vector<std::string> read_inputs(Fields& f, const std::string& key) {
  const nlohmann::json* v = f.get(key);
  if (!v) bad(key, key + " is required");
  std::vector<std::string> out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array() && !v->empty()) {
    if (v->size() > kMaxInputs) bad(key, key + " may hold at most " + std::to_string(kMaxInputs) + " strings");
    for (const auto& s : *v) {
      if (!s.is_string()) bad(key, key + " must be a string or an array of strings (token arrays are not supported)");
      out.push_back(s.get<std::string>());
    }
  } else {
    bad(key, key + " must be a string or a non-empty array of strings");
  }
  return out;
}

// OpenAI's sampling fields; a request that sets none keeps the endpoint's defaults.
void read_openai_sampling(Fields& f, RequestOptions& o) {
  SamplingParams s;
  bool any = false;
  if (auto t = f.number("temperature", 0, 2)) s.temperature = float(*t), any = true;
  if (auto p = f.number("top_p", 0, 1)) s.top_p = float(*p), any = true;
  if (auto p = f.number("frequency_penalty", -2, 2)) s.frequency_penalty = float(*p), any = true;
  if (auto p = f.number("presence_penalty", -2, 2)) s.presence_penalty = float(*p), any = true;
  if (auto seed = f.integer("seed", INT64_MIN, INT64_MAX)) s.seed = uint64_t(*seed), any = true;
  if (any) o.sampling = s;
}

void read_hearth_sampling(Fields& f, RequestOptions& o) {
  const nlohmann::json* v = f.get("sampling");
  if (!v) return;
  if (!v->is_object()) bad("sampling", "sampling must be an object");
  Fields sf(*v, "sampling.");
  SamplingParams s;
  if (auto x = sf.number("temperature", 0, 100)) s.temperature = float(*x);
  if (auto x = sf.integer("top_k", 0, 1 << 20)) s.top_k = int32_t(*x);
  if (auto x = sf.number("top_p", 0, 1)) s.top_p = float(*x);
  if (auto x = sf.number("min_p", 0, 1)) s.min_p = float(*x);
  if (auto x = sf.number("repeat_penalty", 0, 100)) s.repeat_penalty = float(*x);
  if (auto x = sf.integer("penalty_last_n", 0, 1 << 20)) s.penalty_last_n = int32_t(*x);
  if (auto x = sf.number("frequency_penalty", -100, 100)) s.frequency_penalty = float(*x);
  if (auto x = sf.number("presence_penalty", -100, 100)) s.presence_penalty = float(*x);
  if (auto x = sf.integer("seed", 0, INT64_MAX)) s.seed = uint64_t(*x);
  sf.reject_unknown();
  o.sampling = s;
}

// hearth's endpoint-specific options: a JSON object passed to a remote endpoint's protocol as it is (local
// endpoints refuse any), which may never restate a typed field.
void read_hearth_options(Fields& f, RequestOptions* o) {
  const nlohmann::json* v = f.get("options");
  if (!v) return;
  if (!v->is_object()) bad("options", "options must be an object");
  static const std::vector<std::string> kTyped = {"target", "model",  "prompt", "prompt_tokens", "messages",
                                                  "inputs", "stream", "max_tokens", "stop", "sampling",
                                                  "context_key", "ignore_eos", "grammar", "json_schema", "variables"};
  for (const auto& [key, value] : v->items()) {
    if (std::find(kTyped.begin(), kTyped.end(), key) != kTyped.end())
      bad("options." + key, "options." + key + " would override the typed field '" + key + "'; set it there instead");
  }
  if (o == nullptr) {
    if (!v->empty()) bad("options", "embed takes no endpoint options");
    return;
  }
  o->endpoint_options = *v;
}

// Finds the prompt:// reference (at most one) in the prompt or the messages, and reads its variables from
// `variables_key`; variables without a reference are an error rather than silently unused.
void read_prompt_ref(Fields& f, ModelRequest& r, const std::string& variables_key) {
  if (operation_of(r.dialect) == Operation::Chat) {
    for (size_t i = 0; i < r.chat.messages.size(); ++i) {
      const std::string& content = r.chat.messages[i]["content"].get_ref<const std::string&>();
      if (!prompts::is_prompt_ref(content)) continue;
      if (!r.prompt_ref.empty())
        bad("messages[" + std::to_string(i) + "].content", "only one message may be a prompt:// reference");
      r.prompt_ref = content;
      r.prompt_message = int(i);
    }
  } else if (prompts::is_prompt_ref(r.query.prompt)) {
    r.prompt_ref = r.query.prompt;
  }
  if (const nlohmann::json* v = f.get(variables_key)) {
    if (!v->is_object()) bad(variables_key, variables_key + " must be an object of template variables");
    if (r.prompt_ref.empty())
      bad(variables_key, variables_key + " was given, but no prompt or message is a prompt://name@stage reference");
    r.prompt_variables = *v;
  }
}

ModelRequest parse_openai(Dialect dialect, const nlohmann::json& body) {
  ModelRequest r;
  r.dialect = dialect;
  Fields f(body);
  auto model = f.string("model");
  if (!model || model->empty()) bad("model", "model is required (the gateway's target name)");
  r.target = *model;
  // OpenAI's end-user id: hearth uses it only as the key an A/B prompt split is decided by.
  r.user = f.string("user").value_or("");
  if (dialect == Dialect::OpenAIEmbedding) {
    r.embed.inputs = read_inputs(f, "input");
    if (auto fmt = f.string("encoding_format")) {
      if (*fmt != "float" && *fmt != "base64") bad("encoding_format", "encoding_format must be \"float\" or \"base64\"");
      r.base64_embeddings = *fmt == "base64";
    }
    if (f.get("dimensions")) bad("dimensions", "dimensions is not supported: hearth returns the model's full width");
    f.reject_unknown();
    return r;
  }
  RequestOptions& o = r.options();
  r.stream = f.boolean("stream").value_or(false);
  if (const nlohmann::json* so = f.get("stream_options")) {
    if (!so->is_object()) bad("stream_options", "stream_options must be an object");
    Fields sf(*so, "stream_options.");
    r.include_usage = sf.boolean("include_usage").value_or(false);
    sf.reject_unknown();
  }
  f.integer("n", 1, 1);  // one choice per request
  o.max_tokens = 16;  // OpenAI's completions default
  if (dialect == Dialect::OpenAIChat) {
    r.chat.messages = read_messages(f);
    o.max_tokens = 256;
    auto a = f.integer("max_tokens", 1, kMaxTokensLimit);
    auto b = f.integer("max_completion_tokens", 1, kMaxTokensLimit);
    if (a && b) bad("max_tokens", "give max_tokens or max_completion_tokens, not both");
    if (a || b) o.max_tokens = int32_t(a ? *a : *b);
  } else {
    const nlohmann::json* p = f.get("prompt");
    if (!p) bad("prompt", "prompt is required");
    if (p->is_string()) r.query.prompt = p->get<std::string>();
    else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) r.query.prompt = (*p)[0].get<std::string>();
    else bad("prompt", "prompt must be a string (one prompt per request)");
    if (auto m = f.integer("max_tokens", 1, kMaxTokensLimit)) o.max_tokens = int32_t(*m);
    if (auto echo = f.boolean("echo"); echo && *echo) bad("echo", "echo is not supported");
  }
  read_prompt_ref(f, r, "prompt_variables");
  o.stop = read_stop(f);
  read_openai_sampling(f, o);
  // response_format: {"type": "json_schema", "json_schema": {"schema": {...}}} or {"type": "json_object"}.
  if (const nlohmann::json* rf = f.get("response_format")) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      bad("response_format", "response_format must be an object with a type");
    std::string type = (*rf)["type"].get<std::string>();
    if (type == "json_schema") {
      auto js = rf->find("json_schema");
      if (js == rf->end() || !js->is_object() || !js->contains("schema") || !(*js)["schema"].is_object())
        bad("response_format.json_schema", "response_format.json_schema.schema must be a JSON Schema object");
      o.json_schema = (*js)["schema"];
    } else if (type == "json_object") {
      o.json_schema = nlohmann::json{{"type", "object"}};
    } else if (type != "text") {
      bad("response_format.type", "response_format.type must be text, json_object or json_schema");
    }
  }
  for (const char* unsupported : {"logprobs", "top_logprobs", "logit_bias", "tools", "tool_choice", "functions",
                                  "function_call", "suffix", "best_of"}) {
    if (f.get(unsupported)) bad(unsupported, std::string(unsupported) + " is not supported by this gateway");
  }
  f.reject_unknown();
  return r;
}

ModelRequest parse_hearth(Dialect dialect, const nlohmann::json& body) {
  ModelRequest r;
  r.dialect = dialect;
  Fields f(body);
  auto target = f.string("target");
  if (!target || target->empty()) bad("target", "target is required");
  r.target = *target;
  if (dialect == Dialect::HearthEmbed) {
    r.embed.inputs = read_inputs(f, "inputs");
    r.embed.normalize = f.boolean("normalize").value_or(true);
    read_hearth_options(f, nullptr);
    f.reject_unknown();
    return r;
  }
  RequestOptions& o = r.options();
  if (dialect == Dialect::HearthChat) {
    r.chat.messages = read_messages(f);
  } else {
    auto prompt = f.string("prompt");
    if (const nlohmann::json* t = f.get("prompt_tokens")) {
      if (!t->is_array()) bad("prompt_tokens", "prompt_tokens must be an array of token ids");
      for (const auto& id : *t) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
          bad("prompt_tokens", "prompt_tokens must hold non-negative integer token ids");
        r.query.prompt_tokens.push_back(TokenId(id.get<int64_t>()));
      }
    }
    if (prompt && !r.query.prompt_tokens.empty()) bad("prompt", "give prompt or prompt_tokens, not both");
    if (!prompt && r.query.prompt_tokens.empty()) bad("prompt", "prompt (or prompt_tokens) is required");
    r.query.prompt = prompt.value_or("");
  }
  read_prompt_ref(f, r, "variables");
  r.user = f.string("user").value_or("");
  r.stream = f.boolean("stream").value_or(false);
  if (auto m = f.integer("max_tokens", 1, kMaxTokensLimit)) o.max_tokens = int32_t(*m);
  o.stop = read_stop(f);
  o.ignore_eos = f.boolean("ignore_eos").value_or(false);
  o.context_key = f.string("context_key").value_or("");
  o.grammar = f.string("grammar").value_or("");
  if (const nlohmann::json* schema = f.get("json_schema")) {
    if (!schema->is_object()) bad("json_schema", "json_schema must be a JSON Schema object");
    o.json_schema = *schema;
  }
  if (!o.grammar.empty() && !o.json_schema.is_null()) bad("grammar", "give grammar or json_schema, not both");
  read_hearth_sampling(f, o);
  read_hearth_options(f, &o);
  f.reject_unknown();
  return r;
}

}  // namespace

Operation operation_of(Dialect d) {
  switch (d) {
    case Dialect::OpenAIChat:
    case Dialect::HearthChat: return Operation::Chat;
    case Dialect::OpenAIEmbedding:
    case Dialect::HearthEmbed: return Operation::Embed;
    default: return Operation::Query;
  }
}

bool is_openai(Dialect d) {
  return d == Dialect::OpenAIChat || d == Dialect::OpenAICompletion || d == Dialect::OpenAIEmbedding;
}

ModelRequest parse_model_request(Dialect dialect, const nlohmann::json& body) {
  return is_openai(dialect) ? parse_openai(dialect, body) : parse_hearth(dialect, body);
}

}  // namespace hearth::gateway
