#include "gateway/admission.h"

#include <vector>

namespace hearth::gateway {

bool Admission::fits(const std::string& target, int target_limit) const {
  if (running_ >= max_running_) return false;
  if (target_limit <= 0) return true;
  auto it = running_by_target_.find(target);
  return it == running_by_target_.end() || it->second < target_limit;
}

Admission::Result Admission::enter(uint64_t id, const std::string& target, int target_limit,
                                   std::function<void()> start) {
  {
    std::lock_guard lk(mu_);
    if (!fits(target, target_limit)) {
      if (static_cast<int>(queue_.size()) >= max_queue_) return Result::Refused;
      queue_.push_back(Waiter{id, target, target_limit, std::move(start)});
      return Result::Queued;
    }
    ++running_;
    ++running_by_target_[target];
  }
  start();
  return Result::Started;
}

void Admission::release(const std::string& target) {
  std::vector<std::function<void()>> starts;
  {
    std::lock_guard lk(mu_);
    --running_;
    if (--running_by_target_[target] == 0) running_by_target_.erase(target);
    for (auto it = queue_.begin(); it != queue_.end() && running_ < max_running_;) {
      if (fits(it->target, it->target_limit)) {
        ++running_;
        ++running_by_target_[it->target];
        starts.push_back(std::move(it->start));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& start : starts) start();
}

bool Admission::leave(uint64_t id) {
  std::lock_guard lk(mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (it->id == id) {
      queue_.erase(it);
      return true;
    }
  }
  return false;
}

void Admission::set_limits(int max_running, int max_queue) {
  std::lock_guard lk(mu_);
  max_running_ = max_running;
  max_queue_ = max_queue;
}

int Admission::running() const {
  std::lock_guard lk(mu_);
  return running_;
}

int Admission::queued() const {
  std::lock_guard lk(mu_);
  return static_cast<int>(queue_.size());
}

int Admission::running(const std::string& target) const {
  std::lock_guard lk(mu_);
  auto it = running_by_target_.find(target);
  return it == running_by_target_.end() ? 0 : it->second;
}

}  // namespace hearth::gateway
