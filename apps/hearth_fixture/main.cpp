// hearth-fixture: writes a fixture model (real vocabulary, random weights of a real architecture's shapes).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "fixture_model.h"
#include "hearth/error.h"

int main(int argc, char** argv) {
  hearth::fixture::FixtureSpec s;
  std::string out;
  CLI::App app{"hearth-fixture: write a GGUF fixture model with a real vocabulary and random weights"};
  app.add_option("--arch", s.arch, "llama, qwen2, qwen3, gemma3, phi3, bert")->required();
  app.add_option("--name", s.name, "general.name");
  app.add_option("--embd", s.n_embd);
  app.add_option("--layers", s.n_layer);
  app.add_option("--heads", s.n_head);
  app.add_option("--kv-heads", s.n_head_kv);
  app.add_option("--head-dim", s.head_dim);
  app.add_option("--ff", s.n_ff);
  app.add_option("--ctx", s.n_ctx);
  app.add_option("--weights", s.weights, "F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M, Q6_K");
  app.add_flag("--tied", s.tied_embeddings, "no output.weight: logits use token_embd");
  app.add_flag("--qkv-bias", s.qkv_bias);
  app.add_flag("--llama3-rope", s.llama3_rope, "write rope_freqs.weight (llama 3.1 scaling)");
  app.add_option("--rope-base", s.rope_base);
  app.add_option("--seed", s.seed);
  app.add_option("--spm-model", s.spm_model, "SentencePiece tokenizer.model");
  app.add_option("--tokenizer-json", s.hf_tokenizer_json, "Hugging Face tokenizer.json");
  app.add_option("--tokenizer-config", s.hf_tokenizer_config, "Hugging Face tokenizer_config.json");
  app.add_option("--pre", s.pre, "tokenizer.ggml.pre for BPE vocabularies (llama-bpe, qwen2, ...)");
  app.add_option("--wordpiece-vocab", s.wordpiece_vocab, "BERT WordPiece vocabulary: vocab.txt or a JSON array");
  app.add_option("--pooling", s.pooling, "embedding pooling written as {arch}.pooling_type: mean, cls, last, none");
  app.add_flag("--add-eos", s.add_eos, "set tokenizer.ggml.add_eos_token (embedding models that pool the EOS token)");
  app.add_option("--control-token", s.extra_control_tokens, "append a control token to the vocabulary (repeatable)");
  app.add_option("-o,--out", out, "output .gguf")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    hearth::fixture::write_fixture(s, out);
  } catch (const hearth::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
