#include "runtime/kv_cache_manager.h"

#include <fmt/format.h>

#include "hearth/error.h"
#include "runtime/prefix_snapshot.h"

namespace hearth {

namespace {
int64_t common_prefix(const std::vector<TokenId>& a, const std::vector<TokenId>& b) {
  size_t m = 0;
  while (m < a.size() && m < b.size() && a[m] == b[m]) m++;
  return int64_t(m);
}
}  // namespace

KvCacheManager::KvCacheManager(KvStore& cache, bool keep_resident)
    : cache_(cache), seqs_(size_t(cache.n_seq())), keep_resident_(keep_resident) {
  for (auto& s : seqs_) s.tokens.reserve(size_t(cache.n_ctx()));
}

int KvCacheManager::n_busy() const {
  int n = 0;
  for (const auto& s : seqs_) n += s.busy ? 1 : 0;
  return n;
}

// -1: wait. Sets lease.context_hit / lease.evicted.
int KvCacheManager::choose_sequence(const std::string& key, const std::vector<TokenId>& prompt, Lease& lease) const {
  if (!key.empty()) {
    for (int i = 0; i < n_seq(); i++) {
      if (seqs_[size_t(i)].key != key) continue;
      if (seqs_[size_t(i)].busy) return -1;  // one request per context at a time, in order
      lease.context_hit = true;
      return i;
    }
  }
  // An idle anonymous sequence: the one sharing the longest prefix, then the least recently used.
  int chosen = -1;
  int64_t best = -1;
  for (int i = 0; i < n_seq(); i++) {
    const Sequence& s = seqs_[size_t(i)];
    if (s.busy || !s.key.empty()) continue;
    const int64_t p = common_prefix(s.tokens, prompt);
    if (p > best || (p == best && s.last_used < seqs_[size_t(chosen)].last_used)) {
      best = p;
      chosen = i;
    }
  }
  if (chosen >= 0) return chosen;
  // Otherwise evict the least recently used idle context.
  for (int i = 0; i < n_seq(); i++) {
    const Sequence& s = seqs_[size_t(i)];
    if (!s.busy && (chosen < 0 || s.last_used < seqs_[size_t(chosen)].last_used)) chosen = i;
  }
  if (chosen >= 0) lease.evicted = true;
  return chosen;
}

std::optional<KvCacheManager::Lease> KvCacheManager::acquire(const std::string& key, const std::vector<TokenId>& prompt,
                                                             const SnapshotStore* snapshots) {
  if (prompt.empty() || int64_t(prompt.size()) >= cache_.n_ctx())
    throw Error(fmt::format("KV cache manager: a prompt of {} tokens for a context of {}", prompt.size(), cache_.n_ctx()));
  Lease lease;
  const int chosen = choose_sequence(key, prompt, lease);
  if (chosen < 0) return std::nullopt;
  Sequence& s = seqs_[size_t(chosen)];
  // At least the prompt's last token is recomputed, for its logits.
  const int64_t limit = int64_t(prompt.size()) - 1;
  int64_t own = std::min(common_prefix(s.tokens, prompt), limit);

  // A longer prefix elsewhere is copied in: busy sequences only grow past the rows copied, and the scheduler
  // thread is the only one touching the cache, so this is safe between forward passes.
  int from = -1;
  int64_t from_n = own;
  for (int i = 0; i < n_seq(); i++) {
    if (i == chosen) continue;
    const int64_t p = std::min(common_prefix(seqs_[size_t(i)].tokens, prompt), limit);
    if (p > from_n) {
      from_n = p;
      from = i;
    }
  }
  int64_t snap_n = 0;
  const PrefixSnapshot* snap = snapshots ? snapshots->best_match(prompt, &snap_n) : nullptr;
  snap_n = std::min(snap_n, limit);

  if (snap && snap_n > from_n) {
    // Snapshot rows are the prefix [0, snapshot size); only the first snap_n are meaningful for this prompt,
    // and the cache rows past snap_n are overwritten as the suffix is computed.
    cache_.write_prefix(chosen, int64_t(snap->tokens.size()), snap->k.data(), snap->v.data());
    s.tokens.assign(prompt.begin(), prompt.begin() + snap_n);
    lease.restored = snap_n;
    lease.reused = snap_n;
  } else if (from >= 0) {
    cache_.copy_prefix(from, chosen, from_n);
    s.tokens.assign(prompt.begin(), prompt.begin() + from_n);
    lease.copied = true;
    lease.reused = from_n;
  } else {
    s.tokens.resize(size_t(own));
    lease.reused = own;
  }
  s.key = key;   // an evicted context's key goes with it; an anonymous request leaves none
  s.busy = true;
  s.last_used = ++clock_;
  lease.seq = chosen;
  return lease;
}

void KvCacheManager::release(int seq) {
  Sequence& s = seqs_[size_t(seq)];
  s.busy = false;
  s.last_used = ++clock_;
  if (!keep_resident_ && s.key.empty()) s.tokens.clear();
}

void KvCacheManager::forget(int seq) {
  Sequence& s = seqs_[size_t(seq)];
  s.busy = false;
  s.tokens.clear();
  s.key.clear();
}

}  // namespace hearth
