#include "backend/webgpu/gpu_kv_cache.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth::webgpu {

GpuKvCache::GpuKvCache(Device& device, const Buffer& k, const Buffer& v, const ModelConfig& c, int64_t n_ctx, int n_seq)
    : d_(device), k_(k), v_(v), n_layer_(c.n_layer), n_ctx_(n_ctx), n_seq_(n_seq),
      row_k_(size_t(c.kv_dim_k()) * 2), row_v_(size_t(c.kv_dim_v()) * 2) {
  // WebGPU copies and writes move whole 4-byte words; f16 rows of an even width always do.
  if (row_k_ % 4 || row_v_ % 4) throw Error("WebGPU KV cache: rows must hold an even number of values");
  if (k.size() < offset(n_layer_, 0, row_k_) || v.size() < offset(n_layer_, 0, row_v_))
    throw Error("WebGPU KV cache: buffers smaller than the cache they should hold");
}

void GpuKvCache::check_prefix(int seq, int64_t n) const {
  if (seq < 0 || seq >= n_seq_ || n < 0 || n > n_ctx_)
    throw Error(fmt::format("KV cache: prefix of {} positions in sequence {} is outside {} x {}", n, seq, n_seq_, n_ctx_));
}

void GpuKvCache::copy_prefix(int from, int to, int64_t n) {
  if (from == to || n <= 0) return;
  check_prefix(from, n);
  check_prefix(to, n);
  // WebGPU copies never read and write the same buffer: go through a scratch buffer, in one submit.
  const uint64_t kb = uint64_t(n) * row_k_, vb = uint64_t(n) * row_v_;
  const uint64_t need = uint64_t(n_layer_) * (kb + vb);
  if (scratch_.size() < need) {
    d_.wait_idle();  // an earlier copy may still read the old scratch buffer
    scratch_ = d_.create_buffer(need, false, "kv_copy");
  }
  const Buffer& scratch = scratch_;
  Recorder r = d_.record();
  for (int64_t l = 0; l < n_layer_; l++) {
    r.copy(k_, offset(l, from, row_k_), scratch, uint64_t(l) * kb, kb);
    r.copy(v_, offset(l, from, row_v_), scratch, uint64_t(n_layer_) * kb + uint64_t(l) * vb, vb);
  }
  for (int64_t l = 0; l < n_layer_; l++) {
    r.copy(scratch, uint64_t(l) * kb, k_, offset(l, to, row_k_), kb);
    r.copy(scratch, uint64_t(n_layer_) * kb + uint64_t(l) * vb, v_, offset(l, to, row_v_), vb);
  }
  d_.submit(r);  // queue order puts it before the next forward pass
}

void GpuKvCache::read_prefix(int seq, int64_t n, uint8_t* k_out, uint8_t* v_out) const {
  check_prefix(seq, n);
  if (n == 0) return;
  const uint64_t kb = uint64_t(n) * row_k_, vb = uint64_t(n) * row_v_;
  const uint64_t total = uint64_t(n_layer_) * (kb + vb);
  Buffer staging = d_.create_readback_buffer(total);
  Recorder r = d_.record();
  for (int64_t l = 0; l < n_layer_; l++) {
    r.copy(k_, offset(l, seq, row_k_), staging, uint64_t(l) * kb, kb);
    r.copy(v_, offset(l, seq, row_v_), staging, uint64_t(n_layer_) * kb + uint64_t(l) * vb, vb);
  }
  std::vector<uint8_t> host(total);
  d_.submit_and_read(r, staging, host.data(), total);
  std::memcpy(k_out, host.data(), size_t(n_layer_) * kb);
  std::memcpy(v_out, host.data() + size_t(n_layer_) * kb, size_t(n_layer_) * vb);
}

void GpuKvCache::write_prefix(int seq, int64_t n, const uint8_t* k, const uint8_t* v) {
  check_prefix(seq, n);
  if (n == 0) return;
  const uint64_t kb = uint64_t(n) * row_k_, vb = uint64_t(n) * row_v_;
  for (int64_t l = 0; l < n_layer_; l++) {
    d_.write(k_, offset(l, seq, row_k_), k + l * kb, kb);
    d_.write(v_, offset(l, seq, row_v_), v + l * vb, vb);
  }
}

}  // namespace hearth::webgpu
