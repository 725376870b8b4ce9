#pragma once
// An endpoint that runs elsewhere: a hearth gateway (POST {url}/v1/query|chat|embed with a bearer token and
// a target name) or an OpenAI-compatible provider (POST {base_url}/chat/completions, /completions,
// /embeddings). Requests stream over SSE on a worker thread; Run::cancel closes the connection.
// Local-only fields (context_key, grammar, sampling overrides) are refused here with a clear hearth::Error.
#include <memory>
#include <vector>

#include "hearth/client.h"

namespace hearth {

class RemoteEndpoint {
 public:
  // descriptor.options holds GatewayEndpointOptions or ProviderEndpointOptions; throws hearth::Error on a
  // bad URL or a missing API key. Does not contact the remote side.
  static std::shared_ptr<RemoteEndpoint> create(const EndpointDescriptor& descriptor);
  virtual ~RemoteEndpoint() = default;

  virtual Run query(const QueryRequest& request) = 0;
  virtual Run chat(const ChatRequest& request) = 0;
  virtual std::vector<std::vector<float>> embed(const EmbedRequest& request) = 0;
};

}  // namespace hearth
