#pragma once
// Hyperparameters of a BERT encoder (arch "bert"), read from the keys llama.cpp's converter writes.
#include <cstdint>
#include <string>

namespace hearth {

class GgufFile;

struct BertConfig {
  std::string name;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;        // rows of position_embd: the longest input
  int64_t n_token_types = 0;      // rows of token_types (segment A/B); 0 when the model has none
  float norm_eps = 1e-12f;        // LayerNorm epsilon
  bool causal = false;            // bert.attention.causal (BERT: false)
  int pooling_type = -1;          // bert.pooling_type as llama.cpp numbers it (1 mean, 2 cls, 3 last); -1 absent

  static BertConfig from_gguf(const GgufFile& file);
};

}  // namespace hearth
