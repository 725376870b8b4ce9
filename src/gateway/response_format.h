#pragma once
// What a model route sends back, per dialect: the whole JSON response, or the SSE events of a stream
// (token batches, optional usage, the final event with finish metadata, errors).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/model_request.h"
#include "hearth/client.h"

namespace hearth::gateway {

class ResponseFormat {
 public:
  ResponseFormat(const ModelRequest& request, uint64_t id);

  // SSE: the events that open the stream (OpenAI chat sends the assistant role first).
  std::string stream_start() const;
  std::string stream_batch(const TokenBatch& batch) const;
  // The finish event(s), usage when asked for, and the end marker.
  std::string stream_end(const Response& response) const;
  std::string stream_error(int status, const std::string& message) const;

  nlohmann::json complete(const Response& response) const;
  nlohmann::json embeddings(const std::vector<std::vector<float>>& vectors, int64_t prompt_tokens) const;

 private:
  nlohmann::json usage_json(const Usage& u) const;
  nlohmann::json chunk(nlohmann::json choice) const;
  static std::string finish_reason(const Response& r);
  Dialect dialect_;
  std::string target_;
  bool include_usage_;
  bool base64_;
  std::string id_;
  int64_t created_;
};

// "data: <json>\n\n", optionally with an event name.
std::string sse_event(const nlohmann::json& data, const char* event = nullptr);

}  // namespace hearth::gateway
