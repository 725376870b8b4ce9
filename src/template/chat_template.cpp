// Public API: JinjaTemplate (any context) and ChatTemplate (a conversation, as apply_chat_template passes it).
#include "hearth/chat_template.h"

#include "hearth/error.h"
#include "template/interpreter.h"
#include "template/lexer.h"
#include "template/parser.h"

namespace hearth {

namespace {

jinja::Object context_object(const nlohmann::ordered_json& context) {
  if (!context.is_object()) throw Error("template context must be a JSON object");
  jinja::Value v = jinja::from_json(context);
  return *v.object;
}

}  // namespace

struct JinjaTemplate::Impl {
  jinja::Body program;
};

JinjaTemplate::JinjaTemplate(std::string_view source) : impl_(std::make_unique<Impl>()) {
  impl_->program = jinja::parse(jinja::tokenize(source));
}
JinjaTemplate::JinjaTemplate(JinjaTemplate&&) noexcept = default;
JinjaTemplate::~JinjaTemplate() = default;

std::string JinjaTemplate::render(const nlohmann::ordered_json& context, std::optional<std::time_t> now) const {
  jinja::Interpreter interpreter(impl_->program, jinja::Limits{});
  return interpreter.render(context_object(context), now ? *now : std::time(nullptr));
}

std::string JinjaTemplate::render(const nlohmann::json& context, std::optional<std::time_t> now) const {
  return render(nlohmann::ordered_json::parse(context.dump()), now);
}

struct ChatTemplate::Impl {
  JinjaTemplate jinja;
};

ChatTemplate::ChatTemplate(std::string_view source) : impl_(std::make_unique<Impl>(Impl{JinjaTemplate(source)})) {}
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate::~ChatTemplate() = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const ChatTemplateOptions& options,
                                 const nlohmann::ordered_json& extra_context) const {
  if (!messages.is_array()) throw Error("chat template: messages must be a JSON array");
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  if (!extra_context.is_null()) {
    if (!extra_context.is_object()) throw Error("chat template: extra context must be a JSON object");
    for (const auto& [k, v] : extra_context.items()) context[k] = v;
  }
  context["messages"] = messages;
  context["add_generation_prompt"] = options.add_generation_prompt;
  context["bos_token"] = options.bos_token;
  context["eos_token"] = options.eos_token;
  return impl_->jinja.render(context, options.now);
}

std::string ChatTemplate::render(const nlohmann::json& messages, const ChatTemplateOptions& options) const {
  nlohmann::ordered_json extra = nlohmann::ordered_json::parse(options.extra_context.dump());
  return render(nlohmann::ordered_json::parse(messages.dump()), options, extra);
}

}  // namespace hearth
