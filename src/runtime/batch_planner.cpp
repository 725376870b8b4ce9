#include "runtime/batch_planner.h"

#include <algorithm>

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth {

BatchPlanner::BatchPlanner(int64_t decode_budget, int64_t prefill_budget, int n_slots)
    : decode_budget_(decode_budget), prefill_budget_(prefill_budget) {
  if (decode_budget < 1 || prefill_budget < 1)
    throw Error(fmt::format("batch budgets must be at least 1 token (decode {}, prefill {})", decode_budget,
                            prefill_budget));
  order_.reserve(size_t(n_slots));
}

TickPlan BatchPlanner::make_plan() const {
  TickPlan p;
  p.batch.resize(size_t(max_batch()));
  p.rows.resize(size_t(max_batch()));
  return p;
}

void BatchPlanner::plan(const std::vector<SlotPlanState>& slots, TickPlan& p) {
  p.n = p.n_decode = p.n_prefill = p.n_logits = 0;
  const int n_slots = int(slots.size());

  // Decode rows: every streaming request, round-robin from rr_ when they outnumber the budget.
  int visited = 0;
  for (int k = 0; k < n_slots && p.n_decode < decode_budget_; k++) {
    const int i = (rr_ + k) % n_slots;
    visited = k + 1;
    const SlotPlanState& s = slots[size_t(i)];
    if (!s.decoding()) continue;
    p.batch[size_t(p.n)] = {s.pending, int32_t(s.pos), s.seq, true};
    p.rows[size_t(p.n)] = {int32_t(i), s.request, false, true};
    p.n++;
    p.n_decode++;
    p.n_logits++;
  }
  if (n_slots > 0) rr_ = (rr_ + visited) % n_slots;

  // Prompt tokens: oldest admitted request first, as many as the prefill budget allows.
  order_.clear();
  for (int i = 0; i < n_slots; i++)
    if (slots[size_t(i)].active && !slots[size_t(i)].decoding()) order_.push_back(i);
  std::sort(order_.begin(), order_.end(),
            [&](int a, int b) { return slots[size_t(a)].admitted < slots[size_t(b)].admitted; });
  int64_t budget = prefill_budget_;
  for (int i : order_) {
    if (budget == 0) break;
    const SlotPlanState& s = slots[size_t(i)];
    const int64_t len = int64_t(s.prompt->size());
    const int64_t take = std::min(budget, len - s.pos);
    for (int64_t j = 0; j < take; j++) {
      const int64_t pos = s.pos + j;
      const bool last = pos + 1 == len;
      p.batch[size_t(p.n)] = {(*s.prompt)[size_t(pos)], int32_t(pos), s.seq, last};
      p.rows[size_t(p.n)] = {int32_t(i), s.request, true, last};
      p.n++;
      p.n_prefill++;
      p.n_logits += last ? 1 : 0;
    }
    budget -= take;
  }
}

}  // namespace hearth
