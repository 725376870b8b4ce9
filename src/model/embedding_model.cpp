#include "model/embedding_model.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "backend/cpu/thread_pool.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"
#include "model/bert_config.h"
#include "model/bert_encoder.h"
#include "model/bert_weights.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/transformer.h"

namespace hearth {
namespace {

enum class Pooling { Mean, Cls, Last };

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Mean: return "mean";
    case Pooling::Cls: return "cls";
    case Pooling::Last: return "last";
  }
  return "?";
}

// llama.cpp's numbering: 0 none, 1 mean, 2 cls, 3 last, 4 rank. "none" (per-token output) has no single
// vector; llama.cpp then hands back the last token's, so hearth pools the same way.
Pooling pooling_from_code(int64_t code, Pooling absent, const std::string& key) {
  switch (code) {
    case -1: return absent;
    case 0: return Pooling::Last;
    case 1: return Pooling::Mean;
    case 2: return Pooling::Cls;
    case 3: return Pooling::Last;
    case 4: throw Error(fmt::format("metadata {} = 4 (rank): reranker models are not embedding models", key));
    default: throw Error(fmt::format("metadata {} = {} is not a pooling type (1 mean, 2 cls, 3 last)", key, code));
  }
}

bool is_encoder_arch(const std::string& arch) {
  static const char* const kEncoders[] = {"bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3",
                                          "modern-bert", "neo-bert", "eurobert"};
  return std::find(std::begin(kEncoders), std::end(kEncoders), arch) != std::end(kEncoders);
}

int checked_threads(int threads) {
  if (threads < 1 || threads > 1024) throw Error(fmt::format("thread count {} must be between 1 and 1024", threads));
  return threads;
}

// L2 normalization as llama.cpp's common_embd_normalize(…, 2): a zero vector stays zero.
void l2_normalize(std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += double(x) * double(x);
  const double norm = std::sqrt(sum);
  const float scale = norm > 0 ? float(1.0 / norm) : 0.0f;
  for (float& x : v) x *= scale;
}

// Shared parts: the mapped file, its tokenizer, the worker threads, and text → tokens.
class EmbeddingModelBase : public EmbeddingModel {
 public:
  EmbeddingModelBase(GgufFile file, int threads)
      : file_(std::move(file)), tokenizer_(Tokenizer::from_gguf(file_)), pool_(checked_threads(threads)) {}

  const Tokenizer& tokenizer() const override { return *tokenizer_; }
  std::string pooling() const override { return pooling_name(pooling_); }

  std::vector<std::vector<float>> embed(const std::vector<std::string>& inputs, bool normalize) override {
    std::vector<std::vector<int32_t>> token_lists;
    token_lists.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); i++) {
      // Special tokens as llama.cpp adds them for embeddings: CLS/SEP for WordPiece, BOS/EOS per the flags.
      token_lists.push_back(tokenizer_->encode(inputs[i], /*add_special=*/true, /*parse_special=*/false));
      try {
        validate(token_lists.back());
      } catch (const Error& e) {
        throw Error(fmt::format("input {}: {}", i, e.what()));
      }
    }
    return finish(run_all(token_lists), normalize);
  }

  std::vector<float> embed_tokens(const std::vector<int32_t>& tokens, bool normalize) override {
    validate(tokens);
    return finish(run_all({tokens}), normalize).at(0);
  }

 protected:
  // One pooled vector per (validated) token list.
  virtual std::vector<std::vector<float>> run_all(const std::vector<std::vector<int32_t>>& token_lists) = 0;

  GgufFile file_;
  std::unique_ptr<Tokenizer> tokenizer_;
  cpu::ThreadPool pool_;
  Pooling pooling_ = Pooling::Last;

 private:
  void validate(const std::vector<int32_t>& tokens) const {
    if (tokens.empty()) throw Error("the input has no tokens to embed");
    if (int64_t(tokens.size()) > max_tokens())
      throw Error(fmt::format("{} tokens exceed the model's context of {} tokens", tokens.size(), max_tokens()));
    for (int32_t t : tokens)
      if (t < 0 || size_t(t) >= tokenizer_->vocab_size())
        throw Error(fmt::format("token id {} is outside the vocabulary (0..{})", t, tokenizer_->vocab_size() - 1));
  }
  static std::vector<std::vector<float>> finish(std::vector<std::vector<float>> vectors, bool normalize) {
    if (normalize)
      for (auto& v : vectors) l2_normalize(v);
    return vectors;
  }
};

class BertEmbeddingModel final : public EmbeddingModelBase {
 public:
  BertEmbeddingModel(GgufFile file, int threads) : EmbeddingModelBase(std::move(file), threads) {
    config_ = BertConfig::from_gguf(file_);
    weights_ = BertWeights::load(file_, config_);
    if (int64_t(tokenizer_->vocab_size()) != config_.n_vocab)
      throw Error(fmt::format("the vocabulary has {} tokens, token_embd.weight has {} rows", tokenizer_->vocab_size(),
                              config_.n_vocab));
    pooling_ = pooling_from_code(config_.pooling_type, Pooling::Cls, "bert.pooling_type");
    encoder_ = std::make_unique<BertEncoder>(config_, weights_, pool_, std::min<int64_t>(config_.n_ctx_train, kMaxContext));
  }

