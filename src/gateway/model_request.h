#pragma once
// The body of a model route (OpenAI's chat/completions/embeddings or hearth's query/chat/embed), validated
// and translated into the Client's typed request. Anything unknown, mistyped or out of range is a 400 that
// names the field; nothing in a body can override a typed field.
#include <string>

#include <nlohmann/json.hpp>

#include "hearth/client.h"

namespace hearth::gateway {

enum class Dialect { OpenAIChat, OpenAICompletion, OpenAIEmbedding, HearthQuery, HearthChat, HearthEmbed };
enum class Operation { Query, Chat, Embed };

Operation operation_of(Dialect d);
bool is_openai(Dialect d);

struct ModelRequest {
  Dialect dialect = Dialect::HearthQuery;
  std::string target;
  bool stream = false;
  bool include_usage = false;        // OpenAI stream_options.include_usage
  bool base64_embeddings = false;    // OpenAI encoding_format = "base64"
  QueryRequest query;
  ChatRequest chat;
  EmbedRequest embed;
  // A prompt:// reference in place of the prompt text (query), or as one message's whole content (chat):
  // the gateway resolves it from its registry and renders it with these variables.
  std::string prompt_ref;
  int prompt_message = -1;           // chat: the message it stands for
  nlohmann::json prompt_variables = nlohmann::json::object();
  std::string user;                  // end-user id ("user"): the A/B split key; empty: the token's name
  RequestOptions& options() { return operation_of(dialect) == Operation::Chat ? static_cast<RequestOptions&>(chat) : query; }
};

// Throws ApiError(400).
ModelRequest parse_model_request(Dialect dialect, const nlohmann::json& body);

}  // namespace hearth::gateway
