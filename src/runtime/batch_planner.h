#pragma once
// Builds one tick's batch: a flat list of token contributions from every active request, decode rows first
// (one per streaming request, under the decode budget) and then prompt tokens under a separate prefill
// budget, oldest request first, a long prompt split across ticks. So a stream gets a token every tick no
// matter how long the prompts arriving behind it are, and those prompts still progress every tick.
#include <cstdint>
#include <vector>

#include "hearth/tokenizer.h"
#include "model/transformer.h"

namespace hearth {

// What the planner needs to know about a slot (a request holding a KV sequence).
struct SlotPlanState {
  bool active = false;
  uint64_t request = 0;
  uint64_t admitted = 0;                       // admission order: older prompts are prefilled first
  int32_t seq = -1;
  const std::vector<TokenId>* prompt = nullptr;
  int64_t pos = 0;                             // next position = tokens the sequence already holds
  TokenId pending = 0;                         // decoding: the last sampled token, fed this tick
  bool decoding() const { return active && pos >= int64_t(prompt->size()); }
};

// One row of the batch, as the scheduler reads it back after the forward pass.
struct Contribution {
  int32_t slot;
  uint64_t request;
  bool prefill;
  bool logits;
};

struct TickPlan {
  std::vector<BatchToken> batch;         // capacity decode + prefill budget; the first n are used
  std::vector<Contribution> rows;        // parallel to batch
  int64_t n = 0, n_decode = 0, n_prefill = 0, n_logits = 0;
};

class BatchPlanner {
 public:
  BatchPlanner(int64_t decode_budget, int64_t prefill_budget, int n_slots);
  int64_t max_batch() const { return decode_budget_ + prefill_budget_; }
  int64_t decode_budget() const { return decode_budget_; }
  int64_t prefill_budget() const { return prefill_budget_; }

  // Fills `plan` (sized by make_plan) from the slots; allocates nothing.
  void plan(const std::vector<SlotPlanState>& slots, TickPlan& plan);
  TickPlan make_plan() const;

 private:
  int64_t decode_budget_, prefill_budget_;
  int rr_ = 0;                      // first slot considered for decode when streams exceed the budget
  std::vector<int> order_;          // scratch: prefilling slots by admission order
};

}  // namespace hearth
