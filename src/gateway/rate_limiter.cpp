#include "gateway/rate_limiter.h"

#include <algorithm>

namespace hearth::gateway {

void RateLimiter::refill(Bucket& b, double per_minute, Clock::time_point now) {
  if (!b.initialised) {
    b.level = per_minute;  // a new caller starts with a full minute's allowance
    b.updated = now;
    b.initialised = true;
    return;
  }
  double seconds = std::chrono::duration<double>(now - b.updated).count();
  if (seconds > 0) {
    b.level = std::min(per_minute, b.level + seconds * per_minute / 60.0);
    b.updated = now;
  }
}

double RateLimiter::try_acquire(const std::string& key, double requests_per_minute, double tokens_per_minute,
                                Clock::time_point now) {
  std::lock_guard lk(mu_);
  double wait = 0;
  Bucket* requests = nullptr;
  if (requests_per_minute > 0) {
    requests = &requests_[key];
    refill(*requests, requests_per_minute, now);
    if (requests->level < 1) wait = std::max(wait, (1 - requests->level) * 60.0 / requests_per_minute);
  }
  if (tokens_per_minute > 0) {
    Bucket& tokens = tokens_[key];
    refill(tokens, tokens_per_minute, now);
    if (tokens.level <= 0) wait = std::max(wait, (1e-9 - tokens.level) * 60.0 / tokens_per_minute);
  }
  if (wait > 0) return wait;
  if (requests != nullptr) requests->level -= 1;
  return 0;
}

void RateLimiter::charge_tokens(const std::string& key, double tokens, double tokens_per_minute,
                                Clock::time_point now) {
  if (tokens_per_minute <= 0 || tokens <= 0) return;
  std::lock_guard lk(mu_);
  Bucket& b = tokens_[key];
  refill(b, tokens_per_minute, now);
  b.level -= tokens;
}

}  // namespace hearth::gateway
