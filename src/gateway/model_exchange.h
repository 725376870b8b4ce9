#pragma once
// One admitted model request, shared between the connection that asked for it (on the io strand) and the
// worker that runs it on the Client. The worker appends response bytes and wakes the connection; the
// connection writes them, and cancels the run when its client goes away or the request times out.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it

#include <boost/asio/steady_timer.hpp>

#include "gateway/model_request.h"
#include "gateway/response_format.h"
#include "hearth/client.h"

namespace hearth::gateway {

struct Exchange {
  Exchange(boost::asio::any_io_executor strand, ModelRequest request, uint64_t id)
      : id(id), request(std::move(request)), format(this->request, id), wake(strand) {}

  const uint64_t id;
  const ModelRequest request;
  const ResponseFormat format;
  Endpoint endpoint;
  std::string caller;                 // the token's name
  double tokens_per_minute = 0;
  boost::asio::steady_timer wake;     // the connection waits on it; notify() cancels it

  std::mutex mu;
  int status = 0;                     // 0 until the run started (200) or failed before starting
  std::string pending;                // response bytes not yet written (SSE events, or the whole body)
  bool finished = false;
  bool admitted = false;
  bool cancelled = false;
  bool client_gone = false;
  bool watch_done = true;
  bool wake_posted = false;
  std::optional<Run> run;

  // Worker side: called with mu NOT held.
  void notify(std::shared_ptr<Exchange> self);
  // Connection side: stop the run (or keep it from starting).
  void cancel();
};

}  // namespace hearth::gateway
