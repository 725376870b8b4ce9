#pragma once
// The most recent ticks' metrics in a ring allocated once, so recording a tick allocates nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hearth/runtime_metrics.h"

namespace hearth {

class TickLog {
 public:
  explicit TickLog(size_t capacity) : ring_(capacity) {}
  void record(const TickMetrics& t) {
    ring_[size_t(count_ % ring_.size())] = t;
    count_++;
  }
  // Oldest first, at most `limit`.
  std::vector<TickMetrics> recent(size_t limit) const {
    const size_t have = size_t(std::min<uint64_t>(count_, ring_.size()));
    const size_t n = std::min(limit, have);
    std::vector<TickMetrics> out;
    out.reserve(n);
    for (uint64_t i = count_ - n; i < count_; i++) out.push_back(ring_[size_t(i % ring_.size())]);
    return out;
  }

 private:
  std::vector<TickMetrics> ring_;
  uint64_t count_ = 0;
};

}  // namespace hearth
