#pragma once
// Renders a model's `tokenizer.chat_template` (Jinja) with a conversation.
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hearth {

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  std::string bos_token;
  std::string eos_token;
  nlohmann::json extra_context = nlohmann::json::object();   // e.g. tools, enable_thinking, date_string
  // The time strftime_now() formats (local time); unset: the current time. Set for reproducible prompts.
  std::optional<std::time_t> now;
};

class ChatTemplate {
 public:
  // Parses the template; a syntax error or an unsupported construct throws hearth::Error with line:column.
  explicit ChatTemplate(std::string_view source);
  ChatTemplate(ChatTemplate&&) noexcept;
  ~ChatTemplate();

  // messages: array of {"role": ..., "content": ...} (content may be a string or a list of parts).
  std::string render(const nlohmann::json& messages, const ChatTemplateOptions& options) const;
  // Same, keeping the key order of dicts (nlohmann::json sorts keys; tojson of tools shows the order).
  std::string render(const nlohmann::ordered_json& messages, const ChatTemplateOptions& options,
                     const nlohmann::ordered_json& extra_context) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// General Jinja rendering with an arbitrary context (prompt assets use this too).
class JinjaTemplate {
 public:
  explicit JinjaTemplate(std::string_view source);
  JinjaTemplate(JinjaTemplate&&) noexcept;
  ~JinjaTemplate();
  // Renders with the context's keys as variables. Throws hearth::Error (with line:column) on a runtime
  // error, raise_exception(), or when a limit (output size, steps, call depth) is passed.
  // `now`: the time strftime_now() formats (unset: the current time).
  std::string render(const nlohmann::json& context, std::optional<std::time_t> now = {}) const;
  std::string render(const nlohmann::ordered_json& context, std::optional<std::time_t> now = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth
