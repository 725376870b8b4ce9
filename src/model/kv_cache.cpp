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

}  // namespace hearth
