#pragma once
// An error a route answers with: HTTP status plus OpenAI's error shape
// {"error": {"message", "type", "param", "code"}}; 429 carries Retry-After.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace hearth::gateway {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {}, double retry_after_seconds = 0)
      : std::runtime_error(std::move(message)), status(status), param(std::move(param)),
        retry_after_seconds(retry_after_seconds) {}
  int status;
  std::string param;
  double retry_after_seconds;

  // OpenAI's type and code for a status.
  static const char* type_for(int status) {
    switch (status) {
      case 401: return "authentication_error";
      case 403: return "permission_error";
      case 404: return "not_found_error";
      case 413: return "request_too_large";
      case 429: return "rate_limit_error";
      case 503: return "overloaded_error";
      case 504: return "timeout_error";
      default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
  }
  nlohmann::json body() const { return body_for(status, what(), param); }
  static nlohmann::json body_for(int status, const std::string& message, const std::string& param = {}) {
    return {{"error",
             {{"message", message},
              {"type", type_for(status)},
              {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
              {"code", type_for(status)}}}};
  }
};

}  // namespace hearth::gateway
