#pragma once
// What the runtime needs of a KV cache wherever it lives (host memory for the CPU backend, a GPU buffer for
// WebGPU): prefixes copied between sequences, read out for snapshots and written back. Prefix data is laid
// out as n_layer blocks of n key rows (and of n value rows), each row kv_dim elements of the cache's type.
#include <cstddef>
#include <cstdint>

namespace hearth {

enum class KvType { F16, F32 };

class KvStore {
 public:
  virtual ~KvStore() = default;

  virtual int64_t n_ctx() const = 0;
  virtual int n_seq() const = 0;
  virtual KvType type() const = 0;

  // Copies positions [0, n) of seq `from` into seq `to` in every layer (prefix sharing).
  virtual void copy_prefix(int from, int to, int64_t n) = 0;
  // Positions [0, n) of `seq` into k_out / v_out, snapshot_bytes_k(n) / snapshot_bytes_v(n) long;
  // write_prefix is the inverse.
  virtual size_t snapshot_bytes_k(int64_t n) const = 0;
  virtual size_t snapshot_bytes_v(int64_t n) const = 0;
  virtual void read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const = 0;
  virtual void write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v) = 0;
};

}  // namespace hearth
