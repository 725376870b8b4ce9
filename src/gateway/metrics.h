#pragma once
// The gateway's counters: requests by route and status, tokens and time per target, and the requests alive
// right now (queued or running) for the admin page. Rendered in Prometheus' text format.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "hearth/client.h"

namespace hearth::gateway {

struct LiveRequest {
  uint64_t id = 0;
  std::string route, target, caller;
  bool running = false;
  int64_t completion_tokens = 0;
  std::chrono::steady_clock::time_point since;
};

struct TargetTotals {
  uint64_t requests = 0, errors = 0;
  uint64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
  double decode_seconds = 0, ttft_seconds_sum = 0, request_seconds_sum = 0;
  uint64_t ttft_count = 0;
};

class Metrics {
 public:
  void request_done(const std::string& route, const std::string& target, int status, double seconds);
  void usage(const std::string& target, const Usage& usage);
  // A request rendered from a registry prompt, by name, version and content hash.
  void prompt_used(const PromptUsage& p);
  void rate_limited() { rate_limited_.fetch_add(1, std::memory_order_relaxed); }
  void refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  void disconnected() { disconnected_.fetch_add(1, std::memory_order_relaxed); }
  void connection(int delta) { connections_.fetch_add(delta, std::memory_order_relaxed); }

  void live_add(const LiveRequest& r);
  void live_running(uint64_t id);
  void live_tokens(uint64_t id, int64_t n);
  void live_remove(uint64_t id);
  std::vector<LiveRequest> live() const;
  std::map<std::string, TargetTotals> targets() const;
  uint64_t errors_total() const;

  // Prometheus text; per-endpoint scheduler stats of local targets are appended by the caller.
  std::string prometheus(int running, int queued) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> by_route_status_;
  std::map<std::string, TargetTotals> targets_;
  std::map<uint64_t, LiveRequest> live_;
  std::map<std::tuple<std::string, int64_t, std::string>, uint64_t> prompts_;
  std::atomic<uint64_t> rate_limited_{0}, refused_{0}, disconnected_{0};
  std::atomic<int64_t> connections_{0};
};

}  // namespace hearth::gateway
