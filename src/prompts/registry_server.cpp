#include "prompts/registry_server.h"

#include <chrono>
#include <cstdio>

#include <httplib.h>

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

void send_error(httplib::Response& res, int status, const std::string& code, const std::string& message,
                const json& detail = nullptr) {
  json error = {{"message", message}, {"type", error_type(status)}, {"code", code}};
  if (detail.is_object())
    for (const auto& [k, v] : detail.items()) error[k] = v;
  res.status = status;
  res.set_content(json{{"error", error}}.dump(), "application/json");
}

void send_json(httplib::Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
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

json parse_body(const httplib::Request& req) {
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

}  // namespace

RegistryServer::RegistryServer(PromptStore& store, gateway::TokenAuth auth, RegistryServerOptions options)
    : store_(store), auth_(std::move(auth)), options_(options), server_(std::make_unique<httplib::Server>()) {
  add_routes();
}

RegistryServer::~RegistryServer() { stop(); }

int RegistryServer::bind(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (address in use?)");
  return bound;
}

void RegistryServer::run() { server_->listen_after_bind(); }

void RegistryServer::start() {
  thread_ = std::thread([this] { run(); });
  // stop() is a no-op until the accept loop runs; wait for it so a quick stop() cannot be lost.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void RegistryServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void RegistryServer::add_routes() {
  using httplib::Request;
  using httplib::Response;
  httplib::Server& s = *server_;
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_tcp_nodelay(true);  // small JSON answers: don't wait on Nagle + delayed ACK
  s.set_keep_alive_max_count(1000);
  s.set_keep_alive_timeout(2);  // idle connections; also bounds how long stop() waits for them
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);

  s.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) send_error(res, 413, "body_too_large", "request body is larger than the registry accepts");
    else if (res.status == 404) send_error(res, 404, "not_found", "no such endpoint");
    else send_error(res, res.status, "http_error", "request failed with HTTP " + std::to_string(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      send_error(res, 500, "internal_error", e.what());
    } catch (...) {
      send_error(res, 500, "internal_error", "unknown error");
    }
  });
  if (options_.log_requests)
    s.set_logger([](const Request& req, const Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });

  // Wraps a handler with authentication, the rights check and the mapping of errors to JSON.
  using Handler = std::function<void(const Request&, Response&, const gateway::TokenIdentity&)>;
  auto guarded = [this](gateway::Rights needed, Handler handler) {
    return [this, needed, handler](const Request& req, Response& res) {
      const std::string header = req.get_header_value("Authorization");
      auto token = gateway::TokenAuth::bearer_token(header);
      if (!token) return send_error(res, 401, "missing_token", "send Authorization: Bearer <token>");
      auto who = auth_.authenticate(*token);
      if (!who) return send_error(res, 401, "invalid_token", "the bearer token is not valid for this registry");
      if (needed == gateway::Rights::Write && who->rights != gateway::Rights::Write)
        return send_error(res, 403, "read_only_token", "token \"" + who->name + "\" may read but not write");
      try {
        handler(req, res, *who);
      } catch (const PromptError& e) {
        send_error(res, e.status(), e.code(), e.what(), e.detail());
      } catch (const Error& e) {
        send_error(res, 400, "invalid_request", e.what());
      }
    };
  };
  auto prompt_name = [](const Request& req) {
    std::string name = req.matches[1];
    if (!is_valid_prompt_name(name))
      throw PromptError(400, "invalid_name", "prompt name \"" + name + "\" must be 1-128 letters, digits, '.', '-' or '_'");
    return name;
  };
  const std::string kName = "([^/]+)";
  const std::string kStage = "([^/]+)";

  s.Get("/v1/prompts", guarded(gateway::Rights::Read, [this](const Request&, Response& res, const auto&) {
    json data = json::array();
    for (const PromptSummary& p : store_.list()) {
      json stages = json::object();
      for (const StageInfo& st : p.stages) stages[st.stage] = targets_to_json(st.targets);
      data.push_back({{"name", p.name}, {"latest_version", p.latest_version}, {"updated_at", p.updated_at},
                      {"stages", stages}});
    }
    send_json(res, {{"data", data}});
  }));

  s.Post("/v1/prompts/" + kName + "/versions",
         guarded(gateway::Rights::Write, [this, prompt_name](const Request& req, Response& res, const auto& who) {
           std::string name = prompt_name(req);
           json body = parse_body(req);
           PromptContent content = content_from_json(body);
           validate_content(content);
           std::string message = body.contains("message") && body["message"].is_string() ? body["message"].get<std::string>() : "";
           std::string author = body.contains("author") && body["author"].is_string() ? body["author"].get<std::string>() : who.name;
           PromptStore::Created created = store_.create_version(name, content, author, message, who.name);
           json out = version_json(created.version);
           out["created"] = created.created;
           res.set_header("ETag", "\"" + created.version.hash + "\"");
           send_json(res, out, created.created ? 201 : 200);
         }));

  s.Get("/v1/prompts/" + kName + "/versions",
        guarded(gateway::Rights::Read, [this, prompt_name](const Request& req, Response& res, const auto&) {
          std::string name = prompt_name(req);
          json data = json::array();
          for (const StoredVersion& v : store_.history(name)) data.push_back(version_json(v));
          json stages = json::array();
          for (const StageInfo& st : store_.stages(name)) stages.push_back(stage_json(st));
          send_json(res, {{"name", name}, {"data", data}, {"stages", stages}});
        }));

  s.Get("/v1/prompts/" + kName,
        guarded(gateway::Rights::Read, [this, prompt_name](const Request& req, Response& res, const auto&) {
          std::string name = prompt_name(req);
          std::string stage;
          int64_t version = 0;
          bool split = false;
          std::string caller = req.get_param_value("caller");
          if (req.has_param("version")) {
            version = parse_version(req.get_param_value("version"), "version");
          } else if (req.has_param("stage")) {
            stage = require_stage_name(req.get_param_value("stage"));
            StageInfo info = store_.get_stage(name, stage);
            version = choose_version(info.targets, name, stage, caller);
            split = info.targets.size() > 1;
          } else {
            std::vector<StoredVersion> all = store_.history(name);
            version = all.back().version;
          }
          StoredVersion v = store_.get_version(name, version);
          res.set_header("ETag", "\"" + v.hash + "\"");
          res.set_header("X-Prompt-Version", std::to_string(v.version));
          res.set_header("Cache-Control", "no-cache");
          if (etag_matches(req.get_header_value("If-None-Match"), v.hash)) {
            res.status = 304;
            return;
          }
          json out = version_json(v);
          json resolved = {{"name", name}, {"version", v.version}, {"hash", v.hash},
                           {"stage", stage.empty() ? json(nullptr) : json(stage)}, {"split", split}};
          if (split && !caller.empty()) resolved["caller"] = caller;
          out["resolved"] = resolved;
          send_json(res, out);
        }));

  s.Get("/v1/prompts/" + kName + "/diff",
        guarded(gateway::Rights::Read, [this, prompt_name](const Request& req, Response& res, const auto&) {
          std::string name = prompt_name(req);
          if (!req.has_param("from") || !req.has_param("to"))
            throw PromptError(400, "invalid_request", "diff needs ?from=N&to=M");
          StoredVersion a = store_.get_version(name, parse_version(req.get_param_value("from"), "from"));
          StoredVersion b = store_.get_version(name, parse_version(req.get_param_value("to"), "to"));
          std::string diff = unified_diff(a.content.template_text, b.content.template_text,
                                          name + "@" + std::to_string(a.version), name + "@" + std::to_string(b.version));
          json out = {{"name", name}, {"from", a.version}, {"to", b.version}, {"diff", diff},
                      {"variables_changed", variables_to_json(a.content.variables) != variables_to_json(b.content.variables)},
                      {"hints_changed", a.content.hints != b.content.hints}};
          if (req.get_header_value("Accept").find("text/plain") != std::string::npos)
            res.set_content(diff, "text/plain; charset=utf-8");
          else
            send_json(res, out);
        }));

  s.Get("/v1/prompts/" + kName + "/stages",
        guarded(gateway::Rights::Read, [this, prompt_name](const Request& req, Response& res, const auto&) {
          std::string name = prompt_name(req);
          store_.history(name);  // 404 for an unknown prompt
          json data = json::array();
          for (const StageInfo& st : store_.stages(name)) data.push_back(stage_json(st));
          send_json(res, {{"name", name}, {"data", data}});
        }));

  s.Post("/v1/prompts/" + kName + "/stages/" + kStage,
         guarded(gateway::Rights::Write, [this, prompt_name](const Request& req, Response& res, const auto& who) {
           std::string name = prompt_name(req);
           std::string stage = require_stage_name(req.matches[2]);
           std::vector<StageTarget> targets = targets_from_request(parse_body(req));
           send_json(res, stage_json(store_.promote(name, stage, targets, who.name)));
         }));

  s.Post("/v1/prompts/" + kName + "/stages/" + kStage + "/rollback",
         guarded(gateway::Rights::Write, [this, prompt_name](const Request& req, Response& res, const auto& who) {
           std::string name = prompt_name(req);
           std::string stage = require_stage_name(req.matches[2]);
           send_json(res, stage_json(store_.rollback(name, stage, who.name)));
         }));

  s.Get("/v1/prompts/" + kName + "/audit",
        guarded(gateway::Rights::Read, [this, prompt_name](const Request& req, Response& res, const auto&) {
          std::string name = prompt_name(req);
          json data = json::array();
          for (const AuditEntry& e : store_.audit(name))
            data.push_back({{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"action", e.action},
                            {"name", e.name}, {"detail", e.detail}});
          send_json(res, {{"name", name}, {"data", data}});
        }));
}

}  // namespace hearth::prompts
