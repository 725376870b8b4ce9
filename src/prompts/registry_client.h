#pragma once
// HTTP client for the registry API, used by the hearth-prompts CLI and the runtime resolver.
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace hearth::prompts {

struct RegistryReply {
  int status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::string etag;
  std::string version_header;  // X-Prompt-Version
  std::string transport_error;  // set when status == 0

  nlohmann::json json() const;
  // The registry's error message, or the transport error.
  std::string error_message() const;
};

class RegistryClient {
 public:
  RegistryClient(const std::string& url, std::string token, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RegistryClient();

  RegistryReply get(const std::string& path, const std::string& if_none_match = {});
  RegistryReply post(const std::string& path, const nlohmann::json& body);

  // Throws hearth::Error with the registry's message unless the answer is 2xx.
  nlohmann::json get_json(const std::string& path);
  nlohmann::json post_json(const std::string& path, const nlohmann::json& body);

 private:
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

std::string url_encode(const std::string& text);

}  // namespace hearth::prompts
