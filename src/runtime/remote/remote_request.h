#pragma once
// Shared by the gateway and provider endpoints: URL checks, refusing local-only fields, turning a remote
// error response into a message (with the secret scrubbed), and usage parsing.
#include <string>

#include <nlohmann/json.hpp>

#include "hearth/client.h"

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

}  // namespace hearth::remote
