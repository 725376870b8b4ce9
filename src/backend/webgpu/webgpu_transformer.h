#pragma once
// The transformer forward pass on WebGPU, mirroring model/transformer.cpp's order of operations (so its
// greedy tokens match the CPU's): embed, then per layer norm → qkv → (q/k norm) rope → KV store →
// attention → output + residual → norm → gated FFN → residual, then the final norm and logits.
// Weights live on the GPU in their GGUF block formats; so does the KV cache (f16). One forward() records
// every dispatch into one command buffer and submits once; the host waits only for what it reads back:
// the logits, or with forward_greedy() just the argmax token ids.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backend/webgpu/device.h"
#include "backend/webgpu/ops.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/transformer.h"

namespace hearth::webgpu {

class WebGpuTransformer {
 public:
  // n_ctx positions for each of n_seq sequences; max_batch token contributions per forward().
  WebGpuTransformer(const ModelConfig& config, const ModelWeights& weights, Device& device, int64_t max_batch,
                    int64_t n_ctx, int n_seq = 1);
  ~WebGpuTransformer();

  int64_t max_batch() const { return max_batch_; }
  int64_t n_ctx() const { return n_ctx_; }
  // Most logits rows one forward() returns.
  int64_t max_logits_rows() const { return max_out_; }

  // n_vocab logits per token with logits=true, in batch order (as Transformer::forward).
  void forward(const BatchToken* batch, int64_t n, float* logits_out);
  // The argmax token of each logits row, computed on the GPU; only the ids are read back.
  void forward_greedy(const BatchToken* batch, int64_t n, int32_t* tokens_out);

  // Greedy decoding with the GPU a step ahead of the host, so recording and submitting one step overlaps
  // the GPU's work on the previous one. submit_greedy_step() records and submits a one-token step of
  // sequence `seq` at `pos` without waiting; with token < 0 its input is the argmax of the step submitted
  // just before it (this one's or forward_greedy()'s), copied on the GPU. take_greedy_step() waits for the
  // oldest step in flight and returns its argmax. At most two steps are in flight. drop_greedy_steps()
  // waits for and discards them (a dropped step's KV row lies past what the caller keeps, and is
  // overwritten when that position is fed again); forward() and forward_greedy() drop them first.
  void submit_greedy_step(int32_t token, int32_t pos, int32_t seq = 0);
  int32_t take_greedy_step();
  void drop_greedy_steps();
  int greedy_steps_in_flight() const { return int(in_flight_.size()); }

  // Dispatches recorded by the last forward (for reports).
  int last_dispatch_count() const { return ops_.dispatches_last_submit(); }

  // The KV cache buffers, in KvCache's layout with f16 rows (the runtime wraps them in a GpuKvCache).
  const Buffer& k_cache() const { return k_cache_; }
  const Buffer& v_cache() const { return v_cache_; }

  // Empty when the model can run on this adapter, else why not (unsupported weight type, a tensor or the
  // KV cache beyond the adapter's limits).
  static std::string unsupported_reason(const ModelConfig& config, const ModelWeights& weights,
                                        const AdapterInfo& adapter, int64_t n_ctx, int n_seq = 1);

 private:
  struct Layer;
  int64_t record_forward(Recorder& r, const BatchToken* batch, int64_t n);
  void prepare_input(Recorder& r, const Buffer& x, int64_t n, int64_t cols, std::initializer_list<const GpuWeight*> ws,
                     ActFormat folded);
  const Buffer& input_for(const GpuWeight& w, const Buffer& x, ActFormat folded) const;
  ActFold fold_for(ActFormat f) const;

  const ModelConfig& c_;
  Device& d_;
  Ops ops_;
  int64_t max_batch_, n_ctx_;
  int n_seq_;
  int64_t max_out_;
  std::vector<Layer> layers_;
  GpuWeight token_embd_, output_;
  Buffer output_norm_;
  Buffer rope_, rope_swa_;
  Buffer k_cache_, v_cache_;
  Buffer batch_;
  Buffer x_, xn_, q_, qkv_, attn_, ffn_a_, ffn_b_, ffn_h_, tmp_, xq0_, xqk_, xh_, scores_, x_out_, logits_, ids_;
  Buffer readback_logits_, readback_ids_;
  Buffer readback_step_[2];     // one per greedy step in flight (a mapped buffer cannot take a copy)
  std::deque<int> in_flight_;   // their readback_step_ indices, oldest first
  bool have_ids_ = false;       // ids_ holds an argmax a chained step may read
  std::vector<uint32_t> batch_host_;
};

}  // namespace hearth::webgpu
