#pragma once
// Request bodies as JSON, parsed strictly: a body that is not one JSON object, or an object with a key given
// twice (a later "model" silently overriding the first is how typed fields get smuggled), is a 400.
#include <string_view>

#include <nlohmann/json.hpp>

namespace hearth::gateway {

// Throws ApiError(400) with the parser's position for malformed JSON or duplicate keys.
nlohmann::json parse_request_json(std::string_view body);

}  // namespace hearth::gateway
