#pragma once
// Maps requests to the KV cache's physical sequences. Each sequence remembers which tokens its keys/values
// hold. A request gets a sequence (its contextKey's own while it stays resident, else an idle one, the
// least recently used keyed context being evicted only when no anonymous sequence is idle), then reuses the
// longest common prefix of its prompt found anywhere: in that sequence, copied from another resident
// sequence, or restored from a prefix snapshot. Only the missing suffix is computed.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hearth/tokenizer.h"
#include "model/kv_store.h"

namespace hearth {

class SnapshotStore;

class KvCacheManager {
 public:
  // keep_resident off: an anonymous request's keys/values are forgotten when it ends (keyed ones stay).
  KvCacheManager(KvStore& cache, bool keep_resident);

  struct Lease {
    int seq = -1;
    int64_t reused = 0;          // prompt tokens already in the sequence when the request starts
    int64_t restored = 0;        // of those, copied from a prefix snapshot
    bool context_hit = false;    // the contextKey found its own sequence resident
    bool evicted = false;        // the sequence held another idle context, now dropped
    bool copied = false;         // the prefix was copied from another sequence
  };
  // A sequence for this request, or nullopt when none can be given now (all busy, or the key's own
  // sequence is busy with an earlier request): the caller keeps the request queued. `snapshots` may be null.
  std::optional<Lease> acquire(const std::string& key, const std::vector<TokenId>& prompt,
                               const SnapshotStore* snapshots);
  // The request is over; the sequence stays resident (unless keep_resident is off and it has no key).
  void release(int seq);
  // The sequence's contents are unknown (a failed forward pass): forget them and its key.
  void forget(int seq);

  // Tokens whose keys/values sequence `seq` holds, in position order.
  const std::vector<TokenId>& tokens(int seq) const { return seqs_[size_t(seq)].tokens; }
  // Records that the forward pass wrote `token` at position tokens(seq).size().
  void append(int seq, TokenId token) { seqs_[size_t(seq)].tokens.push_back(token); }

  int n_seq() const { return int(seqs_.size()); }
  int n_busy() const;
  bool busy(int seq) const { return seqs_[size_t(seq)].busy; }
  const std::string& key(int seq) const { return seqs_[size_t(seq)].key; }

 private:
  int choose_sequence(const std::string& key, const std::vector<TokenId>& prompt, Lease& lease) const;
  struct Sequence {
    std::string key;              // empty: anonymous
    std::vector<TokenId> tokens;  // capacity n_ctx, reserved once
    bool busy = false;
    uint64_t last_used = 0;       // LRU clock value at acquire / release
  };
  KvStore& cache_;
  std::vector<Sequence> seqs_;
  bool keep_resident_;
  uint64_t clock_ = 0;
};

}  // namespace hearth
