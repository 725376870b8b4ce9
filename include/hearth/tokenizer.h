#pragma once
// Tokenizers built from a GGUF file's `tokenizer.ggml.*` metadata: SentencePiece (llama/gemma style),
// byte-level BPE with the pre-tokenizer named by `tokenizer.ggml.pre`, and WordPiece (BERT).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

class GgufFile;
using TokenId = int32_t;

enum class TokenAttr : uint8_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

class Tokenizer {
 public:
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);
  virtual ~Tokenizer() = default;

  // add_special: prepend BOS / append EOS as the vocabulary's add_bos/add_eos flags say.
  // parse_special: recognise control/user-defined token texts (e.g. "<|im_start|>") inside text.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const = 0;

  // Bytes of one token as it appears in output (byte tokens give their byte, SPM's ▁ becomes a space,
  // control tokens give "" unless render_special).
  virtual std::string token_to_piece(TokenId id, bool render_special = false) const = 0;
  // Whole-sequence decode; undoes the leading space SPM adds when add_space_prefix is on.
  virtual std::string decode(const std::vector<TokenId>& ids, bool render_special = false) const = 0;

  virtual size_t vocab_size() const = 0;
  virtual std::string_view token_text(TokenId id) const = 0;   // the raw vocabulary entry
  virtual TokenAttr token_attr(TokenId id) const = 0;
  virtual std::optional<TokenId> bos() const = 0;
  virtual std::optional<TokenId> eos() const = 0;
  virtual bool add_bos() const = 0;
  virtual bool add_eos() const = 0;
  // End-of-generation tokens: eos, eot, eom and template ends like <|im_end|>, <end_of_turn>.
  virtual bool is_end_of_generation(TokenId id) const = 0;
  virtual std::string_view model_name() const = 0;   // "llama", "gpt2", "bert", ...
  // SPM prepends a space to the text; decode and StreamingDetokenizer drop it from the first piece.
  virtual bool add_space_prefix() const { return false; }
  // Byte-level vocabularies and SPM with byte fallback: decode(encode(x)) == x for valid UTF-8 (for SPM, x
  // without U+2581: SPM writes spaces as U+2581, so a literal one decodes as a space, as in llama.cpp).
  virtual bool is_lossless() const { return false; }
};

// Turns a token stream into text that never ends inside a UTF-8 sequence: bytes of an incomplete
// character are held until the character completes (or are flushed as U+FFFD at the end).
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tok, bool render_special = false);
  std::string push(TokenId id);   // text that became complete with this token (may be empty)
  std::string flush();            // whatever is pending, invalid bytes replaced by U+FFFD
 private:
  const Tokenizer& tok_;
  bool render_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace hearth
