#include "runtime/remote/remote_run.h"

#include <future>
#include <thread>

#include "hearth/error.h"

namespace hearth::remote {

namespace {
std::atomic<uint64_t> g_next_id{1};
}

void RunFeed::batch(TokenBatch b) {
  if (state_->on_tokens) state_->on_tokens(b);
  {
    std::lock_guard lk(state_->mu);
    state_->batches.push_back(std::move(b));
  }
  state_->cv.notify_all();
}

void RunFeed::finish(Response r) {
  {
    std::lock_guard lk(state_->mu);
    r.id = state_->id;
    // The caller's own prompt_source wins; otherwise keep what the remote side resolved (a gateway reports
    // the prompt:// reference it rendered).
    if (state_->response.usage.prompt) r.usage.prompt = std::move(state_->response.usage.prompt);
    state_->response = std::move(r);
    state_->finished = true;
  }
  state_->cv.notify_all();
}

void RunFeed::fail(const std::string& message) {
  Response r;
  r.finish_reason = "error";
  r.error = message;
  finish(std::move(r));
}

RemoteRuns::~RemoteRuns() {
  std::unique_lock lk(mu_);
  for (auto& weak : states_)
    if (auto s = weak.lock()) s->cancel_requested.store(true);
  cv_.wait(lk, [&] { return active_ == 0; });
}

Run RemoteRuns::start(std::function<void(RunFeed&, const std::function<void()>&)> work,
                      const RequestOptions& options) {
  auto state = std::make_shared<RunState>();
  state->id = g_next_id.fetch_add(1);
  state->on_tokens = options.on_tokens;
  state->response.usage.prompt = options.prompt_source;
  state->submitted = RuntimeClock::now();
  auto accepted = std::make_shared<std::promise<void>>();
  std::future<void> accepted_future = accepted->get_future();
  {
    std::lock_guard lk(mu_);
    ++active_;
    std::erase_if(states_, [](const std::weak_ptr<RunState>& w) { return w.expired(); });
    states_.push_back(state);
  }
  std::thread([this, state, accepted, work = std::move(work)] {
    RunFeed feed(state);
    bool reported = false;
    auto started = [&] {
      if (!reported) accepted->set_value();
      reported = true;
    };
    try {
      work(feed, started);
      started();
    } catch (...) {
      if (!reported) {
        reported = true;
        accepted->set_exception(std::current_exception());
        feed.fail("refused");
      } else {
        try {
          throw;
        } catch (const std::exception& e) {
          feed.fail(e.what());
        }
      }
    }
    std::lock_guard lk(mu_);
    --active_;
    cv_.notify_all();
  }).detach();
  accepted_future.get();  // rethrows the remote side's refusal
  return Run(state);
}

}  // namespace hearth::remote
