#pragma once
// GET /admin: one self-contained HTML page (no scripts, refreshes itself) with targets, live requests,
// queue, tok/s, cache hits and errors.
#include <string>
#include <vector>

#include "gateway/metrics.h"
#include "hearth/runtime_metrics.h"

namespace hearth::gateway {

struct AdminTarget {
  std::string name, kind;
  int running = 0, max_concurrency = 0;
  TargetTotals totals;
  bool has_stats = false;
  EndpointStats stats;   // the Client's scheduler counters (local targets)
};

struct AdminSnapshot {
  double uptime_seconds = 0;
  int running = 0, max_running = 0, queued = 0, max_queue = 0;
  uint64_t errors = 0;
  std::vector<AdminTarget> targets;
  std::vector<LiveRequest> live;
};

std::string render_admin_page(const AdminSnapshot& s);

}  // namespace hearth::gateway
