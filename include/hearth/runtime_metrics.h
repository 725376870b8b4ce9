#pragma once
// What a local endpoint's scheduler reports: one record per tick, and counters since it started.
#include <cstdint>

namespace hearth {

struct TickMetrics {
  uint64_t index = 0;          // tick number, from 0
  int32_t decode_rows = 0;     // tokens of active streams (one per stream)
  int32_t prefill_rows = 0;    // prompt tokens
  int32_t logits_rows = 0;     // rows sampled this tick
  int32_t active = 0;          // requests holding a sequence
  int32_t queued = 0;          // requests waiting for one
  double start_seconds = 0;    // since the endpoint started
  double seconds = 0;          // planning + forward + sampling
};

struct EndpointStats {
  uint64_t ticks = 0;
  uint64_t requests_admitted = 0, requests_finished = 0, requests_cancelled = 0, requests_refused = 0;
  uint64_t prompt_tokens = 0;
  uint64_t cached_tokens = 0;      // prompt tokens served from resident KV (cache hits)
  uint64_t context_hits = 0;       // requests whose contextKey found its sequence resident
  uint64_t evictions = 0;          // idle sequences reassigned to another context
  uint64_t prefix_copies = 0;      // requests that copied a prefix from another resident sequence
  uint64_t snapshot_restores = 0;  // requests that restored a prefix snapshot
  uint64_t decode_rows = 0, prefill_rows = 0;
  int32_t max_batch = 0;           // largest tick, in rows
  double busy_seconds = 0;         // time spent in ticks
};

}  // namespace hearth
