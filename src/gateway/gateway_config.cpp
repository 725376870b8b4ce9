#include "gateway/gateway_config.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>

#include <toml++/toml.h>

#include "common/toml_file.h"
#include "hearth/error.h"

namespace hearth::gateway {

namespace {

// Reads TOML tables strictly: every key must be known, and each value must have the expected type, so a typo
// in a limit is an error at load rather than a silently missing limit.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  std::optional<std::string> string(std::string_view key) {
    seen_.emplace_back(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<std::string>(); v && n->is_string()) return *v;
    throw Error(where_ + "." + std::string(key) + " must be a string");
  }
  std::optional<int64_t> integer(std::string_view key) {
    seen_.emplace_back(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return std::nullopt;
    if (n->is_integer()) return *n->value<int64_t>();
    throw Error(where_ + "." + std::string(key) + " must be an integer");
  }
  std::optional<double> number(std::string_view key) {
    seen_.emplace_back(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return std::nullopt;
    if (n->is_integer() || n->is_floating_point()) return *n->value<double>();
    throw Error(where_ + "." + std::string(key) + " must be a number");
  }
  std::optional<bool> boolean(std::string_view key) {
    seen_.emplace_back(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return std::nullopt;
    if (n->is_boolean()) return *n->value<bool>();
    throw Error(where_ + "." + std::string(key) + " must be true or false");
  }
  std::optional<std::vector<std::string>> strings(std::string_view key) {
    seen_.emplace_back(key);
    const toml::node* n = table_.get(key);
    if (n == nullptr) return std::nullopt;
    const toml::array* a = n->as_array();
    if (a == nullptr) throw Error(where_ + "." + std::string(key) + " must be an array of strings");
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
      if (!e.is_string()) throw Error(where_ + "." + std::string(key) + " must be an array of strings");
      out.push_back(*e.value<std::string>());
    }
    return out;
  }
  double non_negative(std::string_view key, double fallback) {
    double v = number(key).value_or(fallback);
    if (!(v >= 0)) throw Error(where_ + "." + std::string(key) + " must be >= 0");
    return v;
  }
  int64_t positive(std::string_view key, int64_t fallback, int64_t max) {
    int64_t v = integer(key).value_or(fallback);
    if (v < 1 || v > max)
      throw Error(where_ + "." + std::string(key) + " must be between 1 and " + std::to_string(max));
    return v;
  }
  void reject_unknown() const {
    for (const auto& [key, node] : table_) {
      if (std::find(seen_.begin(), seen_.end(), key.str()) == seen_.end())
        throw Error(where_ + ": unknown key '" + std::string(key.str()) + "'");
    }
  }
  const std::string& where() const { return where_; }

 private:
  const toml::table& table_;
  std::string where_;
  std::vector<std::string> seen_;
};

std::vector<const toml::table*> table_array(const toml::table& root, std::string_view key, const std::string& file) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr) throw Error(file + ": '" + std::string(key) + "' must be written as [[" + std::string(key) + "]]");
  for (const toml::node& e : *a) {
    if (!e.is_table()) throw Error(file + ": every [[" + std::string(key) + "]] entry must be a table");
    out.push_back(e.as_table());
  }
  return out;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A secret named by environment variable; the value itself never goes into an error message.
std::string secret_from_env(const std::string& variable, const std::string& where) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0')
    throw Error(where + ": environment variable " + variable + " is not set");
  return value;
}

ListenerConfig parse_listener(const toml::table& t, const std::string& where) {
  TableReader r(t, where);
  ListenerConfig l;
  l.address = r.string("address").value_or(l.address);
  int64_t port = r.integer("port").value_or(l.port);
  if (port < 0 || port > 65535) throw Error(where + ".port must be between 0 and 65535");
  l.port = static_cast<uint16_t>(port);
  l.tls_cert = r.string("tls_cert").value_or("");
  l.tls_key = r.string("tls_key").value_or("");
  l.allow_insecure_http = r.boolean("allow_insecure_http").value_or(false);
  r.reject_unknown();
  if (l.tls_cert.empty() != l.tls_key.empty()) throw Error(where + ": tls_cert and tls_key go together");
  return l;
}

