#pragma once
// Shared by the gateway and provider endpoints: URL checks, refusing local-only fields, building the POST
// (JSON body, bearer token), sending it, and turning a remote error response into a message (with the secret
// scrubbed).
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "hearth/client.h"
#include "runtime/remote/http_post.h"
#include "runtime/remote/sse_parser.h"

namespace hearth::remote {

// "http://host:port[/path]" without a trailing slash; throws for anything else.
std::string normalized_base_url(const std::string& url, const std::string& endpoint_name);

// context_key (and, for providers, sampling fields OpenAI has no name for) are refused with a clear error.
void refuse_local_only(const RequestOptions& o, const std::string& endpoint_name, bool allow_full_sampling);

// "target 'x' at http://...: HTTP 429: <message from the body>", secret replaced by [redacted].
std::string remote_error(const std::string& endpoint_name, long status, const std::string& body,
                         const std::string& secret);

std::string scrub(std::string text, const std::string& secret);

// Adds the request's endpoint_options to a protocol body; a key the body already has (a typed field) or one
// of model/prompt/messages/stream is refused.
void merge_endpoint_options(nlohmann::json& body, const RequestOptions& o, const std::string& endpoint_name);

// A POST of `body` as JSON with `token` in the Authorization header; `event_stream` asks for SSE.
HttpPost bearer_json_post(std::string url, const std::string& token, const nlohmann::json& body,
                          double connect_timeout_seconds, double timeout_seconds, bool event_stream);

// Sends a non-streamed request and returns its 2xx body parsed (discarded when it is not JSON); a non-2xx
// answer throws the remote error with `secret` scrubbed, a body over 512 MiB throws.
nlohmann::json post_for_json(const HttpPost& post, const std::string& endpoint_name, const std::string& secret);

// Streams a 2xx body through `parser`. Nothing may throw through libcurl: an error from the parser (or its
// handler) stops the transfer and its message is left in `failure` for the caller to report.
HttpPostResult post_event_stream(const HttpPost& post, const std::function<void(long status)>& on_status,
                                 SseParser& parser, std::string& failure);

}  // namespace hearth::remote
