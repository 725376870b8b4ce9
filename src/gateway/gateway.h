#pragma once
// The gateway: an HTTP(S) server (Boost.Beast, asynchronous: connections cost no thread) in front of a
// hearth::Client. Each model request is authenticated, validated, checked against its caller's targets and
// rate limits, admitted under the concurrency limits, then run on a worker (one per admitted request, at most
// max_concurrency) while its connection streams the result. A client that disconnects cancels its run.
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gateway/gateway_config.h"
#include "hearth/client.h"

namespace hearth::gateway {

class Gateway {
 public:
  // Loads every target into its own Client (or the one given); throws hearth::Error on a bad target.
  // Log lines (one per request, reloads, errors) go to `log`, scrubbed of secrets.
  explicit Gateway(GatewayConfig config, std::ostream& log);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds every listener (port 0 picks a free port) and starts serving.
  void start();
  // The bound ports, in listener order.
  std::vector<uint16_t> ports() const;
  // New tokens, limits, CORS and new targets; running requests and open streams keep going. Listener and
  // changed-target settings need a restart (logged).
  void reload(GatewayConfig config);
  // Closes listeners and connections, cancels runs, joins threads.
  void stop();

  Client& client();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::gateway
