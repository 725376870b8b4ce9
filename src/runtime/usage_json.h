#pragma once
// Usage as hearth's own routes carry it (the done event and JSON answers of /v1/query, /v1/chat): written by
// the gateway, read back by a GatewayEndpoint on another hearth. One mapping for both sides, so a field added
// to one cannot be missed by the other. Header-only: the gateway's policy library does not link the runtime.
#include <nlohmann/json.hpp>

#include "hearth/client.h"

namespace hearth {

inline nlohmann::json prompt_usage_to_json(const PromptUsage& p) {
  return {{"name", p.name}, {"version", p.version}, {"hash", p.hash},
          {"stage", p.stage.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.stage)}, {"stale", p.stale}};
}

// Missing members read as their defaults (a null stage: referenced by version); a mistyped one throws.
inline PromptUsage prompt_usage_from_json(const nlohmann::json& j) {
  PromptUsage p;
  p.name = j.value("name", std::string());
  p.version = j.value("version", int64_t(0));
  p.hash = j.value("hash", std::string());
  if (auto stage = j.find("stage"); stage != j.end() && stage->is_string()) p.stage = stage->get<std::string>();
  p.stale = j.value("stale", false);
  return p;
}

inline nlohmann::json hearth_usage_to_json(const Usage& u) {
  nlohmann::json j = {{"prompt_tokens", u.prompt_tokens},
                      {"completion_tokens", u.completion_tokens},
                      {"total_tokens", u.prompt_tokens + u.completion_tokens},
                      {"cached_tokens", u.cached_tokens},
                      {"queue_seconds", u.queue_seconds},
                      {"ttft_seconds", u.ttft_seconds},
                      {"decode_seconds", u.decode_seconds},
                      {"total_seconds", u.total_seconds},
                      {"decode_tokens_per_second", u.decode_tps()}};
  if (u.prompt) j["prompt"] = prompt_usage_to_json(*u.prompt);
  return j;
}

// The inverse of hearth_usage_to_json (totals and rates are derived, not read).
inline Usage hearth_usage_from_json(const nlohmann::json& j) {
  Usage u;
  u.prompt_tokens = j.value("prompt_tokens", int64_t(0));
  u.completion_tokens = j.value("completion_tokens", int64_t(0));
  u.cached_tokens = j.value("cached_tokens", int64_t(0));
  u.queue_seconds = j.value("queue_seconds", 0.0);
  u.ttft_seconds = j.value("ttft_seconds", 0.0);
  u.decode_seconds = j.value("decode_seconds", 0.0);
  u.total_seconds = j.value("total_seconds", 0.0);
  if (auto p = j.find("prompt"); p != j.end() && p->is_object()) u.prompt = prompt_usage_from_json(*p);
  return u;
}

}  // namespace hearth
