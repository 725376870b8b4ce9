#pragma once
// Fixture models: a real vocabulary with random weights of the real shapes, written as GGUF exactly as
// llama.cpp's converter lays out that architecture, so llama.cpp loads the same file as a reference.
#include <cstdint>
#include <string>
#include <vector>

namespace hearth::fixture {

struct FixtureSpec {
  std::string arch = "llama";        // llama, qwen2, qwen3, gemma3, phi3, bert
  std::string name = "hearth fixture";
  int64_t n_embd = 256, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 512, n_ctx = 4096;
  int64_t head_dim = 0;              // 0: n_embd / n_head
  std::string weights = "Q8_0";      // F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K
  bool tied_embeddings = false;
  bool qkv_bias = false;             // qwen2
  bool llama3_rope = false;          // write rope_freqs.weight with llama3 scaling factors
  float rope_base = 10000.0f;
  uint64_t seed = 1;
  // Vocabulary source: a SentencePiece .model, or a tokenizer.json (+ tokenizer_config.json) and a pre name.
  std::string spm_model;
  std::string hf_tokenizer_json, hf_tokenizer_config, pre;
  std::string wordpiece_vocab;       // BERT: vocab.txt, or a JSON array of tokens in id order
  std::string pooling;               // written as {arch}.pooling_type: mean, cls, last, none; empty = not written
  bool add_eos = false;              // tokenizer.ggml.add_eos_token = true (Qwen3-Embedding appends <|endoftext|>)
  std::string chat_template;         // overrides the vocabulary's template when set
  std::vector<std::string> extra_control_tokens;  // appended to the vocabulary as control tokens
};

void write_fixture(const FixtureSpec& spec, const std::string& out_path);

}  // namespace hearth::fixture
