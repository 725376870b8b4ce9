#include "prompts/stage_split.h"

#include "hearth/error.h"
#include "prompts/sha256.h"

namespace hearth::prompts {

nlohmann::json targets_to_json(const std::vector<StageTarget>& targets) {
  nlohmann::json j = nlohmann::json::array();
  for (const StageTarget& t : targets) j.push_back({{"version", t.version}, {"weight", t.weight}});
  return j;
}

std::vector<StageTarget> targets_from_json(const nlohmann::json& j) {
  std::vector<StageTarget> out;
  for (const auto& item : j) out.push_back({item.at("version").get<int64_t>(), item.at("weight").get<double>()});
  return out;
}

double caller_bucket(std::string_view name, std::string_view stage, std::string_view caller) {
  std::string key;
  key.append(name).push_back('\0');
  key.append(stage).push_back('\0');
  key.append(caller);
  std::string hex = sha256_hex(key);
  uint64_t top = std::stoull(hex.substr(0, 13), nullptr, 16);  // 52 bits: exact in a double
  return static_cast<double>(top) / static_cast<double>(uint64_t{1} << 52);
}

int64_t choose_version(const std::vector<StageTarget>& targets, std::string_view name, std::string_view stage,
                       std::string_view caller) {
  if (targets.empty()) throw Error("stage has no versions");
  if (caller.empty()) {
    const StageTarget* best = &targets[0];
    for (const StageTarget& t : targets)
      if (t.weight > best->weight) best = &t;
    return best->version;
  }
  double total = 0;
  for (const StageTarget& t : targets) total += t.weight;
  double point = caller_bucket(name, stage, caller) * total;
  double cumulative = 0;
  for (const StageTarget& t : targets) {
    cumulative += t.weight;
    if (point < cumulative) return t.version;
  }
  return targets.back().version;
}

}  // namespace hearth::prompts
