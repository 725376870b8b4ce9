#pragma once
// CORS for pages on other origins (the browser Client and PromptResolver), one rule for the gateway's routes
// and the prompt registry's own server. A request from a listed origin (or any, with "*") gets that origin
// echoed back. A preflight may ask to send the bearer token, a JSON body and If-None-Match (the resolver
// revalidates its cached prompt by ETag), and the page may read ETag, X-Prompt-Version and Retry-After
// (not readable cross-origin unless exposed). Header-only: the gateway (Beast) and the registry server
// (cpp-httplib) live in libraries that do not link each other.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::gateway {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The headers for a response to a request with this Origin; none when the origin is absent or not allowed.
inline HeaderList cors_headers(const std::vector<std::string>& allowed_origins, std::string_view origin) {
  if (origin.empty()) return {};
  for (const std::string& allowed : allowed_origins) {
    if (allowed == "*" || allowed == origin)
      return {{"Access-Control-Allow-Origin", std::string(origin)},
              {"Vary", "Origin"},
              {"Access-Control-Expose-Headers", "ETag, X-Prompt-Version, Retry-After"}};
  }
  return {};
}

// What a preflight (OPTIONS) answer adds to cors_headers: the methods and request headers a page may use.
inline HeaderList cors_preflight_headers() {
  return {{"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
          {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match"},
          {"Access-Control-Max-Age", "600"}};
}

}  // namespace hearth::gateway
