#pragma once
// Keys and values of every layer for a fixed number of sequences, each with room for n_ctx positions.
// Layout per layer: [seq][pos][kv_dim], stored as f16 (default, as llama.cpp) or f32.
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace hearth {

enum class KvType { F16, F32 };

class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_ctx, int n_seq, KvType type);

  int64_t n_ctx() const { return n_ctx_; }
  int n_seq() const { return n_seq_; }
  KvType type() const { return type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Row of keys/values for (layer, seq, pos): kv_dim elements of f16 (uint16_t) or f32.
  void* k_row(int64_t layer, int seq, int64_t pos) { return k_.data() + k_offset(layer, seq, pos); }
  void* v_row(int64_t layer, int seq, int64_t pos) { return v_.data() + v_offset(layer, seq, pos); }
  const void* k_row(int64_t layer, int seq, int64_t pos) const { return k_.data() + k_offset(layer, seq, pos); }
  const void* v_row(int64_t layer, int seq, int64_t pos) const { return v_.data() + v_offset(layer, seq, pos); }

  // Copies positions [0, n) of seq `from` into seq `to` in every layer (prefix sharing).
  void copy_prefix(int from, int to, int64_t n);

  // Prefix snapshots: positions [0, n) of `seq` as n_layer blocks of n key rows (k_out) and of n value
  // rows (v_out), each buffer snapshot_bytes_k(n) / snapshot_bytes_v(n) long; write_prefix is the inverse.
  int64_t n_layer() const { return n_layer_; }
  size_t snapshot_bytes_k(int64_t n) const { return size_t(n_layer_) * size_t(n) * kv_dim_k_ * elem(); }
  size_t snapshot_bytes_v(int64_t n) const { return size_t(n_layer_) * size_t(n) * kv_dim_v_ * elem(); }
  void read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const;
  void write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v);

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
