#pragma once
// A target on another hearth gateway: hearth's own /v1/query, /v1/chat and /v1/embed with typed fields and
// hearth's SSE events (tokens, usage, done, error), so token ids and full usage survive the hop.
#include "runtime/remote/remote_run.h"
#include "runtime/remote_endpoint.h"

namespace hearth::remote {

class GatewayEndpoint : public RemoteEndpoint {
 public:
  GatewayEndpoint(std::string name, GatewayEndpointOptions options);
  Run query(const QueryRequest& request) override;
  Run chat(const ChatRequest& request) override;
  std::vector<std::vector<float>> embed(const EmbedRequest& request) override;

 private:
  Run stream(const std::string& route, nlohmann::json body, const RequestOptions& options);
  nlohmann::json common_fields(const RequestOptions& o) const;
  std::string name_;
  std::string base_;
  GatewayEndpointOptions options_;
  RemoteRuns runs_;
};

}  // namespace hearth::remote
