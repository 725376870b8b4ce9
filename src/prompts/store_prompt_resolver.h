#pragma once
// prompt:// references resolved against a PromptStore in this process: the gateway mounts the registry
// itself, so it reads versions straight from SQLite instead of over HTTP, and renders them with a cache of
// compiled templates (keyed by content hash, so a promoted version never serves an old template).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hearth/chat_template.h"
#include "hearth/prompts.h"
#include "prompts/prompt_store.h"

namespace hearth::prompts {

class StorePromptResolver {
 public:
  explicit StorePromptResolver(PromptStore& store) : store_(store) {}

  // caller: the key an A/B split is decided by. Throws PromptError (404: unknown prompt, stage or version)
  // or hearth::Error (a malformed reference, variables that do not fit the declarations, a render error).
  RenderedPrompt resolve_and_render(std::string_view ref, const nlohmann::json& variables, std::string_view caller);

 private:
  PromptStore& store_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const JinjaTemplate>> compiled_;  // by content hash
};

}  // namespace hearth::prompts
