#pragma once
// The WebGPU transformer's KV cache seen as a KvStore, so the runtime's KV cache manager and prefix
// snapshots work on it as on the CPU's: the GPU buffers share KvCache's layout ([layer][seq][pos][kv_dim],
// f16), so a snapshot taken on one backend restores on the other.
#include <cstdint>

#include "backend/webgpu/device.h"
#include "model/kv_store.h"
#include "model/model_config.h"

namespace hearth::webgpu {

class GpuKvCache final : public KvStore {
 public:
  // k and v are the transformer's cache buffers (n_layer x n_seq x n_ctx rows of kv_dim f16 values).
  GpuKvCache(Device& device, const Buffer& k, const Buffer& v, const ModelConfig& config, int64_t n_ctx, int n_seq);

  int64_t n_ctx() const override { return n_ctx_; }
  int n_seq() const override { return n_seq_; }
  KvType type() const override { return KvType::F16; }

  void copy_prefix(int from, int to, int64_t n) override;
  size_t snapshot_bytes_k(int64_t n) const override { return size_t(n_layer_) * size_t(n) * row_k_; }
  size_t snapshot_bytes_v(int64_t n) const override { return size_t(n_layer_) * size_t(n) * row_v_; }
  // One submit and one wait for all layers.
  void read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const override;
  void write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v) override;

 private:
  void check_prefix(int seq, int64_t n) const;
  uint64_t offset(int64_t layer, int seq, size_t row_bytes) const {
    return (uint64_t(layer) * uint64_t(n_seq_) + uint64_t(seq)) * uint64_t(n_ctx_) * row_bytes;
  }
  Device& d_;
  const Buffer& k_;
  const Buffer& v_;
  int64_t n_layer_, n_ctx_;
  int n_seq_;
  size_t row_k_, row_v_;  // bytes per position
  Buffer scratch_;        // copy_prefix goes through it (a WebGPU copy never reads and writes one buffer)
};

}  // namespace hearth::webgpu
