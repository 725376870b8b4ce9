#pragma once
// A stage label points at one version, or splits traffic between versions by weight (A/B). A caller key
// picks the same version every time: its bucket is a hash of name, stage and key.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::prompts {

struct StageTarget {
  int64_t version = 0;
  double weight = 1.0;
};

// [{"version": 1, "weight": 0.8}, ...] <-> targets. Weights are positive and are normalized on use.
nlohmann::json targets_to_json(const std::vector<StageTarget>& targets);
std::vector<StageTarget> targets_from_json(const nlohmann::json& j);

// Uniform in [0, 1) from sha256(name \0 stage \0 caller).
double caller_bucket(std::string_view name, std::string_view stage, std::string_view caller);

// The version a caller gets; with no caller key, the heaviest target (the first on ties).
int64_t choose_version(const std::vector<StageTarget>& targets, std::string_view name, std::string_view stage,
                       std::string_view caller);

}  // namespace hearth::prompts
