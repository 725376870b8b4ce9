#pragma once
// The forward pass of a BERT encoder on the CPU for one input: embeddings (token + segment A + position)
// → LayerNorm, then per layer: qkv → bidirectional attention → output + residual → LayerNorm →
// up → GELU → down + residual → LayerNorm. All tokens of the input go through each weight in one matmul.
#include <cstdint>
#include <vector>

#include "backend/cpu/kernels.h"
#include "model/bert_config.h"
#include "model/bert_weights.h"

namespace hearth {

namespace cpu { class ThreadPool; }

class BertEncoder {
 public:
  // max_tokens: the longest input (at most config.n_ctx_train); scratch is sized once for it.
  BertEncoder(const BertConfig& config, const BertWeights& weights, cpu::ThreadPool& pool, int64_t max_tokens);

  int64_t max_tokens() const { return max_tokens_; }

  // Runs the encoder over tokens[0..n) (positions 0..n-1) and returns the last layer's hidden states,
  // n rows of n_embd floats, valid until the next call.
  const float* encode(const int32_t* tokens, int64_t n);
  // The same for several inputs packed into one pass (one matmul per weight for all of them): input s is
  // tokens[bounds[s] .. bounds[s + 1]); positions restart at 0 for each input and attention stays inside it,
  // so each input's rows equal what encoding it alone gives. bounds has n_inputs + 1 entries, bounds[0] = 0.
  const float* encode_packed(const int32_t* tokens, const int64_t* bounds, int64_t n_inputs);

 private:
  void attention(int64_t n);
  void matmul_bias(const cpu::WeightMatrix& w, const std::vector<float>& b, const float* x, int64_t n, float* y);

  const BertConfig& c_;
  const BertWeights& w_;
  cpu::ThreadPool& pool_;
  int64_t max_tokens_;
  cpu::MatmulScratch mm_scratch_;
  // Activations, [token][dim].
  std::vector<float> x_, q_, k_, v_, attn_, tmp_, ffn_;
  std::vector<float> scores_;   // per worker: one row of attention scores
  std::vector<int64_t> input_begin_, input_end_;   // per token: the rows of the input it belongs to
};

}  // namespace hearth
