#pragma once
// A local endpoint: one model, one scheduler thread running ticks. Each tick admits queued requests to free
// KV sequences, plans one batch (decode rows first, then prompt tokens, under separate budgets), runs one
// forward pass over it, samples every request whose logits came out, and streams what each produced.
// Buffers (plan, logits, histories, token lists, tick log) are sized at start or admission; a tick allocates
// only for the text it hands out (each TokenBatch, the response text, stop-string matching).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/sampler.h"
#include "engine/stop_strings.h"
#include "hearth/client.h"
#include "runtime/batch_planner.h"
#include "runtime/kv_cache_manager.h"
#include "runtime/local_model.h"
#include "runtime/prefix_snapshot.h"
#include "runtime/run_state.h"
#include "runtime/tick_log.h"

namespace hearth {

class LocalEndpoint {
 public:
  LocalEndpoint(std::string name, const LocalEndpointOptions& options);
  ~LocalEndpoint();   // stops the scheduler; runs still queued or active end with an error
  LocalEndpoint(const LocalEndpoint&) = delete;
  LocalEndpoint& operator=(const LocalEndpoint&) = delete;

  const std::string& name() const { return name_; }
  const LocalModel& model() const { return *model_; }
  int64_t n_ctx() const { return model_->kv().n_ctx(); }
  const std::string& backend() const { return model_->backend_name; }

  // Queues a run (prompt already tokenized); throws hearth::Error when it cannot be admitted.
  void submit(const std::shared_ptr<RunState>& run);
  SnapshotInfo load_snapshot(const std::string& path);
  std::vector<SnapshotInfo> snapshots() const;

  EndpointStats stats() const;
  std::vector<TickMetrics> recent_ticks(size_t limit) const;

 private:
  // A request holding KV sequence i lives in slots_[i].
  struct Slot {
    std::shared_ptr<RunState> run;          // null: free
    uint64_t admitted = 0;                  // admission order
    int64_t pos = 0;                        // tokens the sequence holds
    TokenId pending = 0;                    // decoding: the last sampled token, fed next tick
    int32_t generated = 0;
    std::optional<Sampler> sampler;
    std::optional<StreamingDetokenizer> detok;
    std::optional<StopStringMatcher> stops;
    std::shared_ptr<GrammarMatcher> grammar;  // null: unconstrained
    std::vector<TokenId> history;           // prompt + generated, for the penalties; capacity n_ctx
    TokenBatch out;                         // what this tick produced
    RuntimeClock::time_point admitted_at, first_token_at;
  };

  void loop();
  void admit_queued();                      // called with mu_ held
  void tick();
  void sample(int seq, float* logits, uint64_t tick);
  void emit_text(Slot& s, const std::string& text);
  void deliver(Slot& s);
  void finish(int seq, const char* reason, const std::string& error = {});
  void fail_all(const std::string& error);

  std::string name_;
  LocalEndpointOptions options_;
  std::unique_ptr<LocalModel> model_;
  std::string fingerprint_;
  std::unique_ptr<KvCacheManager> kv_;
  BatchPlanner planner_;
  TickPlan plan_;
  std::vector<SlotPlanState> plan_state_;
  std::vector<float> logits_;
  std::vector<Slot> slots_;
  int n_active_ = 0;
  uint64_t admitted_count_ = 0;
  uint64_t tick_index_ = 0;
  RuntimeClock::time_point started_;

  mutable std::mutex snap_mu_;              // the store is read by the scheduler, filled by callers too
  SnapshotStore snapshots_;

  std::mutex mu_;                           // queue_ and stop_
  std::condition_variable cv_;
  std::deque<std::shared_ptr<RunState>> queue_;
  bool stop_ = false;

  mutable std::mutex stats_mu_;
  EndpointStats stats_;
  TickLog ticks_{4096};

  std::thread thread_;
};

}  // namespace hearth
