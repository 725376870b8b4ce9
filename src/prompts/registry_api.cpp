#include "prompts/registry_api.h"

#include "prompts/line_diff.h"
#include "prompts/prompt_content.h"

namespace hearth::prompts {

namespace {

using nlohmann::json;

std::string error_type(int status) {
  switch (status) {
    case 400: case 413: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 409: return "conflict_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

ApiReply json_reply(const json& body, int status = 200) {
  ApiReply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

json version_json(const StoredVersion& v) {
  return {{"name", v.name}, {"version", v.version}, {"hash", v.hash}, {"template", v.content.template_text},
          {"variables", variables_to_json(v.content.variables)}, {"hints", v.content.hints},
          {"author", v.author}, {"message", v.message}, {"created_at", v.created_at}};
}

json stage_json(const StageInfo& s) {
  return {{"stage", s.stage}, {"versions", targets_to_json(s.targets)}, {"updated_at", s.updated_at},
          {"updated_by", s.updated_by}, {"rollbacks_available", s.previous_count}};
}

int64_t parse_version(const std::string& text, const char* what) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v > 0) return v;
  } catch (const std::exception&) {
  }
  throw PromptError(400, "invalid_version", std::string(what) + " must be a positive integer, got \"" + text + "\"");
}

json parse_body(const ApiRequest& req) {
  if (req.body.empty()) return json::object();
  try {
    return json::parse(req.body);
  } catch (const json::parse_error& e) {
    throw PromptError(400, "invalid_json", std::string("request body is not valid JSON: ") + e.what());
  }
}

std::string require_stage_name(const std::string& stage) {
  if (!is_valid_stage_name(stage))
    throw PromptError(400, "invalid_stage", "stage \"" + stage + "\" must be 1-64 letters, digits, '-' or '_'");
  return stage;
}

std::vector<StageTarget> targets_from_request(const json& body) {
  std::vector<StageTarget> targets;
  try {
    if (body.contains("versions")) {
      const json& list = body["versions"];
      if (!list.is_array() || list.empty() || list.size() > 16)
        throw PromptError(400, "invalid_request", "\"versions\" must be a list of 1 to 16 {version, weight}");
      for (const json& item : list) {
        StageTarget t{item.at("version").get<int64_t>(), item.value("weight", 1.0)};
        if (!(t.weight > 0) || t.weight > 1e6)
          throw PromptError(400, "invalid_request", "weights must be positive numbers");
        for (const StageTarget& other : targets)
          if (other.version == t.version)
            throw PromptError(400, "invalid_request", "version " + std::to_string(t.version) + " listed twice");
        targets.push_back(t);
      }
    } else if (body.contains("version")) {
      targets.push_back({body["version"].get<int64_t>(), 1.0});
    } else {
      throw PromptError(400, "invalid_request", "body needs {\"version\": N} or {\"versions\": [{version, weight}]}");
    }
  } catch (const json::exception& e) {
    throw PromptError(400, "invalid_request", std::string("bad stage body: ") + e.what());
  }
  return targets;
}

bool etag_matches(const std::string& if_none_match, const std::string& hash) {
  if (if_none_match == "*") return true;
  // A list of quoted (possibly weak) tags.
  size_t pos = 0;
  while ((pos = if_none_match.find(hash, pos)) != std::string::npos) {
    bool starts = pos == 0 || if_none_match[pos - 1] == '"';
    bool ends = pos + hash.size() == if_none_match.size() || if_none_match[pos + hash.size()] == '"';
    if (starts && ends) return true;
    pos += hash.size();
  }
  return false;
}

std::vector<std::string> split_path(const std::string& rest) {
  std::vector<std::string> parts;
  size_t start = rest.empty() ? 0 : 1;  // rest is "" or starts with '/'
  while (start < rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    parts.push_back(rest.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

std::string require_prompt_name(const std::string& name) {
  if (!is_valid_prompt_name(name))
    throw PromptError(400, "invalid_name", "prompt name \"" + name + "\" must be 1-128 letters, digits, '.', '-' or '_'");
  return name;
}

std::string param(const ApiRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? std::string() : it->second;
}

}  // namespace

ApiReply RegistryApi::error_reply(int status, const std::string& code, const std::string& message, const json& detail) {
  json error = {{"message", message}, {"type", error_type(status)}, {"code", code}};
  if (detail.is_object())
    for (const auto& [k, v] : detail.items()) error[k] = v;
  return json_reply(json{{"error", error}}, status);
}

ApiReply RegistryApi::handle(const ApiRequest& req) const {
  try {
    const std::string authorization = req.header ? req.header("Authorization") : std::string();
    auto token = gateway::TokenAuth::bearer_token(authorization);  // a view into `authorization`
    if (!token) return error_reply(401, "missing_token", "send Authorization: Bearer <token>");
    auto who = auth_.authenticate(*token);
    if (!who) return error_reply(401, "invalid_token", "the bearer token is not valid for this registry");
    if (req.method == "POST" && who->rights != gateway::Rights::Write)
      return error_reply(403, "read_only_token", "token \"" + who->name + "\" may read but not write");
    return route(req, *who);
  } catch (const PromptError& e) {
    return error_reply(e.status(), e.code(), e.what(), e.detail());
  } catch (const Error& e) {
    return error_reply(400, "invalid_request", e.what());
  } catch (const std::exception& e) {
    return error_reply(500, "internal_error", e.what());
  }
}

ApiReply RegistryApi::route(const ApiRequest& req, const gateway::TokenIdentity& who) const {
  if (!owns(req.path)) return error_reply(404, "not_found", "no such endpoint");
  const std::vector<std::string> p = split_path(req.path.substr(std::string("/v1/prompts").size()));
  const bool get = req.method == "GET", post = req.method == "POST";
  auto wrong_method = [&] {
    ApiReply r = error_reply(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
    return r;
  };

  if (p.empty()) {  // /v1/prompts
    if (!get) return wrong_method();
    json data = json::array();
    for (const PromptSummary& s : store_.list()) {
      json stages = json::object();
      for (const StageInfo& st : s.stages) stages[st.stage] = targets_to_json(st.targets);
      data.push_back({{"name", s.name}, {"latest_version", s.latest_version}, {"updated_at", s.updated_at},
                      {"stages", stages}});
    }
    return json_reply({{"data", data}});
  }
  const std::string name = require_prompt_name(p[0]);

  if (p.size() == 1) {  // /v1/prompts/{name}
    if (!get) return wrong_method();
    std::string stage;
    int64_t version = 0;
    bool split = false;
    const std::string caller = param(req, "caller");
    if (req.query.count("version")) {
      version = parse_version(param(req, "version"), "version");
    } else if (req.query.count("stage")) {
      stage = require_stage_name(param(req, "stage"));
      StageInfo info = store_.get_stage(name, stage);
      version = choose_version(info.targets, name, stage, caller);
      split = info.targets.size() > 1;
    } else {
      version = store_.history(name).back().version;
    }
    StoredVersion v = store_.get_version(name, version);
    ApiReply r;
    r.headers = {{"ETag", "\"" + v.hash + "\""}, {"X-Prompt-Version", std::to_string(v.version)},
                 {"Cache-Control", "no-cache"}};
    if (req.header && etag_matches(req.header("If-None-Match"), v.hash)) {
      r.status = 304;
      return r;
    }
    json out = version_json(v);
    json resolved = {{"name", name}, {"version", v.version}, {"hash", v.hash},
                     {"stage", stage.empty() ? json(nullptr) : json(stage)}, {"split", split}};
    if (split && !caller.empty()) resolved["caller"] = caller;
    out["resolved"] = resolved;
    r.body = out.dump();
    return r;
  }

  const std::string& what = p[1];
  if (p.size() == 2 && what == "versions") {
    if (post) {
      json body = parse_body(req);
      PromptContent content = content_from_json(body);
      validate_content(content);
      std::string message = body.contains("message") && body["message"].is_string() ? body["message"].get<std::string>() : "";
      std::string author = body.contains("author") && body["author"].is_string() ? body["author"].get<std::string>() : who.name;
      PromptStore::Created created = store_.create_version(name, content, author, message, who.name);
      json out = version_json(created.version);
      out["created"] = created.created;
      ApiReply r = json_reply(out, created.created ? 201 : 200);
      r.headers = {{"ETag", "\"" + created.version.hash + "\""}};
      return r;
    }
    if (!get) return wrong_method();
    json data = json::array();
    for (const StoredVersion& v : store_.history(name)) data.push_back(version_json(v));
    json stages = json::array();
    for (const StageInfo& st : store_.stages(name)) stages.push_back(stage_json(st));
    return json_reply({{"name", name}, {"data", data}, {"stages", stages}});
  }
  if (p.size() == 2 && what == "diff") {
    if (!get) return wrong_method();
    if (!req.query.count("from") || !req.query.count("to"))
      throw PromptError(400, "invalid_request", "diff needs ?from=N&to=M");
    StoredVersion a = store_.get_version(name, parse_version(param(req, "from"), "from"));
    StoredVersion b = store_.get_version(name, parse_version(param(req, "to"), "to"));
    std::string diff = unified_diff(a.content.template_text, b.content.template_text,
                                    name + "@" + std::to_string(a.version), name + "@" + std::to_string(b.version));
    if (req.header && req.header("Accept").find("text/plain") != std::string::npos) {
      ApiReply r;
      r.content_type = "text/plain; charset=utf-8";
      r.body = diff;
      return r;
    }
    return json_reply({{"name", name}, {"from", a.version}, {"to", b.version}, {"diff", diff},
                       {"variables_changed", variables_to_json(a.content.variables) != variables_to_json(b.content.variables)},
                       {"hints_changed", a.content.hints != b.content.hints}});
  }
  if (p.size() == 2 && what == "stages") {
    if (!get) return wrong_method();
    store_.history(name);  // 404 for an unknown prompt
    json data = json::array();
    for (const StageInfo& st : store_.stages(name)) data.push_back(stage_json(st));
    return json_reply({{"name", name}, {"data", data}});
  }
  if (p.size() == 2 && what == "audit") {
    if (!get) return wrong_method();
    json data = json::array();
    for (const AuditEntry& e : store_.audit(name))
      data.push_back({{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                      {"name", e.name}, {"detail", e.detail}});
    return json_reply({{"name", name}, {"data", data}});
  }
  if (p.size() == 3 && what == "stages") {
    if (!post) return wrong_method();
    const std::string stage = require_stage_name(p[2]);
    return json_reply(stage_json(store_.promote(name, stage, targets_from_request(parse_body(req)), who.name)));
  }
  if (p.size() == 4 && what == "stages" && p[3] == "rollback") {
    if (!post) return wrong_method();
    const std::string stage = require_stage_name(p[2]);
    return json_reply(stage_json(store_.rollback(name, stage, who.name)));
  }
  return error_reply(404, "not_found", "no such endpoint");
}

}  // namespace hearth::prompts
