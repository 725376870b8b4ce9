#pragma once
// gateway.toml, parsed and validated: listeners, bearer tokens with their targets and rate limits, targets
// (local models, other hearth gateways, OpenAI-compatible providers), limits and timeouts. Secrets are never
// stored in the config struct as plain text where a hash will do; provider keys are named by env variable.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hearth/client.h"

namespace hearth::gateway {

struct ListenerConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  std::string tls_cert;               // PEM files; both set: HTTPS
  std::string tls_key;
  bool allow_insecure_http = false;   // plain HTTP on a non-loopback address must be asked for
  bool tls() const { return !tls_cert.empty(); }
};

// What a token may do with the prompt registry (/v1/prompts and prompt:// references in model requests).
enum class PromptAccess { None, Read, Write };

struct TokenConfig {
  std::string name;                   // who: appears in logs and metrics instead of the token
  std::string sha256_hex;             // the token's SHA-256 (a plain token is hashed at load)
  std::vector<std::string> targets;   // allowed targets; "*" allows all
  double requests_per_minute = 0;     // 0: unlimited
  double tokens_per_minute = 0;       // prompt + completion tokens; 0: unlimited
  PromptAccess prompts = PromptAccess::None;
  bool allows(const std::string& target) const;
};

struct TargetConfig {
  std::string name;                   // the public name clients put in "model" / "target"
  EndpointDescriptor descriptor;      // how the Client runs it
  int max_concurrency = 0;            // requests running at once on this target; 0: the global limit
  std::string upstream_secret_env;    // gateway token / provider key variable (for redaction)
};

struct GatewayConfig {
  std::filesystem::path path;
  std::vector<ListenerConfig> listeners;
  std::vector<TokenConfig> tokens;
  std::vector<TargetConfig> targets;
  std::string admin_sha256_hex;       // empty: /admin is disabled
  std::vector<std::string> cors_origins;   // "*" allows any
  uint64_t max_request_bytes = 1 << 20;
  int max_concurrency = 64;           // requests running at once, all targets
  int max_queue = 256;                // requests waiting for a slot; more get 503
  double queue_timeout_seconds = 30;
  double header_timeout_seconds = 10; // reading one request (headers and body)
  double request_timeout_seconds = 600;   // a model request from admission to its last byte
  double idle_timeout_seconds = 60;   // keep-alive connections with no request
  int io_threads = 2;
  bool log_requests = true;
  // The prompt registry's SQLite file, mounted at /v1/prompts and used for prompt:// references; empty: none.
  std::filesystem::path prompt_registry;

  // Every secret value the process knows (plain tokens from the file, upstream keys from the environment),
  // so logs and error messages can be scrubbed of them.
  std::vector<std::string> secrets;

  const TargetConfig* target(const std::string& name) const;
};

// Throws hearth::Error naming the file, the entry and what is wrong.
GatewayConfig load_gateway_config(const std::filesystem::path& path);

// Lower-case hex SHA-256 of a token, as written in sha256 = "...".
std::string sha256_hex(std::string_view token);

}  // namespace hearth::gateway
