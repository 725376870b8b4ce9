#include "fixture_model.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backend/cpu/kernels.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "tokenizer/vocab_import.h"

namespace hearth::fixture {
namespace {

// Deterministic on every platform: integer PRNG and an Irwin–Hall normal (sum of uniforms), no libm.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
  // Approximately N(0, 1): (sum of 4 uniforms - 2) * sqrt(3).
  float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }

 private:
  uint64_t s_;
};

struct TypePlan {
  TensorType base, sensitive;  // sensitive: output, attn_v, ffn_down (as the _M k-quant mixes do)
};

TypePlan plan_for(const std::string& w) {
  if (w == "F32") return {TensorType::F32, TensorType::F32};
  if (w == "F16") return {TensorType::F16, TensorType::F16};
  if (w == "BF16") return {TensorType::BF16, TensorType::BF16};
  if (w == "Q8_0") return {TensorType::Q8_0, TensorType::Q8_0};
  if (w == "Q4_0") return {TensorType::Q4_0, TensorType::Q4_0};
  if (w == "Q4_K_M") return {TensorType::Q4_K, TensorType::Q6_K};
  if (w == "Q5_K_M") return {TensorType::Q5_K, TensorType::Q6_K};
  if (w == "Q6_K") return {TensorType::Q6_K, TensorType::Q6_K};
  throw Error(fmt::format("unknown weight type '{}' (F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K)", w));
}

class FixtureWriter {
 public:
  FixtureWriter(GgufWriter& w, uint64_t seed) : w_(w), rng_(seed) {}

  // A [rows][cols] matrix (ggml dims {cols, rows}) of N(0, std^2) values in `type`.
  void matrix(const std::string& name, int64_t cols, int64_t rows, TensorType type, float std) {
    if (cols % tensor_type_info(uint32_t(type))->block_size != 0) type = TensorType::F16;  // as llama.cpp falls back
    std::vector<float> row(static_cast<size_t>(cols));
    const size_t row_bytes = tensor_row_bytes(type, uint64_t(cols));
    std::vector<uint8_t> data(row_bytes * size_t(rows));
    for (int64_t r = 0; r < rows; r++) {
      for (auto& v : row) v = rng_.normal() * std;
      cpu::quantize_row(type, row.data(), data.data() + size_t(r) * row_bytes, cols);
    }
    w_.add_tensor(name, {uint64_t(cols), uint64_t(rows)}, type, std::move(data));
  }
  // A norm weight (around `center`) or bias, always F32 as the converter writes them.
  void vector(const std::string& name, int64_t n, float center, float spread) {
    std::vector<uint8_t> data(size_t(n) * 4);
    for (int64_t i = 0; i < n; i++) {
      float v = center + rng_.normal() * spread;
      std::memcpy(data.data() + i * 4, &v, 4);
    }
    w_.add_tensor(name, {uint64_t(n)}, TensorType::F32, std::move(data));
  }
  void raw_f32(const std::string& name, const std::vector<float>& v) {
    std::vector<uint8_t> data(v.size() * 4);
    std::memcpy(data.data(), v.data(), data.size());
    w_.add_tensor(name, {uint64_t(v.size())}, TensorType::F32, std::move(data));
  }

 private:
  GgufWriter& w_;
  Rng rng_;
};

// Llama 3.1's frequency-dependent rope scaling (factor 8, low 1, high 4, original context 8192).
std::vector<float> llama3_rope_factors(int64_t n_rot, float base) {
  const double factor = 8, low = 1, high = 4, old_ctx = 8192;
  const double low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
  std::vector<float> out;
  for (int64_t i = 0; i < n_rot; i += 2) {
    const double freq = 1.0 / std::pow(double(base), double(i) / double(n_rot));
    const double wavelen = 2 * M_PI / freq;
    double f;
    if (wavelen < high_wavelen) f = 1;
    else if (wavelen > low_wavelen) f = factor;
    else {
      const double smooth = (old_ctx / wavelen - low) / (high - low);
      f = 1 / ((1 - smooth) / factor + smooth);
    }
    out.push_back(float(f));
  }
  return out;
}

