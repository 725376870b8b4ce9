#include "gateway/response_format.h"

#include <chrono>
#include <cstring>

#include "gateway/api_error.h"
#include "runtime/usage_json.h"

namespace hearth::gateway {

namespace {

std::string base64(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = uint32_t(data[i]) << 16;
    if (i + 1 < n) v |= uint32_t(data[i + 1]) << 8;
    if (i + 2 < n) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// Invalid UTF-8 from a model must not make the JSON serializer throw mid-stream.
std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

}  // namespace

std::string sse_event(const nlohmann::json& data, const char* event) {
  std::string out;
  if (event != nullptr) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  out += "data: ";
  out += dump(data);
  out += "\n\n";
  return out;
}

ResponseFormat::ResponseFormat(const ModelRequest& request, uint64_t id)
    : dialect_(request.dialect), target_(request.target), include_usage_(request.include_usage),
      base64_(request.base64_embeddings) {
  const char* prefix = dialect_ == Dialect::OpenAIChat ? "chatcmpl-" : dialect_ == Dialect::OpenAICompletion ? "cmpl-" : "req-";
  id_ = prefix + std::to_string(id);
  created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string ResponseFormat::finish_reason(const Response& r) {
  // OpenAI knows stop and length; a cancelled run ends as "stop" there, with hearth's reason on hearth routes.
  return r.finish_reason == "length" ? "length" : "stop";
}

nlohmann::json ResponseFormat::usage_json(const Usage& u) const {
  if (!is_openai(dialect_)) return hearth_usage_to_json(u);
  nlohmann::json j = {{"prompt_tokens", u.prompt_tokens},
                      {"completion_tokens", u.completion_tokens},
                      {"total_tokens", u.prompt_tokens + u.completion_tokens},
                      {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
  if (u.prompt) j["prompt"] = prompt_usage_to_json(*u.prompt);
  return j;
}

nlohmann::json ResponseFormat::chunk(nlohmann::json choice) const {
  nlohmann::json j = {{"id", id_},
                      {"object", dialect_ == Dialect::OpenAIChat ? "chat.completion.chunk" : "text_completion"},
                      {"created", created_},
                      {"model", target_},
                      {"choices", nlohmann::json::array()}};
  if (!choice.is_null()) j["choices"].push_back(std::move(choice));
  return j;
}

std::string ResponseFormat::stream_start() const {
  if (dialect_ != Dialect::OpenAIChat) return "";
  return sse_event(chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}));
}

std::string ResponseFormat::stream_batch(const TokenBatch& batch) const {
  switch (dialect_) {
    case Dialect::OpenAIChat:
      if (batch.text.empty()) return "";
      return sse_event(chunk({{"index", 0}, {"delta", {{"content", batch.text}}}, {"finish_reason", nullptr}}));
    case Dialect::OpenAICompletion:
      if (batch.text.empty()) return "";
      return sse_event(chunk({{"index", 0}, {"text", batch.text}, {"logprobs", nullptr}, {"finish_reason", nullptr}}));
    default:
      return sse_event({{"tokens", batch.tokens}, {"text", batch.text}}, "tokens");
  }
}

std::string ResponseFormat::stream_end(const Response& r) const {
  std::string out;
  if (dialect_ == Dialect::OpenAIChat || dialect_ == Dialect::OpenAICompletion) {
    nlohmann::json choice = dialect_ == Dialect::OpenAIChat
                                ? nlohmann::json{{"index", 0}, {"delta", nlohmann::json::object()}, {"finish_reason", finish_reason(r)}}
                                : nlohmann::json{{"index", 0}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish_reason(r)}};
    out += sse_event(chunk(std::move(choice)));
    if (include_usage_) {
      nlohmann::json u = chunk(nullptr);
      u["usage"] = usage_json(r.usage);
      out += sse_event(u);
    }
    out += "data: [DONE]\n\n";
    return out;
  }
  out += sse_event(usage_json(r.usage), "usage");
  out += sse_event({{"id", id_}, {"target", target_}, {"finish_reason", r.finish_reason}, {"usage", usage_json(r.usage)}},
                   "done");
  return out;
}

std::string ResponseFormat::stream_error(int status, const std::string& message) const {
  nlohmann::json body = ApiError::body_for(status, message);
  if (is_openai(dialect_)) return sse_event(body) + "data: [DONE]\n\n";
  return sse_event(body, "error");
}

nlohmann::json ResponseFormat::complete(const Response& r) const {
  switch (dialect_) {
    case Dialect::OpenAIChat:
      return {{"id", id_},
              {"object", "chat.completion"},
              {"created", created_},
              {"model", target_},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", r.text}}},
                 {"logprobs", nullptr},
                 {"finish_reason", finish_reason(r)}}}},
              {"usage", usage_json(r.usage)}};
    case Dialect::OpenAICompletion:
      return {{"id", id_},
              {"object", "text_completion"},
              {"created", created_},
              {"model", target_},
              {"choices", {{{"index", 0}, {"text", r.text}, {"logprobs", nullptr}, {"finish_reason", finish_reason(r)}}}},
              {"usage", usage_json(r.usage)}};
    default:
      return {{"id", id_},
              {"target", target_},
              {"text", r.text},
              {"tokens", r.tokens},
              {"finish_reason", r.finish_reason},
              {"usage", usage_json(r.usage)}};
  }
}

nlohmann::json ResponseFormat::embeddings(const std::vector<std::vector<float>>& vectors, int64_t prompt_tokens) const {
  if (dialect_ != Dialect::OpenAIEmbedding) return {{"target", target_}, {"embeddings", vectors}};
  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < vectors.size(); ++i) {
    nlohmann::json e = {{"object", "embedding"}, {"index", i}};
    if (base64_) {
      // Little-endian float32 bytes, as OpenAI sends them (x86-64 is little-endian).
      e["embedding"] = base64(reinterpret_cast<const unsigned char*>(vectors[i].data()), vectors[i].size() * sizeof(float));
    } else {
      e["embedding"] = vectors[i];
    }
    data.push_back(std::move(e));
  }
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", target_},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
}

}  // namespace hearth::gateway
