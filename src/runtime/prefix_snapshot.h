#pragma once
// Prefix snapshots: the keys/values of a token prefix copied out of the KV cache, restorable into any free
// sequence, kept in memory and optionally in a directory so a restarted endpoint starts warm.
//
// File format (little-endian), version 1:
//   "HEARTHKV" | u32 version | 64 bytes model fingerprint (hex) | u32 n_layer | u32 kv type (0 f16, 1 f32)
//   | u32 kv_dim_k | u32 kv_dim_v | u64 n_tokens | u32 scope length | scope | i32 tokens[n_tokens]
//   | keys (n_layer blocks of n_tokens rows) | values (same) | sha-256 of everything before it
#include <cstdint>
#include <string>
#include <vector>

#include "hearth/client.h"
#include "model/kv_store.h"

namespace hearth {

// What a snapshot must have been made with to be restored here.
struct SnapshotLayout {
  std::string fingerprint;   // model_fingerprint(): 64 hex digits
  int64_t n_layer = 0;
  int64_t kv_dim_k = 0, kv_dim_v = 0;
  KvType type = KvType::F16;
  int64_t n_ctx = 0;         // a snapshot must leave room for at least one more token
  int64_t n_vocab = 0;
};

struct PrefixSnapshot {
  std::string scope;
  std::vector<TokenId> tokens;
  std::vector<uint8_t> k, v;   // KvCache::read_prefix layout
  std::string path;            // empty: memory only
};

void write_snapshot_file(const std::string& path, const PrefixSnapshot& snapshot, const SnapshotLayout& layout);
// Throws hearth::Error naming the mismatch (model, layer count, KV type or width, context) or the damage.
PrefixSnapshot read_snapshot_file(const std::string& path, const SnapshotLayout& layout);
// The fingerprint a snapshot file declares, or "" when it is not a snapshot file.
std::string snapshot_file_fingerprint(const std::string& path);

// The snapshots one endpoint holds; not thread-safe (the endpoint locks around it).
class SnapshotStore {
 public:
  SnapshotStore(SnapshotLayout layout, std::string dir, int max_snapshots);
  const SnapshotLayout& layout() const { return layout_; }

  // Loads every snapshot file in the directory made for this model; other models' files are skipped, a
  // damaged or mismatching file of this model throws.
  void load_directory();
  // Copies positions [0, tokens.size()) of `seq` out of the cache as snapshot `scope`, writing its file
  // when a directory is set.
  SnapshotInfo capture(const std::string& scope, const std::vector<TokenId>& tokens, const KvStore& cache, int seq);
  SnapshotInfo load_file(const std::string& path);
  // The snapshot sharing the longest common prefix with `prompt` (at least one token), else nullptr.
  const PrefixSnapshot* best_match(const std::vector<TokenId>& prompt, int64_t* common) const;
  std::vector<SnapshotInfo> list() const;

 private:
  SnapshotInfo keep(PrefixSnapshot snapshot);
  SnapshotInfo info(const PrefixSnapshot& s) const;
  std::string file_for(const std::string& scope) const;
  SnapshotLayout layout_;
  std::string dir_;
  size_t max_;
  std::vector<PrefixSnapshot> snapshots_;   // oldest first
};

}  // namespace hearth
