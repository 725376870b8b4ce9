#pragma once
// The state one request shares between the caller's Run handle and the thread that runs it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include "hearth/client.h"

namespace hearth {

class GrammarMatcher;
using RuntimeClock = std::chrono::steady_clock;

struct RunState {
  // The request as admitted (read-only once submitted).
  uint64_t id = 0;
  std::vector<TokenId> prompt;
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  std::string context_key;
  std::shared_ptr<GrammarMatcher> grammar;   // structured output (grammar or json_schema); null: none
  std::function<void(const TokenBatch&)> on_tokens;
  std::string snapshot_scope;          // non-empty: prefill only, then keep the prompt's KV as this snapshot
  RuntimeClock::time_point submitted;

  std::atomic<bool> cancel_requested{false};

  // Written by the runner under mu (response fields before `finished` is set), read by Run.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<TokenBatch> batches;
  bool finished = false;
  Response response;
  SnapshotInfo snapshot;               // set for snapshot runs
};

}  // namespace hearth