  int64_t n_embd() const override { return config_.n_embd; }
  int64_t max_tokens() const override { return encoder_->max_tokens(); }

 private:
  static constexpr int64_t kMaxContext = 8192;

  // Consecutive inputs are packed into one encoder pass up to the context size, so short inputs share
  // each weight's matmul; each input's result is what encoding it alone gives.
  std::vector<std::vector<float>> run_all(const std::vector<std::vector<int32_t>>& lists) override {
    std::vector<std::vector<float>> out;
    out.reserve(lists.size());
    std::vector<int32_t> packed;
    std::vector<int64_t> bounds;
    for (size_t first = 0; first < lists.size();) {
      packed.clear();
      bounds.assign(1, 0);
      size_t last = first;
      while (last < lists.size() && int64_t(packed.size() + lists[last].size()) <= encoder_->max_tokens()) {
        packed.insert(packed.end(), lists[last].begin(), lists[last].end());
        bounds.push_back(int64_t(packed.size()));
        last++;
      }
      const float* h = encoder_->encode_packed(packed.data(), bounds.data(), int64_t(last - first));
      for (size_t s = 0; s + 1 < bounds.size(); s++)
        out.push_back(pool(h + bounds[s] * config_.n_embd, bounds[s + 1] - bounds[s]));
      first = last;
    }
    return out;
  }

  // h: the n rows of one input.
  std::vector<float> pool(const float* h, int64_t n) const {
    const int64_t E = config_.n_embd;
    std::vector<float> v(size_t(E), 0.0f);
    switch (pooling_) {
      case Pooling::Cls: std::copy(h, h + E, v.begin()); break;
      case Pooling::Last: std::copy(h + (n - 1) * E, h + n * E, v.begin()); break;
      case Pooling::Mean: {
        std::vector<double> sum(size_t(E), 0.0);
        for (int64_t t = 0; t < n; t++)
          for (int64_t i = 0; i < E; i++) sum[size_t(i)] += h[t * E + i];
        for (int64_t i = 0; i < E; i++) v[size_t(i)] = float(sum[size_t(i)] / double(n));
        break;
      }
    }
    return v;
  }

  BertConfig config_;
  BertWeights weights_;
  std::unique_ptr<BertEncoder> encoder_;
};

// A decoder (llama, qwen2, qwen3, ...) whose final-norm hidden states are pooled. Causal attention through
// an f16 KV cache as llama.cpp runs it; the cache grows to the longest input seen.
class DecoderEmbeddingModel final : public EmbeddingModelBase {
 public:
  DecoderEmbeddingModel(GgufFile file, int threads) : EmbeddingModelBase(std::move(file), threads) {
    config_ = ModelConfig::from_gguf(file_);
    // hearth's decoder attends causally; a file asking for bidirectional attention would embed differently.
    if (!file_.get_bool(config_.arch + ".attention.causal", true))
      throw Error(fmt::format("{}.attention.causal is false: bidirectional decoders are not supported", config_.arch));
    weights_ = ModelWeights::load(file_, config_);
    const std::string key = config_.arch + ".pooling_type";
    const GgufValue* v = file_.find(key);
    pooling_ = pooling_from_code(v ? v->as_i64() : -1, Pooling::Last, key);
    max_tokens_ = std::min<int64_t>(config_.n_ctx_train > 0 ? config_.n_ctx_train : kMaxContext, kMaxContext);
    transformer_ = std::make_unique<Transformer>(config_, weights_, pool_, std::min<int64_t>(kChunk, max_tokens_));
    batch_.resize(size_t(transformer_->max_batch()));
    hidden_.resize(size_t(transformer_->max_batch() * config_.n_embd));
  }

  int64_t n_embd() const override { return config_.n_embd; }
  int64_t max_tokens() const override { return max_tokens_; }

 private:
  static constexpr int64_t kMaxContext = 8192;
  static constexpr int64_t kChunk = 512;

  // Short inputs: up to kGroupSeqs at a time share one forward call, each in its own cache sequence (so one
  // matmul per weight serves all of them). Longer inputs go alone, in chunks.
  static constexpr int64_t kGroupSeqs = 8;
  static constexpr int64_t kGroupCtx = 128;

  std::vector<std::vector<float>> run_all(const std::vector<std::vector<int32_t>>& lists) override {
    std::vector<std::vector<float>> out;
    out.reserve(lists.size());
    const int64_t batch_cap = transformer_->max_batch();
    const bool groupable = batch_cap >= kGroupCtx && max_tokens_ >= kGroupCtx;
    auto is_short = [&](size_t i) { return groupable && int64_t(lists[i].size()) <= kGroupCtx; };
    for (size_t first = 0; first < lists.size();) {
      if (!is_short(first)) {
        out.push_back(run(lists[first]));
        first++;
        continue;
      }
      size_t last = first;
      int64_t total = 0;
      while (last < lists.size() && is_short(last) && int64_t(last - first) < kGroupSeqs &&
             total + int64_t(lists[last].size()) <= batch_cap)
        total += int64_t(lists[last++].size());
      run_group(lists, first, last, out);
      first = last;
    }
    return out;
  }