TokenConfig parse_token(const toml::table& t, const std::string& where, std::vector<std::string>& secrets) {
  TableReader r(t, where);
  TokenConfig c;
  c.name = r.string("name").value_or("");
  if (c.name.empty()) throw Error(where + ": missing name");
  auto hash = r.string("sha256");
  auto plain = r.string("token");
  auto env = r.string("token_env");
  if (int(hash.has_value()) + int(plain.has_value()) + int(env.has_value()) != 1)
    throw Error(where + " (" + c.name + "): give exactly one of sha256, token or token_env");
  if (hash) {
    if (!is_hex64(*hash)) throw Error(where + " (" + c.name + "): sha256 must be 64 hex digits");
    c.sha256_hex = lower(*hash);
  } else {
    std::string token = plain ? *plain : secret_from_env(*env, where + " (" + c.name + ")");
    if (token.empty()) throw Error(where + " (" + c.name + "): empty token");
    secrets.push_back(token);
    c.sha256_hex = sha256_hex(token);
  }
  c.targets = r.strings("targets").value_or(std::vector<std::string>{});
  c.requests_per_minute = r.non_negative("requests_per_minute", 0);
  c.tokens_per_minute = r.non_negative("tokens_per_minute", 0);
  std::string prompts = r.string("prompts").value_or("none");
  if (prompts == "read") c.prompts = PromptAccess::Read;
  else if (prompts == "write") c.prompts = PromptAccess::Write;
  else if (prompts != "none") throw Error(where + " (" + c.name + "): prompts must be \"none\", \"read\" or \"write\"");
  // A token for the registry alone (say, CI pushing prompts) needs no target.
  if (c.targets.empty() && c.prompts == PromptAccess::None)
    throw Error(where + " (" + c.name + "): targets must list at least one target (or \"*\")");
  r.reject_unknown();
  return c;
}

TargetConfig parse_target(const toml::table& t, const std::string& where, const std::filesystem::path& base_dir,
                          std::vector<std::string>& secrets) {
  TableReader r(t, where);
  TargetConfig c;
  c.name = r.string("name").value_or("");
  if (c.name.empty()) throw Error(where + ": missing name");
  std::string at = where + " (" + c.name + ")";
  std::string kind = r.string("kind").value_or("local");
  c.max_concurrency = static_cast<int>(r.integer("max_concurrency").value_or(0));
  if (c.max_concurrency < 0) throw Error(at + ".max_concurrency must be >= 0");
  if (kind == "local") {
    LocalEndpointOptions o;
    std::filesystem::path model = r.string("model").value_or("");
    if (model.empty()) throw Error(at + ": a local target needs model = \"path.gguf\"");
    if (model.is_relative()) model = base_dir / model;
    o.threads = static_cast<int>(r.integer("threads").value_or(0));
    o.ctx = r.integer("ctx").value_or(0);
    o.n_seq = static_cast<int>(r.positive("n_seq", o.n_seq, 4096));
    o.prefill_budget = r.positive("prefill_budget", o.prefill_budget, 1 << 20);
    o.max_queue = r.positive("max_queue", o.max_queue, 1 << 20);
    o.keep_resident = r.boolean("keep_resident").value_or(o.keep_resident);
    try {
      o.backend = parse_backend(r.string("backend").value_or("cpu"));
    } catch (const Error& e) {
      throw Error(at + ".backend: " + e.what());
    }
    c.descriptor = EndpointDescriptor::local(c.name, model.string(), o);
  } else if (kind == "gateway") {
    GatewayEndpointOptions o;
    o.url = r.string("url").value_or("");
    o.target = r.string("target").value_or(c.name);
    c.upstream_secret_env = r.string("token_env").value_or("");
    if (o.url.empty()) throw Error(at + ": a gateway target needs url = \"http://host:port\"");
    if (c.upstream_secret_env.empty()) throw Error(at + ": a gateway target needs token_env = \"VARIABLE\"");
    o.token = secret_from_env(c.upstream_secret_env, at);
    secrets.push_back(o.token);
    c.descriptor = EndpointDescriptor{c.name, o};
  } else if (kind == "provider") {
    ProviderEndpointOptions o;
    o.base_url = r.string("base_url").value_or("");
    o.model = r.string("model").value_or("");
    o.api_key_env = r.string("api_key_env").value_or("");
    if (o.base_url.empty() || o.model.empty() || o.api_key_env.empty())
      throw Error(at + ": a provider target needs base_url, model and api_key_env");
    c.upstream_secret_env = o.api_key_env;
    secrets.push_back(secret_from_env(o.api_key_env, at));
    c.descriptor = EndpointDescriptor{c.name, o};
  } else {
    throw Error(at + ".kind must be \"local\", \"gateway\" or \"provider\", got \"" + kind + "\"");
  }
  r.reject_unknown();
  return c;
}

bool is_loopback(const std::string& address) {
  return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

}  // namespace

bool TokenConfig::allows(const std::string& target) const {
  return std::any_of(targets.begin(), targets.end(), [&](const std::string& t) { return t == "*" || t == target; });
}

const TargetConfig* GatewayConfig::target(const std::string& name) const {
  for (const TargetConfig& t : targets)
    if (t.name == name) return &t;
  return nullptr;
}

