#pragma once
// Every token's output bytes arranged as a byte trie in depth-first order, so masking walks shared
// prefixes once and skips a whole subtree the moment the grammar rejects its prefix. Built once per
// tokenizer and shared by all matchers that use it.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "hearth/tokenizer.h"

namespace hearth {

class TokenTrie {
 public:
  struct Node {
    uint32_t subtree_end;    // index one past this node's last descendant
    uint32_t tokens_begin;   // tokens whose bytes end exactly here: tokens()[tokens_begin, tokens_end)
    uint32_t tokens_end;
    uint16_t depth;          // bytes from the root (the root is 0)
    uint8_t byte;
  };

  explicit TokenTrie(const Tokenizer& tokenizer);
  // The trie for this tokenizer, built on first use and reused while any matcher holds it.
  static std::shared_ptr<const TokenTrie> for_tokenizer(const Tokenizer& tokenizer);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<TokenId>& tokens() const { return tokens_; }
  const std::vector<TokenId>& end_tokens() const { return end_tokens_; }
  size_t vocab_size() const { return vocab_size_; }
  size_t max_depth() const { return max_depth_; }
  // The bytes a token adds to the output; empty for tokens that may never appear in grammar output.
  std::string_view piece(TokenId id) const {
    return {bytes_.data() + offsets_[size_t(id)], offsets_[size_t(id) + 1] - offsets_[size_t(id)]};
  }
  bool is_end(TokenId id) const { return is_end_[size_t(id)] != 0; }

 private:
  std::vector<Node> nodes_;
  std::vector<TokenId> tokens_;
  std::vector<TokenId> end_tokens_;
  std::vector<uint8_t> is_end_;
  std::vector<char> bytes_;
  std::vector<size_t> offsets_;
  size_t vocab_size_ = 0;
  size_t max_depth_ = 0;
};

}  // namespace hearth
