#include "prompts_cli.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "hearth/error.h"
#include "prompts/prompt_file.h"
#include "prompts/registry_client.h"

namespace {

using nlohmann::json;
using hearth::prompts::RegistryClient;
using hearth::prompts::url_encode;

std::string short_hash(const json& j) { return j.value("hash", std::string()).substr(0, 12); }

// greeting@prod, greeting@3 or greeting
std::string get_path(const std::string& spec) {
  size_t at = spec.rfind('@');
  std::string name = spec.substr(0, at);
  std::string path = "/v1/prompts/" + url_encode(name);
  if (at == std::string::npos) return path;
  std::string sel = spec.substr(at + 1);
  bool numeric = !sel.empty() && sel.find_first_not_of("0123456789") == std::string::npos;
  return path + (numeric ? "?version=" : "?stage=") + url_encode(sel);
}

// "3" -> {"version":3}; "1=0.8,2=0.2" -> {"versions":[{version:1, weight:0.8}, ...]}
json promote_body(const std::string& spec) {
  if (spec.find('=') == std::string::npos) return {{"version", std::stoll(spec)}};
  json versions = json::array();
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string part = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = part.find('=');
    if (eq == std::string::npos) throw hearth::Error("split must look like 1=0.8,2=0.2, got \"" + spec + "\"");
    versions.push_back({{"version", std::stoll(part.substr(0, eq))}, {"weight", std::stod(part.substr(eq + 1))}});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return {{"versions", versions}};
}

std::string describe_targets(const json& versions) {
  std::string out;
  for (const json& t : versions) {
    if (!out.empty()) out += ", ";
    out += "v" + std::to_string(t.at("version").get<int64_t>());
    if (versions.size() > 1) out += " (" + std::to_string(static_cast<int>(t.at("weight").get<double>() * 100 + 0.5)) + "%)";
  }
  return out;
}

int push(RegistryClient& client, const std::string& target) {
  int failures = 0, created = 0, unchanged = 0;
  for (const auto& path : hearth::prompts::find_prompt_files(target)) {
    try {
      hearth::prompts::PromptFile f = hearth::prompts::load_prompt_file(path);
      json body = f.body;
      body["message"] = f.message;
      if (!f.author.empty()) body["author"] = f.author;
      hearth::prompts::RegistryReply r = client.post("/v1/prompts/" + url_encode(f.name) + "/versions", body);
      if (r.status == 201) {
        json j = r.json();
        std::printf("%s: created version %lld (%s)\n", f.name.c_str(), static_cast<long long>(j["version"].get<int64_t>()),
                    short_hash(j).c_str());
        ++created;
      } else if (r.status == 200) {
        json j = r.json();
        std::printf("%s: unchanged (version %lld)\n", f.name.c_str(), static_cast<long long>(j["version"].get<int64_t>()));
        ++unchanged;
      } else {
        std::fprintf(stderr, "%s: %s\n", path.string().c_str(), r.error_message().c_str());
        ++failures;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      ++failures;
    }
  }
  std::printf("pushed: %d created, %d unchanged, %d failed\n", created, unchanged, failures);
  return failures ? 1 : 0;
}

}  // namespace

namespace {

struct Args {
  std::string registry, token_env = "HEARTH_REGISTRY_TOKEN";
  bool as_json = false;
  std::string target, spec, name, stage, v1, v2;
  CLI::App *push_cmd, *get_cmd, *diff_cmd, *promote_cmd, *rollback_cmd, *log_cmd, *list_cmd;
};

int run(Args& a);

}  // namespace

namespace hearth::cli {

void add_prompts_commands(CLI::App& app) {
  auto args = std::make_shared<Args>();
  Args& a = *args;
  app.require_subcommand(1);
  if (const char* url = std::getenv("HEARTH_REGISTRY_URL")) a.registry = url;
  app.add_option("--registry", a.registry, "registry URL (default $HEARTH_REGISTRY_URL)");
  app.add_option("--token-env", a.token_env, "environment variable holding the bearer token");
  app.add_flag("--json", a.as_json, "print the registry's JSON answer");
  a.push_cmd = app.add_subcommand("push", "push NAME.prompt.toml files (a file or a directory)");
  a.push_cmd->add_option("path", a.target)->required();
  a.get_cmd = app.add_subcommand("get", "show NAME, NAME@stage or NAME@version");
  a.get_cmd->add_option("prompt", a.spec)->required();
  a.diff_cmd = app.add_subcommand("diff", "unified diff of two versions' templates");
  a.diff_cmd->add_option("name", a.name)->required();
  a.diff_cmd->add_option("from", a.v1)->required();
  a.diff_cmd->add_option("to", a.v2)->required();
  a.promote_cmd = app.add_subcommand("promote", "point STAGE at VERSION (or a split: 1=0.8,2=0.2)");
  a.promote_cmd->add_option("name", a.name)->required();
  a.promote_cmd->add_option("stage", a.stage)->required();
  a.promote_cmd->add_option("version", a.v1)->required();
  a.rollback_cmd = app.add_subcommand("rollback", "move STAGE back to what it pointed at before");
  a.rollback_cmd->add_option("name", a.name)->required();
  a.rollback_cmd->add_option("stage", a.stage)->required();
  a.log_cmd = app.add_subcommand("log", "versions, stages and audit trail of NAME");
  a.log_cmd->add_option("name", a.name)->required();
  a.list_cmd = app.add_subcommand("list", "all prompts");
  // Runs once the whole command line is parsed; a failure exits with status 1 after its message.
  app.final_callback([args] {
    if (int code = run(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace hearth::cli

namespace {

int run(Args& a) {
  auto& [registry, token_env, as_json, target, spec, name, stage, v1, v2, push_cmd, get_cmd, diff_cmd, promote_cmd,
         rollback_cmd, log_cmd, list_cmd] = a;
  try {
    if (registry.empty()) throw hearth::Error("no registry: pass --registry URL or set HEARTH_REGISTRY_URL");
    const char* token = std::getenv(token_env.c_str());
    if (token == nullptr || *token == '\0')
      throw hearth::Error("no token: set $" + token_env + " (or pick the variable with --token-env)");
    RegistryClient client(registry, token);

    if (*push_cmd) return push(client, target);
    if (*get_cmd) {
      json j = client.get_json(get_path(spec));
      if (as_json) { std::printf("%s\n", j.dump(2).c_str()); return 0; }
      std::printf("# %s version %lld  sha256 %s\n# by %s at %s: %s\n# variables %s\n# hints %s\n%s\n",
                  j["name"].get<std::string>().c_str(), static_cast<long long>(j["version"].get<int64_t>()),
                  j["hash"].get<std::string>().c_str(), j["author"].get<std::string>().c_str(),
                  j["created_at"].get<std::string>().c_str(), j["message"].get<std::string>().c_str(),
                  j["variables"].dump().c_str(), j["hints"].dump().c_str(), j["template"].get<std::string>().c_str());
      return 0;
    }
    if (*diff_cmd) {
      json j = client.get_json("/v1/prompts/" + url_encode(name) + "/diff?from=" + url_encode(v1) + "&to=" + url_encode(v2));
      if (as_json) { std::printf("%s\n", j.dump(2).c_str()); return 0; }
      std::fputs(j["diff"].get<std::string>().c_str(), stdout);
      if (j["variables_changed"].get<bool>()) std::printf("(variables changed)\n");
      if (j["hints_changed"].get<bool>()) std::printf("(hints changed)\n");
      return 0;
    }
    if (*promote_cmd) {
      json j = client.post_json("/v1/prompts/" + url_encode(name) + "/stages/" + url_encode(stage), promote_body(v1));
      std::printf("%s@%s -> %s\n", name.c_str(), stage.c_str(), describe_targets(j["versions"]).c_str());
      return 0;
    }
    if (*rollback_cmd) {
      json j = client.post_json("/v1/prompts/" + url_encode(name) + "/stages/" + url_encode(stage) + "/rollback", json::object());
      std::printf("%s@%s rolled back to %s\n", name.c_str(), stage.c_str(), describe_targets(j["versions"]).c_str());
      return 0;
    }
    if (*log_cmd) {
      json h = client.get_json("/v1/prompts/" + url_encode(name) + "/versions");
      json a = client.get_json("/v1/prompts/" + url_encode(name) + "/audit");
      if (as_json) { std::printf("%s\n", json{{"versions", h}, {"audit", a}}.dump(2).c_str()); return 0; }
      for (const json& st : h["stages"])
        std::printf("stage %-10s %s\n", st["stage"].get<std::string>().c_str(), describe_targets(st["versions"]).c_str());
      for (auto it = h["data"].rbegin(); it != h["data"].rend(); ++it)
        std::printf("v%-4lld %s  %s  %-12s %s\n", static_cast<long long>((*it)["version"].get<int64_t>()),
                    short_hash(*it).c_str(), (*it)["created_at"].get<std::string>().c_str(),
                    (*it)["author"].get<std::string>().c_str(), (*it)["message"].get<std::string>().c_str());
      std::printf("audit:\n");
      for (const json& e : a["data"])
        std::printf("  %s  %-12s %-15s %s\n", e["at"].get<std::string>().c_str(), e["actor"].get<std::string>().c_str(),
                    e["action"].get<std::string>().c_str(), e["detail"].dump().c_str());
      return 0;
    }
    if (*list_cmd) {
      json j = client.get_json("/v1/prompts");
      if (as_json) { std::printf("%s\n", j.dump(2).c_str()); return 0; }
      for (const json& p : j["data"]) {
        std::string stages;
        for (const auto& [st, targets] : p["stages"].items()) stages += " " + st + "=" + describe_targets(targets);
        std::printf("%-24s latest v%lld%s\n", p["name"].get<std::string>().c_str(),
                    static_cast<long long>(p["latest_version"].get<int64_t>()), stages.c_str());
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hearth prompts: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
