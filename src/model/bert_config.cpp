#include "model/bert_config.h"

#include <fmt/format.h>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

int64_t positive(const GgufFile& f, const std::string& key, int64_t limit) {
  const int64_t x = f.get(key).as_i64();
  if (x <= 0 || x > limit) throw Error(fmt::format("metadata {}: value {} out of range (1..{})", key, x, limit));
  return x;
}

}  // namespace

BertConfig BertConfig::from_gguf(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  if (arch != "bert") throw Error(fmt::format("architecture '{}' is not a BERT encoder hearth runs (bert)", arch));
  BertConfig c;
  c.name = f.get_string("general.name", arch);
  const std::string p = arch + ".";
  c.n_embd = positive(f, p + "embedding_length", 1 << 16);
  c.n_layer = positive(f, p + "block_count", 1 << 10);
  c.n_head = positive(f, p + "attention.head_count", 1 << 10);
  if (c.n_embd % c.n_head != 0)
    throw Error(fmt::format("embedding_length {} is not a multiple of attention.head_count {}", c.n_embd, c.n_head));
  c.head_dim = c.n_embd / c.n_head;
  const int64_t n_head_kv = int64_t(f.get_u64(p + "attention.head_count_kv", uint64_t(c.n_head)));
  if (n_head_kv != c.n_head)
    throw Error(fmt::format("attention.head_count_kv {} differs from head_count {}: grouped-query BERT is not supported",
                            n_head_kv, c.n_head));
  c.n_ff = positive(f, p + "feed_forward_length", 1 << 20);
  c.n_ctx_train = positive(f, p + "context_length", 1 << 20);
  c.norm_eps = float(f.get_f64(p + "attention.layer_norm_epsilon", 1e-12));
  if (!(c.norm_eps > 0.0f)) throw Error(fmt::format("metadata {}attention.layer_norm_epsilon must be positive", p));
  c.causal = f.get_bool(p + "attention.causal", false);
  if (const GgufValue* v = f.find(p + "pooling_type")) c.pooling_type = int(v->as_i64());
  c.n_token_types = int64_t(f.get_u64("tokenizer.ggml.token_type_count", 0));
  return c;
}

}  // namespace hearth