std::string read_text(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read {}", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Appends control tokens (e.g. phi-3's <|end|>, which llama.cpp's phi3 loader looks up) to the vocabulary.
void append_control_tokens(GgufWriter& w, const std::vector<std::string>& extra) {
  GgufFile v = GgufFile::from_bytes(w.to_bytes());
  std::vector<std::string> tokens;
  for (const auto& t : v.get("tokenizer.ggml.tokens").as_array().items) tokens.push_back(t.as_string());
  std::vector<float> scores;
  if (const GgufValue* sc = v.find("tokenizer.ggml.scores"))
    for (const auto& x : sc->as_array().items) scores.push_back(float(x.as_f64()));
  std::vector<int32_t> types;
  for (const auto& x : v.get("tokenizer.ggml.token_type").as_array().items) types.push_back(int32_t(x.as_i64()));
  for (const auto& t : extra) {
    tokens.push_back(t);
    if (!scores.empty()) scores.push_back(0.0f);
    types.push_back(3);  // control
  }
  w.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  if (!scores.empty()) w.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  w.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
}

// llama.cpp's numbering of {arch}.pooling_type.
uint32_t pooling_code(const std::string& p) {
  if (p == "none") return 0;
  if (p == "mean") return 1;
  if (p == "cls") return 2;
  if (p == "last") return 3;
  throw Error(fmt::format("unknown pooling '{}' (mean, cls, last, none)", p));
}

// A WordPiece vocabulary: BERT's vocab.txt (one token a line) or a JSON array of tokens in id order.
std::vector<std::string> read_wordpiece_vocab(const std::string& path) {
  const std::string text = read_text(path);
  if (!text.empty() && text[0] == '[') {
    try {
      return nlohmann::json::parse(text).get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: not a JSON array of tokens ({})", path, e.what()));
    }
  }
  std::vector<std::string> tokens;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  return tokens;
}

// BERT as llama.cpp's converter writes it (arch "bert"): learned positions, segment embeddings, LayerNorm
// with biases, biased projections, GELU feed-forward, post-norm residual blocks.
void write_bert_fixture(const FixtureSpec& s, const std::string& out_path) {
  if (s.wordpiece_vocab.empty()) throw Error("a bert fixture needs --wordpiece-vocab");
  GgufWriter w;
  const std::string a = "bert";
  w.set("general.architecture", GgufValue::string(a));
  w.set("general.name", GgufValue::string(s.name));
  w.set("general.file_type", GgufValue::u32(0));
  w.set(a + ".context_length", GgufValue::u32(uint32_t(s.n_ctx)));
  w.set(a + ".embedding_length", GgufValue::u32(uint32_t(s.n_embd)));
  w.set(a + ".feed_forward_length", GgufValue::u32(uint32_t(s.n_ff)));
  w.set(a + ".block_count", GgufValue::u32(uint32_t(s.n_layer)));
  w.set(a + ".attention.head_count", GgufValue::u32(uint32_t(s.n_head)));
  w.set(a + ".attention.layer_norm_epsilon", GgufValue::f32(1e-12f));
  w.set(a + ".attention.causal", GgufValue::boolean(false));
  if (!s.pooling.empty()) w.set(a + ".pooling_type", GgufValue::u32(pooling_code(s.pooling)));
  w.set("tokenizer.ggml.token_type_count", GgufValue::u32(2));
  import_wordpiece_vocab(read_wordpiece_vocab(s.wordpiece_vocab), w);
  GgufFile vocab = GgufFile::from_bytes(w.to_bytes());
  const int64_t n_vocab = int64_t(vocab.get("tokenizer.ggml.tokens").as_array().items.size());

  const TypePlan plan = plan_for(s.weights);
  FixtureWriter f(w, s.seed);
  const int64_t E = s.n_embd, F = s.n_ff;
  const float in_std = 1.0f / std::sqrt(float(E));
  f.matrix("token_embd.weight", E, n_vocab, plan.base, 1.0f);
  // The converter keeps positions and segments in f32 (llama.cpp never quantizes them).
  f.matrix("token_types.weight", E, 2, TensorType::F32, 0.5f);
  f.matrix("position_embd.weight", E, s.n_ctx, TensorType::F32, 0.5f);
  f.vector("token_embd_norm.weight", E, 1.0f, 0.1f);
  f.vector("token_embd_norm.bias", E, 0.0f, 0.1f);
  for (int64_t il = 0; il < s.n_layer; il++) {
    const std::string b = fmt::format("blk.{}.", il);
    for (const char* p : {"attn_q", "attn_k", "attn_v"}) {
      f.matrix(b + p + ".weight", E, E, std::string(p) == "attn_v" ? plan.sensitive : plan.base, in_std);
      f.vector(b + p + ".bias", E, 0.0f, 0.1f);
    }
    f.matrix(b + "attn_output.weight", E, E, plan.base, in_std);
    f.vector(b + "attn_output.bias", E, 0.0f, 0.1f);
    f.vector(b + "attn_output_norm.weight", E, 1.0f, 0.1f);
    f.vector(b + "attn_output_norm.bias", E, 0.0f, 0.1f);
    f.matrix(b + "ffn_up.weight", E, F, plan.base, in_std);
    f.vector(b + "ffn_up.bias", F, 0.0f, 0.1f);
    f.matrix(b + "ffn_down.weight", F, E, plan.sensitive, 1.0f / std::sqrt(float(F)));
    f.vector(b + "ffn_down.bias", E, 0.0f, 0.1f);
    f.vector(b + "layer_output_norm.weight", E, 1.0f, 0.1f);
    f.vector(b + "layer_output_norm.bias", E, 0.0f, 0.1f);
  }
  w.write(out_path);
}

}  // namespace

