#pragma once
// Per-token rate limits: requests per minute and tokens per minute, as token buckets that refill continuously.
// A request is let in when both buckets are positive; its tokens are charged when its usage is known, so one
// large request may push the tokens bucket below zero and the next request waits until it refills.
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hearth::gateway {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // 0 seconds when admitted (and one request charged); otherwise how long until it would be.
  double try_acquire(const std::string& key, double requests_per_minute, double tokens_per_minute,
                     Clock::time_point now = Clock::now());
  void charge_tokens(const std::string& key, double tokens, double tokens_per_minute,
                     Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double level = 0;
    Clock::time_point updated;
    bool initialised = false;
  };
  static void refill(Bucket& b, double per_minute, Clock::time_point now);
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> requests_, tokens_;
};

}  // namespace hearth::gateway
