#pragma once
// Prompt content: JSON form of declared variables, the content hash, and validation at push time.
#include <string>

#include <nlohmann/json.hpp>

#include "hearth/error.h"
#include "hearth/prompts.h"

namespace hearth::prompts {

// An error with the HTTP status and machine-readable code the registry answers with. `detail` carries
// extra fields (e.g. line and column of a template syntax error).
class PromptError : public Error {
 public:
  PromptError(int status, std::string code, const std::string& message, nlohmann::json detail = nullptr)
      : Error(message), status_(status), code_(std::move(code)), detail_(std::move(detail)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const nlohmann::json& detail() const { return detail_; }

 private:
  int status_;
  std::string code_;
  nlohmann::json detail_;
};

// {"user": {"type": "string", "default": "friend", "description": "..."}, ...}
std::vector<PromptVariable> variables_from_json(const nlohmann::json& j);
nlohmann::json variables_to_json(const std::vector<PromptVariable>& variables);

// Validates and builds content from a request body {template, variables, hints}. Throws PromptError(400).
PromptContent content_from_json(const nlohmann::json& body);
nlohmann::json content_to_json(const PromptContent& content);

// sha256 of the canonical JSON of {template, variables, hints} (keys sorted).
std::string content_hash(const PromptContent& content);

// Parses the template (syntax errors carry line and column), rejects names it reads that are not
// declared, and renders it once with defaults or sample values of the declared types. Throws PromptError.
void validate_content(const PromptContent& content);

bool is_valid_prompt_name(std::string_view name);
bool is_valid_stage_name(std::string_view name);

}  // namespace hearth::prompts