void write_fixture(const FixtureSpec& s, const std::string& out_path) {
  if (s.arch == "bert") return write_bert_fixture(s, out_path);
  GgufWriter w;
  const std::string& a = s.arch;
  const int64_t hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  w.set("general.architecture", GgufValue::string(a));
  w.set("general.name", GgufValue::string(s.name));
  w.set("general.file_type", GgufValue::u32(0));
  w.set(a + ".context_length", GgufValue::u32(uint32_t(s.n_ctx)));
  w.set(a + ".embedding_length", GgufValue::u32(uint32_t(s.n_embd)));
  w.set(a + ".block_count", GgufValue::u32(uint32_t(s.n_layer)));
  w.set(a + ".feed_forward_length", GgufValue::u32(uint32_t(s.n_ff)));
  w.set(a + ".attention.head_count", GgufValue::u32(uint32_t(s.n_head)));
  w.set(a + ".attention.head_count_kv", GgufValue::u32(uint32_t(s.n_head_kv)));
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(a.rfind("gemma", 0) == 0 ? 1e-6f : 1e-5f));
  w.set(a + ".rope.freq_base", GgufValue::f32(s.rope_base));
  if (hd * s.n_head != s.n_embd || a.rfind("gemma", 0) == 0 || a == "qwen3") {
    w.set(a + ".attention.key_length", GgufValue::u32(uint32_t(hd)));
    w.set(a + ".attention.value_length", GgufValue::u32(uint32_t(hd)));
  }
  w.set(a + ".rope.dimension_count", GgufValue::u32(uint32_t(hd)));
  if (a == "gemma3" || a == "gemma2") w.set(a + ".attention.sliding_window", GgufValue::u32(512));
  if (a == "gemma2") {
    w.set(a + ".attn_logit_softcapping", GgufValue::f32(50.0f));
    w.set(a + ".final_logit_softcapping", GgufValue::f32(30.0f));
  }

  if (!s.spm_model.empty()) import_spm_model(s.spm_model, w);
  else if (!s.hf_tokenizer_json.empty()) import_hf_tokenizer(read_text(s.hf_tokenizer_json), read_text(s.hf_tokenizer_config), s.pre, w);
  else throw Error("a fixture needs a vocabulary: --spm-model or --tokenizer-json");
  if (!s.chat_template.empty()) w.set("tokenizer.chat_template", GgufValue::string(s.chat_template));
  if (!s.extra_control_tokens.empty()) append_control_tokens(w, s.extra_control_tokens);
  if (s.add_eos) w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(true));
  if (!s.pooling.empty()) w.set(a + ".pooling_type", GgufValue::u32(pooling_code(s.pooling)));

  // The vocabulary size decides the embedding table; read it back from what the importer wrote.
  GgufFile vocab = GgufFile::from_bytes(w.to_bytes());
  const int64_t n_vocab = int64_t(vocab.get("tokenizer.ggml.tokens").as_array().items.size());

  const TypePlan plan = plan_for(s.weights);
  FixtureWriter f(w, s.seed);
  const float emb_std = a.rfind("gemma", 0) == 0 ? 0.05f : 1.0f;
  const int64_t q = s.n_head * hd, kv = s.n_head_kv * hd;
  // Embeddings follow the base type (llama.cpp's mixes keep token_embd at the base type).
  f.matrix("token_embd.weight", s.n_embd, n_vocab, plan.base, emb_std);
  // Logits spread wide enough (std ≈ 4) that greedy choices are rarely near-ties; with tied embeddings the
  // output norm's scale sets that spread.
  const float out_norm = s.tied_embeddings ? 4.0f / (emb_std * std::sqrt(float(s.n_embd))) : 1.0f;
  f.vector("output_norm.weight", s.n_embd, out_norm, 0.1f * out_norm);
  if (!s.tied_embeddings) f.matrix("output.weight", s.n_embd, n_vocab, plan.sensitive, 4.0f / std::sqrt(float(s.n_embd)));
  if (s.llama3_rope) f.raw_f32("rope_freqs.weight", llama3_rope_factors(hd, s.rope_base));

  const float in_std = 1.0f / std::sqrt(float(s.n_embd));
  for (int64_t il = 0; il < s.n_layer; il++) {
    const std::string b = fmt::format("blk.{}.", il);
    f.vector(b + "attn_norm.weight", s.n_embd, 1.0f, 0.1f);
    if (a == "phi3") {
      f.matrix(b + "attn_qkv.weight", s.n_embd, q + 2 * kv, plan.base, in_std);
    } else {
      f.matrix(b + "attn_q.weight", s.n_embd, q, plan.base, in_std);
      f.matrix(b + "attn_k.weight", s.n_embd, kv, plan.base, in_std);
      f.matrix(b + "attn_v.weight", s.n_embd, kv, plan.sensitive, in_std);
    }
    if (s.qkv_bias) {
      f.vector(b + "attn_q.bias", q, 0.0f, 0.1f);
      f.vector(b + "attn_k.bias", kv, 0.0f, 0.1f);
      f.vector(b + "attn_v.bias", kv, 0.0f, 0.1f);
    }
    if (a == "qwen3" || a == "gemma3") {
      f.vector(b + "attn_q_norm.weight", hd, 1.0f, 0.1f);
      f.vector(b + "attn_k_norm.weight", hd, 1.0f, 0.1f);
    }
    f.matrix(b + "attn_output.weight", q, s.n_embd, plan.base, 1.0f / std::sqrt(float(q)));
    if (a == "gemma3" || a == "gemma2") {
      f.vector(b + "post_attention_norm.weight", s.n_embd, 1.0f, 0.1f);
      f.vector(b + "post_ffw_norm.weight", s.n_embd, 1.0f, 0.1f);
    }
    f.vector(b + "ffn_norm.weight", s.n_embd, 1.0f, 0.1f);
    if (a == "phi3") {
      f.matrix(b + "ffn_up.weight", s.n_embd, 2 * s.n_ff, plan.base, in_std);
    } else {
      f.matrix(b + "ffn_gate.weight", s.n_embd, s.n_ff, plan.base, in_std);
      f.matrix(b + "ffn_up.weight", s.n_embd, s.n_ff, plan.base, in_std);
    }
    f.matrix(b + "ffn_down.weight", s.n_ff, s.n_embd, plan.sensitive, 1.0f / std::sqrt(float(s.n_ff)));
  }
  w.write(out_path);
}

}  // namespace hearth::fixture
