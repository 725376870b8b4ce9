#pragma once
// Views of a BERT encoder's tensors inside the mapped GGUF file (llama.cpp's names), shapes checked at load.
#include <cstdint>
#include <vector>

#include "backend/cpu/kernels.h"
#include "model/bert_config.h"

namespace hearth {

class GgufFile;

struct BertLayerWeights {
  cpu::WeightMatrix wq, wk, wv, wo;
  std::vector<float> bq, bk, bv, bo;
  std::vector<float> attn_out_norm, attn_out_norm_b;   // LayerNorm after attention + residual
  cpu::WeightMatrix ffn_up, ffn_down;
  std::vector<float> ffn_up_b, ffn_down_b;
  std::vector<float> layer_out_norm, layer_out_norm_b; // LayerNorm after the feed-forward + residual
};

struct BertWeights {
  cpu::WeightMatrix token_embd;     // [n_vocab][n_embd]
  cpu::WeightMatrix position_embd;  // [n_ctx_train][n_embd]
  std::vector<float> token_type0;   // row 0 of token_types ("sentence A"), empty when absent
  std::vector<float> embd_norm, embd_norm_b;
  std::vector<BertLayerWeights> layers;
  uint64_t total_bytes = 0;

  // Fills config.n_vocab from token_embd.
  static BertWeights load(const GgufFile& file, BertConfig& config);
};

}  // namespace hearth
