#pragma once
// Identifies a model's weights for prefix snapshots: keys/values are only valid for the exact weights and
// hyperparameters that computed them.
#include <string>

namespace hearth {

class GgufFile;

// sha-256 (hex) over the GGUF header, metadata and tensor infos (bytes before the data section) and the
// first 4 KiB of every tensor's data, so two files differing only in weights still differ.
std::string model_fingerprint(const std::string& path, const GgufFile& file);

}  // namespace hearth
