#include "model/kv_cache.h"

#include <cstring>

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth {

KvCache::KvCache(const ModelConfig& c, int64_t n_ctx, int n_seq, KvType type)
    : n_layer_(c.n_layer), n_ctx_(n_ctx), n_seq_(n_seq), type_(type),
      kv_dim_k_(size_t(c.kv_dim_k())), kv_dim_v_(size_t(c.kv_dim_v())) {
  if (n_ctx <= 0 || n_seq <= 0) throw Error(fmt::format("KV cache: invalid size ctx={} seqs={}", n_ctx, n_seq));
  const double bytes = double(n_layer_) * n_seq * n_ctx * double(kv_dim_k_ + kv_dim_v_) * elem();
  if (bytes > 64.0 * (1ull << 30))
    throw Error(fmt::format("KV cache of {:.1f} GiB for context {} is too large; lower --ctx", bytes / (1 << 30), n_ctx));
  k_.resize(size_t(n_layer_) * n_seq * n_ctx * kv_dim_k_ * elem());
  v_.resize(size_t(n_layer_) * n_seq * n_ctx * kv_dim_v_ * elem());
}

void KvCache::copy_prefix(int from, int to, int64_t n) {
  if (from == to || n <= 0) return;
  for (int64_t l = 0; l < n_layer_; l++) {
    std::memcpy(k_row(l, to, 0), k_row(l, from, 0), size_t(n) * kv_dim_k_ * elem());
    std::memcpy(v_row(l, to, 0), v_row(l, from, 0), size_t(n) * kv_dim_v_ * elem());
  }
}

void KvCache::check_prefix(int seq, int64_t n) const {
  if (seq < 0 || seq >= n_seq_ || n < 0 || n > n_ctx_)
    throw Error(fmt::format("KV cache: prefix of {} positions in sequence {} is outside {} x {}", n, seq, n_seq_, n_ctx_));
}

void KvCache::read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const {
  check_prefix(seq, n);
  const size_t kb = size_t(n) * kv_dim_k_ * elem(), vb = size_t(n) * kv_dim_v_ * elem();
  for (int64_t l = 0; l < n_layer_; l++) {
    std::memcpy(k_out + size_t(l) * kb, k_row(l, seq, 0), kb);
    std::memcpy(v_out + size_t(l) * vb, v_row(l, seq, 0), vb);
  }
}

void KvCache::write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v) {
  check_prefix(seq, n);
  const size_t kb = size_t(n) * kv_dim_k_ * elem(), vb = size_t(n) * kv_dim_v_ * elem();
  for (int64_t l = 0; l < n_layer_; l++) {
    std::memcpy(k_row(l, seq, 0), k + size_t(l) * kb, kb);
    std::memcpy(v_row(l, seq, 0), v + size_t(l) * vb, vb);
  }
}

}  // namespace hearth
