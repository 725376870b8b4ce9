#pragma once
// Vocabulary import: writes the `tokenizer.ggml.*` keys the way llama.cpp's convert_hf_to_gguf.py does,
// from a Hugging Face tokenizer.json (+ tokenizer_config.json) or a SentencePiece .model file.
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

class GgufWriter;

// Byte-level BPE (no byte_fallback) -> model "gpt2" with merges, pre-tokenizer `pre`; SentencePiece-style
// BPE with byte_fallback (llama 2, gemma) -> model "llama" with scores derived from merge ranks.
// Added tokens become control (special) or user-defined tokens. Chat template, BOS/EOS/UNK/PAD ids and
// add_bos/add_eos come from tokenizer_config.json (or the post-processor template when it is silent).
void import_hf_tokenizer(const std::string& tokenizer_json, const std::string& tokenizer_config_json_or_empty,
                         std::string_view pre, GgufWriter& out);

// Parses ModelProto.pieces (piece, score, type), the trainer's special ids and the normalizer's
// add_dummy_prefix from a SentencePiece model file; model "llama".
void import_spm_model(const std::string& tokenizer_model_path, GgufWriter& out);

// WordPiece vocabulary as a list of tokens in id order, either BERT's vocab.txt form ("##" marks a
// continuation) or the already converted ▁-prefixed form; model "bert" as convert writes it.
void import_wordpiece_vocab(const std::vector<std::string>& tokens, GgufWriter& out);

// The smallest llama hyper-parameters llama.cpp accepts, so a vocabulary-only file loads (vocab-only).
void write_vocab_only_hparams(GgufWriter& out, const std::string& name);

}  // namespace hearth
