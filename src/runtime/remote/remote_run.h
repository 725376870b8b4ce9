#pragma once
// The Run machinery for remote endpoints: each request runs on a thread of its own that owns the HTTP
// exchange and feeds the shared RunState. The caller waits only until the remote side has answered with a
// status, so refusals (400/401/403/429/503) throw from query()/chat() like a local endpoint's do.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "hearth/client.h"
#include "runtime/run_state.h"

namespace hearth::remote {

// What the worker uses to report progress.
class RunFeed {
 public:
  explicit RunFeed(std::shared_ptr<RunState> state) : state_(std::move(state)) {}
  const std::atomic<bool>& cancel_flag() const { return state_->cancel_requested; }
  bool cancelled() const { return state_->cancel_requested.load(std::memory_order_relaxed); }
  void batch(TokenBatch b);
  void finish(Response r);
  void fail(const std::string& message);

 private:
  std::shared_ptr<RunState> state_;
};

class RemoteRuns {
 public:
  ~RemoteRuns();  // cancels whatever still runs and waits for it
  // `work(feed, started)` must call started() once the remote side accepted the request, or throw before.
  // `options` gives the token callback and the prompt source recorded in the response's usage.
  Run start(std::function<void(RunFeed& feed, const std::function<void()>& started)> work,
            const RequestOptions& options);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  std::vector<std::weak_ptr<RunState>> states_;
};

}  // namespace hearth::remote
