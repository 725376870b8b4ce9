#include "grammar/token_trie.h"

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "hearth/error.h"

namespace hearth {

namespace {
constexpr size_t kMaxPieceBytes = 0xFFFF;   // Node::depth is 16 bits

// Whether a token's bytes may appear in grammar-constrained output: control tokens (other than the end of
// generation, handled separately), unknown and unused entries never do.
bool may_appear(const Tokenizer& tok, TokenId id) {
  switch (tok.token_attr(id)) {
    case TokenAttr::Control:
    case TokenAttr::Unknown:
    case TokenAttr::Unused:
      return false;
    default:
      return true;
  }
}

// Identifies a vocabulary by its entries, so a cached trie is never reused for a different tokenizer that
// happens to live at the same address.
uint64_t fingerprint(const Tokenizer& tok) {
  uint64_t h = tok.vocab_size() * 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i < tok.vocab_size(); i++)
    h = (h ^ std::hash<std::string_view>{}(tok.token_text(TokenId(i)))) * 0x100000001B3ull;
  return h;
}
}  // namespace

TokenTrie::TokenTrie(const Tokenizer& tok) : vocab_size_(tok.vocab_size()) {
  is_end_.assign(vocab_size_, 0);
  offsets_.reserve(vocab_size_ + 1);
  offsets_.push_back(0);
  std::vector<TokenId> order;
  for (size_t i = 0; i < vocab_size_; i++) {
    const TokenId id = TokenId(i);
    const bool end = tok.is_end_of_generation(id) || tok.eos() == id;
    if (end) {
      is_end_[i] = 1;
      end_tokens_.push_back(id);
    } else if (may_appear(tok, id)) {
      const std::string piece = tok.token_to_piece(id);
      if (piece.size() > kMaxPieceBytes)
        throw Error(fmt::format("token {} is {} bytes long; the grammar matcher handles up to {}", id, piece.size(),
                                kMaxPieceBytes));
      bytes_.insert(bytes_.end(), piece.begin(), piece.end());
      if (!piece.empty()) order.push_back(id);
    }
    offsets_.push_back(bytes_.size());
  }
  std::sort(order.begin(), order.end(), [&](TokenId a, TokenId b) {
    const auto pa = piece(a), pb = piece(b);
    return pa != pb ? pa < pb : a < b;
  });

  // Sorted pieces visit the trie in depth-first order: each piece shares its longest common prefix with the
  // previous one, closes the nodes below that prefix and opens nodes for the rest.
  nodes_.push_back({0, 0, 0, 0, 0});
  std::vector<uint32_t> path{0};
  std::string_view previous;
  for (TokenId id : order) {
    const std::string_view p = piece(id);
    size_t common = 0;
    while (common < p.size() && common < previous.size() && p[common] == previous[common]) common++;
    while (path.size() > common + 1) {
      nodes_[path.back()].subtree_end = uint32_t(nodes_.size());
      path.pop_back();
    }
    for (size_t d = common; d < p.size(); d++) {
      nodes_.push_back({0, 0, 0, uint16_t(d + 1), uint8_t(p[d])});
      path.push_back(uint32_t(nodes_.size() - 1));
    }
    Node& n = nodes_[path.back()];
    if (n.tokens_begin == n.tokens_end) n.tokens_begin = uint32_t(tokens_.size());
    tokens_.push_back(id);
    n.tokens_end = uint32_t(tokens_.size());
    max_depth_ = std::max(max_depth_, p.size());
    previous = p;
  }
  for (uint32_t idx : path) nodes_[idx].subtree_end = uint32_t(nodes_.size());
}

std::shared_ptr<const TokenTrie> TokenTrie::for_tokenizer(const Tokenizer& tok) {
  static std::mutex mutex;
  static std::map<std::pair<const Tokenizer*, uint64_t>, std::weak_ptr<const TokenTrie>> cache;
  const auto key = std::make_pair(&tok, fingerprint(tok));
  std::lock_guard<std::mutex> lock(mutex);
  if (auto hit = cache[key].lock()) return hit;
  for (auto it = cache.begin(); it != cache.end();) it = it->second.expired() ? cache.erase(it) : std::next(it);
  auto trie = std::make_shared<const TokenTrie>(tok);
  cache[key] = trie;
  return trie;
}

}  // namespace hearth
