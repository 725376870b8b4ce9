#pragma once
// SHA-256 as lowercase hex: the content hash of prompt versions and the ETag the registry serves.
#include <string>
#include <string_view>

namespace hearth::prompts {

std::string sha256_hex(std::string_view data);

}  // namespace hearth::prompts
