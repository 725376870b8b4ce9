// The scheduler's parts on their own: the batch planner's budgets and order, and the KV-cache manager's
// choice of sequence, prefix reuse, eviction and snapshot restore (on a small KvCache, no model).
#include <cstring>

#include <gtest/gtest.h>

#include "hearth/error.h"
#include "model/kv_cache.h"
#include "runtime/batch_planner.h"
#include "runtime/kv_cache_manager.h"
#include "runtime/prefix_snapshot.h"

namespace {

using hearth::TokenId;
using Tokens = std::vector<TokenId>;

hearth::SlotPlanState slot(uint64_t request, uint64_t admitted, int seq, const Tokens* prompt, int64_t pos) {
  hearth::SlotPlanState s;
  s.active = true;
  s.request = request;
  s.admitted = admitted;
  s.seq = seq;
  s.prompt = prompt;
  s.pos = pos;
  s.pending = 7;
  return s;
}

TEST(BatchPlanner, DecodeRowsFirstThenPromptTokensUnderTheirOwnBudget) {
  hearth::BatchPlanner planner(/*decode=*/4, /*prefill=*/10, /*slots=*/4);
  hearth::TickPlan plan = planner.make_plan();
  const Tokens short_prompt = {1, 2, 3};
  const Tokens long_prompt(25, 5);
  std::vector<hearth::SlotPlanState> slots(4);
  slots[0] = slot(100, 0, 0, &short_prompt, 3);      // decoding
  slots[1] = slot(101, 2, 1, &long_prompt, 0);       // prefilling, admitted after slot 3
  slots[3] = slot(103, 1, 3, &short_prompt, 1);      // prefilling, two tokens left
  planner.plan(slots, plan);
  ASSERT_EQ(plan.n, 11);
  EXPECT_EQ(plan.n_decode, 1);
  EXPECT_EQ(plan.n_prefill, 10);
  // Row 0: the stream's pending token at its next position, with logits.
  EXPECT_EQ(plan.batch[0].seq, 0);
  EXPECT_EQ(plan.batch[0].token, 7);
  EXPECT_EQ(plan.batch[0].pos, 3);
  EXPECT_TRUE(plan.batch[0].logits);
  // Then the older prefill (slot 3) finishes its prompt, logits on its last token only.
  EXPECT_EQ(plan.batch[1].seq, 3);
  EXPECT_FALSE(plan.batch[1].logits);
  EXPECT_EQ(plan.batch[2].seq, 3);
  EXPECT_EQ(plan.batch[2].pos, 2);
  EXPECT_TRUE(plan.batch[2].logits);
  // And the long prompt takes the rest of the budget, without logits (its last token is not reached).
  for (int i = 3; i < 11; i++) {
    EXPECT_EQ(plan.batch[size_t(i)].seq, 1);
    EXPECT_EQ(plan.batch[size_t(i)].pos, i - 3);
    EXPECT_FALSE(plan.batch[size_t(i)].logits);
  }
  EXPECT_EQ(plan.n_logits, 2);
}

TEST(BatchPlanner, StreamsBeyondTheDecodeBudgetTakeTurns) {
  hearth::BatchPlanner planner(/*decode=*/2, /*prefill=*/4, /*slots=*/3);
  hearth::TickPlan plan = planner.make_plan();
  const Tokens p = {1};
  std::vector<hearth::SlotPlanState> slots = {slot(1, 0, 0, &p, 1), slot(2, 1, 1, &p, 1), slot(3, 2, 2, &p, 1)};
  std::vector<int> served(3, 0);
  for (int tick = 0; tick < 3; tick++) {
    planner.plan(slots, plan);
    ASSERT_EQ(plan.n_decode, 2);
    for (int i = 0; i < plan.n; i++) served[size_t(plan.batch[size_t(i)].seq)]++;
  }
  EXPECT_EQ(served, (std::vector<int>{2, 2, 2}));   // round robin: nobody starves
  EXPECT_THROW(hearth::BatchPlanner(0, 4, 1), hearth::Error);
}

hearth::ModelConfig tiny_config() {
  hearth::ModelConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_head_kv = 1;
  c.head_dim_k = c.head_dim_v = 4;
  return c;
}

// Writes a recognisable value into every key/value row of (seq, pos) so copies can be checked.
void stamp(hearth::KvCache& cache, int seq, int64_t pos, float value) {
  for (int64_t l = 0; l < cache.n_layer(); l++)
    for (int i = 0; i < 4; i++) {
      static_cast<float*>(cache.k_row(l, seq, pos))[i] = value + float(l);
      static_cast<float*>(cache.v_row(l, seq, pos))[i] = -value - float(l);
    }
}

float key_at(hearth::KvCache& cache, int seq, int64_t pos, int64_t layer = 1) {
  return static_cast<float*>(cache.k_row(layer, seq, pos))[0];
}

TEST(KvCacheManager, ContextKeysStayResidentAndTheLeastRecentlyUsedIsEvicted) {
  hearth::KvCache cache(tiny_config(), 32, 2, hearth::KvType::F32);
  hearth::KvCacheManager kv(cache, /*keep_resident=*/true);
  const Tokens a = {1, 10, 11, 12}, b = {1, 20, 21}, c = {1, 30};
  auto la = kv.acquire("a", a, nullptr);
  ASSERT_TRUE(la);
  for (TokenId t : a) kv.append(la->seq, t);
  auto lb = kv.acquire("b", b, nullptr);
  ASSERT_TRUE(lb);
  EXPECT_NE(la->seq, lb->seq);
  EXPECT_EQ(lb->reused, 1);                             // the BOS, copied from a's sequence
  EXPECT_FALSE(kv.acquire("c", c, nullptr));          // both busy: wait
  for (size_t i = 1; i < b.size(); i++) kv.append(lb->seq, b[i]);
  kv.release(la->seq);   // a is now the least recently used
  kv.release(lb->seq);
  auto lc = kv.acquire("c", c, nullptr);
  ASSERT_TRUE(lc);
  EXPECT_TRUE(lc->evicted);
  EXPECT_EQ(lc->seq, la->seq);
  EXPECT_EQ(lc->reused, 1);                              // the BOS both prompts start with
  for (size_t i = 1; i < c.size(); i++) kv.append(lc->seq, c[i]);
  // b's follow-up finds its own sequence, everything it held reused.
  const Tokens b2 = {1, 20, 21, 22, 23};
  auto lb2 = kv.acquire("b", b2, nullptr);
  ASSERT_TRUE(lb2);
  EXPECT_TRUE(lb2->context_hit);
  EXPECT_FALSE(lb2->evicted);
  EXPECT_EQ(lb2->seq, lb->seq);
  EXPECT_EQ(lb2->reused, 3);
  kv.release(lb2->seq);
  kv.release(lc->seq);
  // a was evicted: it comes back cold, taking the least recently used context (b's).
  auto la2 = kv.acquire("a", a, nullptr);
  ASSERT_TRUE(la2);
  EXPECT_FALSE(la2->context_hit);
  EXPECT_TRUE(la2->evicted);
  EXPECT_EQ(la2->seq, lb->seq);
  EXPECT_EQ(kv.key(la2->seq), "a");
  EXPECT_THROW(kv.acquire("x", Tokens(32, 1), nullptr), hearth::Error);   // no room for a generated token
}

TEST(KvCacheManager, ReusesCopiesAndRestoresPrefixes) {
  hearth::KvCache cache(tiny_config(), 32, 3, hearth::KvType::F32);
  hearth::KvCacheManager kv(cache, /*keep_resident=*/true);
  const Tokens first = {1, 2, 3, 4, 5, 6};
  auto l1 = kv.acquire("", first, nullptr);
  ASSERT_TRUE(l1);
  EXPECT_EQ(l1->reused, 0);
  for (size_t i = 0; i < first.size(); i++) {
    stamp(cache, l1->seq, int64_t(i), float(100 + i));
    kv.append(l1->seq, first[i]);
  }
  // Same sequence, longer prompt: the whole earlier prompt is reused in place.
  kv.release(l1->seq);
  const Tokens longer = {1, 2, 3, 4, 5, 6, 7, 8};
  auto l2 = kv.acquire("", longer, nullptr);
  ASSERT_TRUE(l2);
  EXPECT_EQ(l2->seq, l1->seq);
  EXPECT_EQ(l2->reused, 6);
  // While it is busy, a keyed request sharing 4 tokens gets another sequence with those rows copied in.
  const Tokens other = {1, 2, 3, 4, 9, 9};
  auto l3 = kv.acquire("k", other, nullptr);
  ASSERT_TRUE(l3);
  EXPECT_NE(l3->seq, l2->seq);
  EXPECT_TRUE(l3->copied);
  EXPECT_EQ(l3->reused, 4);
  EXPECT_EQ(key_at(cache, l3->seq, 3), 103.0f + 1.0f);
  EXPECT_EQ(kv.tokens(l3->seq), Tokens({1, 2, 3, 4}));
  // The same key while its request runs must wait (one request per context, in order).
  EXPECT_FALSE(kv.acquire("k", other, nullptr));

  // A snapshot of 5 tokens restores into the last free sequence for a prompt that shares all 5.
  hearth::SnapshotLayout layout;
  layout.fingerprint = std::string(64, 'a');
  layout.n_layer = 2;
  layout.kv_dim_k = layout.kv_dim_v = 4;
  layout.type = hearth::KvType::F32;
  layout.n_ctx = 32;
  layout.n_vocab = 100;
  hearth::SnapshotStore store(layout, "", 4);
  store.capture("five", {1, 2, 3, 4, 5}, cache, l2->seq);
  kv.forget(l2->seq);   // now only the snapshot holds all five
  const Tokens with_prefix = {1, 2, 3, 4, 5, 50, 51};
  auto l4 = kv.acquire("", with_prefix, &store);
  ASSERT_TRUE(l4);
  EXPECT_EQ(l4->restored, 5);
  EXPECT_EQ(l4->reused, 5);
  EXPECT_EQ(key_at(cache, l4->seq, 4), 104.0f + 1.0f);
  EXPECT_EQ(key_at(cache, l4->seq, 0, 0), 100.0f);
}

}  // namespace
