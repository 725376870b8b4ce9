#pragma once
// Keys and values of every layer for a fixed number of sequences, each with room for n_ctx positions.
// Layout per layer: [seq][pos][kv_dim], stored as f16 (default, as llama.cpp) or f32.
#include <cstdint>
#include <vector>

#include "model/kv_store.h"
#include "model/model_config.h"

namespace hearth {

// Final: the CPU forward pass calls it through KvCache&, so these calls stay direct.
class KvCache final : public KvStore {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx, int n_seq, KvType type);

  int64_t n_ctx() const override { return n_ctx_; }
  int n_seq() const override { return n_seq_; }
  KvType type() const override { return type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Row of keys/values for (layer, seq, pos): kv_dim elements of f16 (uint16_t) or f32.
  void* k_row(int64_t layer, int seq, int64_t pos) { return k_.data() + k_offset(layer, seq, pos); }
  void* v_row(int64_t layer, int seq, int64_t pos) { return v_.data() + v_offset(layer, seq, pos); }
  const void* k_row(int64_t layer, int seq, int64_t pos) const { return k_.data() + k_offset(layer, seq, pos); }
  const void* v_row(int64_t layer, int seq, int64_t pos) const { return v_.data() + v_offset(layer, seq, pos); }

  // KvStore: prefix sharing and snapshots.
  void copy_prefix(int from, int to, int64_t n) override;
  int64_t n_layer() const { return n_layer_; }
  size_t snapshot_bytes_k(int64_t n) const override { return size_t(n_layer_) * size_t(n) * kv_dim_k_ * elem(); }
  size_t snapshot_bytes_v(int64_t n) const override { return size_t(n_layer_) * size_t(n) * kv_dim_v_ * elem(); }
  void read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const override;
  void write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v) override;

 private:
  void check_prefix(int seq, int64_t n) const;
  size_t elem() const { return type_ == KvType::F16 ? 2 : 4; }
  size_t k_offset(int64_t layer, int seq, int64_t pos) const {
    return ((size_t(layer) * n_seq_ + size_t(seq)) * n_ctx_ + size_t(pos)) * kv_dim_k_ * elem();
  }
  size_t v_offset(int64_t layer, int seq, int64_t pos) const {
    return ((size_t(layer) * n_seq_ + size_t(seq)) * n_ctx_ + size_t(pos)) * kv_dim_v_ * elem();
  }
  int64_t n_layer_, n_ctx_;
  int n_seq_;
  KvType type_;
  size_t kv_dim_k_, kv_dim_v_;
  std::vector<uint8_t> k_, v_;
};

}  // namespace hearth
