#pragma once
// The forward pass of a decoder-only transformer on the CPU, for a batch of token contributions that
// may belong to different sequences. Reads top to bottom like the architecture: embed, then per layer
// norm → qkv → rope → attention → residual → norm → ffn → residual, then norm → logits.
#include <cstdint>
#include <vector>

#include "backend/cpu/kernels.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"

namespace hearth {

namespace cpu { class ThreadPool; }

// One token contribution: which sequence, at which position, and whether its logits are wanted.
struct BatchToken {
  int32_t token;
  int32_t pos;
  int32_t seq;
  bool logits;
};

// Attention sums its values over positions in chunks of this many, counted from the first attended
// position: each chunk in order into a zeroed partial, the partials added to the output in chunk order.
// The WebGPU kernel sums the chunks in parallel and must use the same size to agree bit for bit.
inline constexpr int64_t kAttentionValueChunk = 32;

class Transformer {
 public:
  // max_batch: most token contributions one forward() call takes; scratch is sized once for it.
  Transformer(const ModelConfig& config, const ModelWeights& weights, cpu::ThreadPool& pool, int64_t max_batch);

  int64_t max_batch() const { return max_batch_; }

  // Writes n_vocab logits per token with logits=true, in batch order, to logits_out.
  // Positions must be written in order per sequence: pos p attends to cached positions [0, p].
  void forward(const BatchToken* batch, int64_t n, KvCache& cache, float* logits_out);
  // Same pass, but writes the final-norm hidden state (n_embd floats) of each row with logits=true instead
  // of its logits: the embedding of a decoder model (last-token pooling reads the last row).
  void forward_hidden(const BatchToken* batch, int64_t n, KvCache& cache, float* hidden_out);

 private:
  // Everything up to the final norm: leaves the residual stream of every batch row in x_.
  void run_layers(const BatchToken* batch, int64_t n, KvCache& cache);
  // The final norm of the rows with logits=true, packed in batch order into `out`; returns how many.
  int64_t output_norm_rows(const BatchToken* batch, int64_t n, float* out);
  void attention(int64_t il, const BatchToken* batch, int64_t n, KvCache& cache);
  void matmul(const cpu::WeightMatrix& w, const float* x, int64_t n, float* y, int64_t y_stride);
  void add_bias(float* y, const std::vector<float>& b, int64_t n, int64_t rows, int64_t stride);

  const ModelConfig& c_;
  const ModelWeights& w_;
  cpu::ThreadPool& pool_;
  int64_t max_batch_;
  cpu::MatmulScratch mm_scratch_;
  // Activations, [token][dim].
  std::vector<float> x_, xn_, q_, k_, v_, qkv_, attn_, ffn_a_, ffn_b_, tmp_;
  std::vector<float> scores_;      // per worker: n_ctx-sized score rows
  std::vector<uint16_t> q16_;      // per worker: a query head rounded to f16
  std::vector<float> value_part_;  // per worker: one value chunk's partial sum (head_dim_v floats)
};

}  // namespace hearth