  // Inputs [first, last), each at most kGroupCtx tokens, in one forward call: input s is cache sequence s.
  void run_group(const std::vector<std::vector<int32_t>>& lists, size_t first, size_t last,
                 std::vector<std::vector<float>>& out) {
    if (!group_cache_) group_cache_ = std::make_unique<KvCache>(config_, kGroupCtx, int(kGroupSeqs), KvType::F16);
    const int64_t E = config_.n_embd;
    int64_t m = 0;
    for (size_t s = first; s < last; s++) {
      const auto& tokens = lists[s];
      const int64_t n = int64_t(tokens.size());
      for (int64_t p = 0; p < n; p++)
        batch_[size_t(m++)] = BatchToken{tokens[size_t(p)], int32_t(p), int32_t(s - first), wanted(p, n)};
    }
    transformer_->forward_hidden(batch_.data(), m, *group_cache_, hidden_.data());
    // Wanted rows come back in batch order: per input, all of them (mean) or one (cls, last).
    const float* h = hidden_.data();
    for (size_t s = first; s < last; s++) {
      const int64_t n = int64_t(lists[s].size());
      std::vector<float> v(size_t(E), 0.0f);
      if (pooling_ == Pooling::Mean) {
        std::vector<double> sum(size_t(E), 0.0);
        for (int64_t t = 0; t < n; t++, h += E)
          for (int64_t i = 0; i < E; i++) sum[size_t(i)] += h[i];
        for (int64_t i = 0; i < E; i++) v[size_t(i)] = float(sum[size_t(i)] / double(n));
      } else {
        std::copy(h, h + E, v.begin());
        h += E;
      }
      out.push_back(std::move(v));
    }
  }

  bool wanted(int64_t p, int64_t n) const {
    return pooling_ == Pooling::Mean || (pooling_ == Pooling::Cls && p == 0) || (pooling_ == Pooling::Last && p == n - 1);
  }

  // One input through the decoder in batches of up to kChunk positions; only the rows pooling needs are
  // normed and written.
  std::vector<float> run(const std::vector<int32_t>& tokens) {
    const int64_t n = int64_t(tokens.size()), E = config_.n_embd;
    if (!cache_ || cache_->n_ctx() < n) {
      const int64_t ctx = std::min<int64_t>(max_tokens_, (n + 255) / 256 * 256);
      cache_.reset();
      cache_ = std::make_unique<KvCache>(config_, ctx, 1, KvType::F16);
    }
    std::vector<double> sum(size_t(E), 0.0);
    std::vector<float> v(size_t(E), 0.0f);
    const int64_t chunk = transformer_->max_batch();
    for (int64_t begin = 0; begin < n; begin += chunk) {
      const int64_t m = std::min(chunk, n - begin);
      for (int64_t t = 0; t < m; t++) {
        const int64_t p = begin + t;
        batch_[size_t(t)] = BatchToken{tokens[size_t(p)], int32_t(p), 0, wanted(p, n)};
      }
      transformer_->forward_hidden(batch_.data(), m, *cache_, hidden_.data());
      if (pooling_ == Pooling::Mean) {
        for (int64_t t = 0; t < m; t++)
          for (int64_t i = 0; i < E; i++) sum[size_t(i)] += hidden_[size_t(t * E + i)];
      } else if ((pooling_ == Pooling::Cls && begin == 0) || (pooling_ == Pooling::Last && begin + m == n)) {
        std::copy(hidden_.begin(), hidden_.begin() + E, v.begin());
      }
    }
    if (pooling_ == Pooling::Mean)
      for (int64_t i = 0; i < E; i++) v[size_t(i)] = float(sum[size_t(i)] / double(n));
    return v;
  }

  ModelConfig config_;
  ModelWeights weights_;
  int64_t max_tokens_ = 0;
  std::unique_ptr<Transformer> transformer_;
  std::unique_ptr<KvCache> cache_;         // one sequence, grown to the longest input seen
  std::unique_ptr<KvCache> group_cache_;   // kGroupSeqs sequences of kGroupCtx positions
  std::vector<BatchToken> batch_;
  std::vector<float> hidden_;
};

}  // namespace

std::unique_ptr<EmbeddingModel> EmbeddingModel::load(const std::string& path, int threads) {
  GgufFile file = GgufFile::open(path);
  const std::string arch = file.get_string("general.architecture");
  if (arch == "bert") return std::make_unique<BertEmbeddingModel>(std::move(file), threads);
  if (is_encoder_arch(arch))
    throw Error(fmt::format("{}: encoder architecture '{}' is not supported yet (supported encoders: bert)", path, arch));
  return std::make_unique<DecoderEmbeddingModel>(std::move(file), threads);
}

bool EmbeddingModel::is_encoder(const std::string& path) {
  return is_encoder_arch(GgufFile::open(path).get_string("general.architecture"));
}

}  // namespace hearth
