#pragma once
// Admission control: at most N requests run at once over all targets and at most M per target; the rest wait
// in one bounded FIFO queue (a waiter whose target is full does not block waiters for other targets). A full
// queue refuses at once; a waiter can leave the queue (disconnect, queue timeout) without taking a slot.
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hearth::gateway {

class Admission {
 public:
  enum class Result { Started, Queued, Refused };

  Admission(int max_running, int max_queue) : max_running_(max_running), max_queue_(max_queue) {}

  // `start` runs (on this thread when Started, or on the releasing thread later) once the request holds a
  // slot; it must hand the work off quickly. `target_limit` 0 means only the global limit applies.
  Result enter(uint64_t id, const std::string& target, int target_limit, std::function<void()> start);
  // Gives a running request's slot to the next waiter that fits.
  void release(const std::string& target);
  // Removes a waiter; false when it was not queued (already started, or never admitted).
  bool leave(uint64_t id);
  // New limits (config reload); running requests keep their slots.
  void set_limits(int max_running, int max_queue);

  int running() const;
  int queued() const;
  int running(const std::string& target) const;

 private:
  struct Waiter {
    uint64_t id;
    std::string target;
    int target_limit;
    std::function<void()> start;
  };
  bool fits(const std::string& target, int target_limit) const;
  mutable std::mutex mu_;
  int max_running_, max_queue_;
  int running_ = 0;
  std::unordered_map<std::string, int> running_by_target_;
  std::list<Waiter> queue_;
};

}  // namespace hearth::gateway
