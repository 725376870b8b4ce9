#pragma once
// The registry's REST API under /v1/prompts, independent of any HTTP server: the registry's own server
// (cpp-httplib) and the gateway (Beast) both translate their requests into ApiRequest and send ApiReply.
// Every request carries a bearer token; reads need read rights, changes need write rights.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gateway/token_auth.h"
#include "prompts/prompt_store.h"

namespace hearth::prompts {

struct ApiRequest {
  std::string method;                          // "GET", "POST"
  std::string path;                            // percent-decoded, without the query string
  std::map<std::string, std::string> query;    // decoded query parameters
  std::function<std::string(const std::string& name)> header;  // "" when absent; names case-insensitive
  std::string body;
};

struct ApiReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class RegistryApi {
 public:
  RegistryApi(PromptStore& store, gateway::TokenAuth auth) : store_(store), auth_(std::move(auth)) {}

  static bool owns(const std::string& path) { return path == "/v1/prompts" || path.rfind("/v1/prompts/", 0) == 0; }
  // Never throws: every failure is an OpenAI-shaped JSON error reply.
  ApiReply handle(const ApiRequest& request) const;

  // {"error": {message, type, code, ...detail}} with the type matching the status.
  static ApiReply error_reply(int status, const std::string& code, const std::string& message,
                              const nlohmann::json& detail = nullptr);

 private:
  ApiReply route(const ApiRequest& request, const gateway::TokenIdentity& who) const;

  PromptStore& store_;
  gateway::TokenAuth auth_;
};

}  // namespace hearth::prompts
