#pragma once
// The vocabulary as llama.cpp reads it from `tokenizer.ggml.*`, shared by the three tokenizers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hearth/tokenizer.h"
#include "tokenizer/pretokenizer.h"

namespace hearth {

// llama.cpp's per-token attribute bits.
enum AttrBit : uint32_t {
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
};

enum class VocabKind { Spm, Bpe, Wpm };

struct Vocab {
  VocabKind kind = VocabKind::Spm;
  std::string model;   // tokenizer.ggml.model
  std::string pre;     // tokenizer.ggml.pre
  PreTokenizerInfo pre_info;

  struct Token {
    std::string text;
    float score = 0.0f;
    uint32_t attr = kAttrNormal;
  };
  std::vector<Token> tokens;
  std::unordered_map<std::string_view, TokenId> by_text;     // views into tokens[i].text
  std::unordered_map<std::string, int> merge_rank;           // "left\x01right" -> rank
  size_t max_token_len = 0;

  TokenId bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, sep = -1, pad = -1;
  bool add_bos = false, add_eos = false, add_sep = false, add_space_prefix = false, clean_spaces = false;
  bool lowercase = true, strip_accents = true;   // WPM normalizer
  std::vector<TokenId> eog;
  std::vector<TokenId> special_by_length;   // control / user-defined / unknown, longest text first

  TokenId find(std::string_view text) const {
    auto it = by_text.find(text);
    return it == by_text.end() ? -1 : it->second;
  }
  int rank(std::string_view left, std::string_view right) const;
  TokenId byte_token(uint8_t b) const;   // SPM byte fallback
};

Vocab load_vocab(const GgufFile& file);

}  // namespace hearth
