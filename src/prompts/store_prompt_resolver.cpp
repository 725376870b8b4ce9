#include "prompts/store_prompt_resolver.h"

#include "prompts/prompt_ref.h"

namespace hearth::prompts {

RenderedPrompt StorePromptResolver::resolve_and_render(std::string_view ref_text, const nlohmann::json& variables,
                                                       std::string_view caller) {
  PromptRef ref = parse_prompt_ref(ref_text);
  int64_t version = ref.version;
  if (version == 0) version = choose_version(store_.get_stage(ref.name, ref.stage).targets, ref.name, ref.stage, caller);
  StoredVersion stored = store_.get_version(ref.name, version);  // verifies the content hash

  RenderedPrompt out;
  out.prompt.name = stored.name;
  out.prompt.version = stored.version;
  out.prompt.hash = stored.hash;
  out.prompt.stage = ref.stage;
  out.prompt.content = std::move(stored.content);

  nlohmann::json context = bind_prompt_variables(out.prompt.content.variables, variables);
  std::shared_ptr<const JinjaTemplate> tmpl;
  {
    std::lock_guard lock(mutex_);
    auto& slot = compiled_[out.prompt.hash];
    if (!slot) slot = std::make_shared<const JinjaTemplate>(out.prompt.content.template_text);
    tmpl = slot;
  }
  out.text = tmpl->render(context);
  return out;
}

}  // namespace hearth::prompts
