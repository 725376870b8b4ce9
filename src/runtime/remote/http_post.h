#pragma once
// One HTTP POST through libcurl, with the response body delivered as it arrives. Runs on the calling thread;
// it polls a cancel flag every few milliseconds and, when set, closes the connection (which is how the
// remote side learns to stop). Error messages never include request headers (where keys travel).
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::remote {

struct HttpPost {
  std::string url;
  std::vector<std::string> headers;   // "Name: value"
  std::string body;
  double connect_timeout_seconds = 10;
  double timeout_seconds = 600;       // the whole exchange; 0: none
  size_t max_error_body = 64 * 1024;  // a non-2xx body kept for its message, at most this much
  const std::atomic<bool>* cancel = nullptr;
};

struct HttpPostResult {
  long status = 0;
  std::string error_body;   // the body of a non-2xx response (truncated)
  bool cancelled = false;
};

// `on_status` runs once the response headers are in (status code known); `on_data` receives the bodies of
// 2xx responses and returns false to stop. Throws hearth::Error on transport failures and timeouts.
HttpPostResult http_post(const HttpPost& request, const std::function<void(long status)>& on_status,
                         const std::function<bool(std::string_view)>& on_data);

}  // namespace hearth::remote