std::string sha256_hex(std::string_view token) {
  unsigned char digest[32];
  unsigned int length = 0;
  if (EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr) != 1 || length != 32)
    throw Error("sha256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

GatewayConfig load_gateway_config(const std::filesystem::path& path) {
  const std::string file = path.string();
  toml::table root = parse_toml_file(path);
  GatewayConfig c;
  c.path = path;
  std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();

  for (const auto& [key, node] : root) {
    static const std::vector<std::string_view> kTop = {"server", "listeners", "tokens", "targets"};
    if (std::find(kTop.begin(), kTop.end(), key.str()) == kTop.end())
      throw Error(file + ": unknown section '" + std::string(key.str()) + "'");
  }
  if (const toml::node* s = root.get("server")) {
    if (!s->is_table()) throw Error(file + ": [server] must be a table");
    TableReader r(*s->as_table(), file + ": server");
    c.max_request_bytes = static_cast<uint64_t>(r.positive("max_request_bytes", int64_t(c.max_request_bytes), int64_t(1) << 32));
    c.max_concurrency = static_cast<int>(r.positive("max_concurrency", c.max_concurrency, 1 << 16));
    c.max_queue = static_cast<int>(r.integer("max_queue").value_or(c.max_queue));
    if (c.max_queue < 0 || c.max_queue > (1 << 20)) throw Error(file + ": server.max_queue must be between 0 and 1048576");
    c.queue_timeout_seconds = r.non_negative("queue_timeout_seconds", c.queue_timeout_seconds);
    c.header_timeout_seconds = r.non_negative("header_timeout_seconds", c.header_timeout_seconds);
    c.request_timeout_seconds = r.non_negative("request_timeout_seconds", c.request_timeout_seconds);
    c.idle_timeout_seconds = r.non_negative("idle_timeout_seconds", c.idle_timeout_seconds);
    c.io_threads = static_cast<int>(r.positive("io_threads", c.io_threads, 256));
    c.log_requests = r.boolean("log_requests").value_or(c.log_requests);
    c.cors_origins = r.strings("cors_origins").value_or(std::vector<std::string>{});
    if (auto registry = r.string("prompt_registry")) {
      if (registry->empty()) throw Error(file + ": server.prompt_registry must name a file");
      c.prompt_registry = std::filesystem::path(*registry).is_absolute() ? std::filesystem::path(*registry)
                                                                          : base_dir / *registry;
    }
    auto admin_hash = r.string("admin_token_sha256");
    auto admin_env = r.string("admin_token_env");
    if (admin_hash && admin_env) throw Error(file + ": server: give admin_token_sha256 or admin_token_env, not both");
    if (admin_hash) {
      if (!is_hex64(*admin_hash)) throw Error(file + ": server.admin_token_sha256 must be 64 hex digits");
      c.admin_sha256_hex = lower(*admin_hash);
    } else if (admin_env) {
      std::string token = secret_from_env(*admin_env, file + ": server.admin_token_env");
      c.secrets.push_back(token);
      c.admin_sha256_hex = sha256_hex(token);
    }
    r.reject_unknown();
  }

  size_t i = 0;
  for (const toml::table* t : table_array(root, "listeners", file))
    c.listeners.push_back(parse_listener(*t, file + ": listeners[" + std::to_string(i++) + "]"));
  if (c.listeners.empty()) c.listeners.push_back(ListenerConfig{});
  for (const ListenerConfig& l : c.listeners) {
    if (!l.tls() && !l.allow_insecure_http && !is_loopback(l.address))
      throw Error(file + ": listener " + l.address + ":" + std::to_string(l.port) +
                  " would serve plain HTTP beyond this machine; give tls_cert/tls_key or allow_insecure_http = true");
  }

  i = 0;
  for (const toml::table* t : table_array(root, "targets", file)) {
    TargetConfig target = parse_target(*t, file + ": targets[" + std::to_string(i++) + "]", base_dir, c.secrets);
    if (c.target(target.name) != nullptr) throw Error(file + ": target '" + target.name + "' is defined twice");
    c.targets.push_back(std::move(target));
  }
  if (c.targets.empty()) throw Error(file + ": no [[targets]] defined");

  i = 0;
  for (const toml::table* t : table_array(root, "tokens", file)) {
    std::string where = file + ": tokens[" + std::to_string(i++) + "]";
    TokenConfig token = parse_token(*t, where, c.secrets);
    for (const std::string& name : token.targets)
      if (name != "*" && c.target(name) == nullptr)
        throw Error(where + " (" + token.name + "): unknown target '" + name + "'");
    for (const TokenConfig& other : c.tokens)
      if (other.name == token.name) throw Error(where + ": token name '" + token.name + "' is used twice");
    c.tokens.push_back(std::move(token));
  }
  if (c.tokens.empty()) throw Error(file + ": no [[tokens]] defined; every request needs a bearer token");
  return c;
}

}  // namespace hearth::gateway
