#pragma once
// A model behind an OpenAI-compatible API: POST {base_url}/completions, /chat/completions (streamed with
// SSE, usage requested through stream_options) and /embeddings. The key comes from the environment variable
// or the callback at each request, travels only in the Authorization header and is scrubbed from errors.
#include "runtime/remote/remote_run.h"
#include "runtime/remote_endpoint.h"

namespace hearth::remote {

class ProviderEndpoint : public RemoteEndpoint {
 public:
  ProviderEndpoint(std::string name, ProviderEndpointOptions options);
  Run query(const QueryRequest& request) override;
  Run chat(const ChatRequest& request) override;
  std::vector<std::vector<float>> embed(const EmbedRequest& request) override;

 private:
  std::string api_key() const;
  nlohmann::json common_fields(const RequestOptions& o) const;
  Run stream(const std::string& route, nlohmann::json body, const RequestOptions& options, bool chat);
  std::string name_;
  std::string base_;
  ProviderEndpointOptions options_;
  RemoteRuns runs_;
};

}  // namespace hearth::remote
