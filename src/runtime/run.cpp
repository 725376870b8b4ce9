#include <fmt/format.h>

#include "hearth/client.h"
#include "hearth/error.h"
#include "runtime/run_state.h"

namespace hearth {

Run::Run(std::shared_ptr<RunState> state) : state_(std::move(state)) {}

uint64_t Run::id() const { return state_->id; }

std::optional<TokenBatch> Run::next() {
  std::unique_lock lk(state_->mu);
  state_->cv.wait(lk, [&] { return !state_->batches.empty() || state_->finished; });
  if (state_->batches.empty()) return std::nullopt;
  TokenBatch b = std::move(state_->batches.front());
  state_->batches.pop_front();
  return b;
}

const Response& Run::wait() & {
  std::unique_lock lk(state_->mu);
  state_->cv.wait(lk, [&] { return state_->finished; });
  if (state_->response.finish_reason == "error")
    throw Error(fmt::format("request {} failed: {}", state_->id, state_->response.error));
  return state_->response;
}

Response Run::wait() && { return static_cast<Run&>(*this).wait(); }

bool Run::done() const {
  std::lock_guard lk(state_->mu);
  return state_->finished;
}

void Run::cancel() { state_->cancel_requested.store(true, std::memory_order_relaxed); }

}  // namespace hearth
