#pragma once
// Prompts as versioned assets: what a prompt version holds, and the runtime resolver that turns
// `prompt://name@stage` or `prompt://name@3` into a rendered prompt, served from a registry with a local
// cache (TTL, ETag revalidation, last-known-good when the registry cannot be reached).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth {

enum class PromptVarType { String, Integer, Number, Boolean, Array, Object };

struct PromptVariable {
  std::string name;
  PromptVarType type = PromptVarType::String;
  std::optional<nlohmann::json> default_value;  // none: the caller must supply it
  std::string description;
};

// The hashed part of a version: what changes the rendered text or how it is run.
struct PromptContent {
  std::string template_text;  // Jinja
  std::vector<PromptVariable> variables;
  nlohmann::json hints = nlohmann::json::object();  // model / target hints, e.g. {"model": "llama-3", "temperature": 0.2}
};

// What a request used; the Client puts this in each response's usage.
struct ResolvedPrompt {
  std::string name;
  int64_t version = 0;
  std::string hash;   // sha256 of the content
  std::string stage;  // empty when resolved by version number
  bool stale = false;  // served from the local cache because the registry could not be reached
  PromptContent content;

  nlohmann::json usage() const;  // {name, version, hash, stage, stale}
};

struct RenderedPrompt {
  ResolvedPrompt prompt;
  std::string text;
};

struct PromptResolverOptions {
  std::string registry_url;  // e.g. http://127.0.0.1:8088
  std::string token;         // bearer token with read rights
  std::chrono::milliseconds ttl{30'000};     // serve from cache without asking within this time
  std::chrono::milliseconds timeout{2'000};  // connect/read timeout for the registry
  std::filesystem::path cache_dir;           // optional: last-known-good copies survive restarts
};

class PromptResolver {
 public:
  explicit PromptResolver(PromptResolverOptions options);
  ~PromptResolver();
  PromptResolver(const PromptResolver&) = delete;
  PromptResolver& operator=(const PromptResolver&) = delete;

  // ref: prompt://name@stage, prompt://name@3 or prompt://name (= @prod). caller: key for A/B splits.
  // Throws hearth::Error when the prompt is unknown, or the registry is unreachable with nothing cached.
  ResolvedPrompt resolve(std::string_view ref, std::string_view caller = {});

  // Type-checks `variables` against the declarations, applies defaults and renders.
  std::string render(const ResolvedPrompt& prompt, const nlohmann::json& variables) const;
  RenderedPrompt resolve_and_render(std::string_view ref, const nlohmann::json& variables,
                                    std::string_view caller = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Declared-variable helpers, shared by the registry and the resolver.
std::string_view prompt_var_type_name(PromptVarType type);
// Checks types, rejects undeclared names and missing required ones; returns the full render context.
nlohmann::json bind_prompt_variables(const std::vector<PromptVariable>& declared, const nlohmann::json& given);

}  // namespace hearth
