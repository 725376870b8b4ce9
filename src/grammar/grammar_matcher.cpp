#include <cmath>
#include <string>

#include <fmt/format.h>

#include "grammar/grammar.h"
#include "grammar/stack_set_automaton.h"
#include "grammar/token_trie.h"
#include "grammar/utf8_decoder.h"
#include "hearth/error.h"

namespace hearth {

namespace {
// Past this size the automaton is rebuilt around the current state, so a long generation through many
// distinct states cannot grow memory without bound.
constexpr size_t kMaxAutomatonBytes = size_t(64) << 20;
constexpr size_t kMaskCacheSize = 8;

std::string printable(std::string_view piece) {
  std::string out;
  for (unsigned char c : piece) {
    if (c >= 0x20 && c < 0x7F && c != '\'')
      out += char(c);
    else
      out += fmt::format("\\x{:02X}", c);
  }
  return out;
}
}  // namespace

bool Grammar::matches(std::string_view utf8) const {
  // Non-owning: the automaton lives only inside this call.
  StackSetAutomaton automaton(std::shared_ptr<const Grammar>(std::shared_ptr<const Grammar>(), this));
  uint32_t state = automaton.initial();
  Utf8Decoder dec;
  for (unsigned char b : utf8) {
    const auto r = dec.push(b);
    if (r == Utf8Decoder::Result::Invalid) return false;
    if (r == Utf8Decoder::Result::Complete && (state = automaton.next(state, dec.value)) == StackSetAutomaton::kDead)
      return false;
  }
  return dec.remaining == 0 && automaton.can_end(state);
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, const Tokenizer& tokenizer)
    : grammar_(std::move(grammar)), trie_(TokenTrie::for_tokenizer(tokenizer)) {
  if (!grammar_) throw Error("GrammarMatcher: no grammar given");
  automaton_ = std::make_unique<StackSetAutomaton>(grammar_);
  state_ = automaton_->initial();
  allowed_.assign(trie_->vocab_size(), 0);
}

GrammarMatcher::~GrammarMatcher() = default;
GrammarMatcher::GrammarMatcher(GrammarMatcher&&) noexcept = default;
GrammarMatcher& GrammarMatcher::operator=(GrammarMatcher&&) noexcept = default;

bool GrammarMatcher::accepted() const { return utf8_remaining_ == 0 && automaton_->can_end(state_); }

bool GrammarMatcher::finished() const { return ended_ || (utf8_remaining_ == 0 && automaton_->only_end(state_)); }

void GrammarMatcher::mask_logits(float* logits, int64_t n_vocab) {
  if (automaton_->table_bytes() > kMaxAutomatonBytes) {
    state_ = automaton_->compact(state_);
    mask_cache_.clear();   // state ids changed
  }
  mask_clock_++;
  CachedMask* hit = nullptr;
  for (auto& c : mask_cache_)
    if (c.state == state_ && c.pending == utf8_pending_ && c.remaining == utf8_remaining_ && c.length == utf8_length_)
      hit = &c;
  if (ended_) {
    std::fill(allowed_.begin(), allowed_.end(), uint8_t(0));
  } else if (hit) {
    hit->last_use = mask_clock_;
    std::copy(hit->allowed.begin(), hit->allowed.end(), allowed_.begin());
  } else {
    compute_allowed();
    if (mask_cache_.size() < kMaskCacheSize) mask_cache_.emplace_back();
    CachedMask& slot = *std::min_element(mask_cache_.begin(), mask_cache_.end(),
                                         [](const CachedMask& a, const CachedMask& b) { return a.last_use < b.last_use; });
    slot.state = state_;
    slot.pending = utf8_pending_;
    slot.remaining = utf8_remaining_;
    slot.length = utf8_length_;
    slot.last_use = mask_clock_;
    slot.allowed.assign(allowed_.begin(), allowed_.end());
  }
  if (accepted())
    for (TokenId t : trie_->end_tokens()) allowed_[size_t(t)] = 1;
  const int64_t known = std::min<int64_t>(n_vocab, int64_t(allowed_.size()));
  int64_t open = 0;
  for (int64_t i = 0; i < known; i++) {
    if (!allowed_[size_t(i)])
      logits[i] = -INFINITY;
    else
      open++;
  }
  // Only possible when the vocabulary cannot spell what the grammar needs next (e.g. no token finishes a
  // character begun by the previous token); sampling from an all -inf row would pick garbage.
  if (open == 0) throw Error("grammar: no token of this vocabulary can continue the output");
  for (int64_t i = known; i < n_vocab; i++) logits[i] = -INFINITY;
}

// Walks the token trie from the current state, marking every token whose bytes the grammar allows.
void GrammarMatcher::compute_allowed() {
  std::fill(allowed_.begin(), allowed_.end(), uint8_t(0));
  {
    struct WalkState {
      uint32_t state;
      Utf8Decoder dec;
    };
    // One entry per trie depth: a node's state derives from its parent's, which sits one level up.
    thread_local std::vector<WalkState> walk;
    walk.resize(trie_->max_depth() + 1);
    walk[0].state = state_;
    walk[0].dec.value = utf8_pending_;
    walk[0].dec.remaining = utf8_remaining_;
    walk[0].dec.length = utf8_length_;
    const auto& nodes = trie_->nodes();
    const auto& tokens = trie_->tokens();
    StackSetAutomaton& automaton = *automaton_;
    for (size_t i = 1; i < nodes.size();) {
      const TokenTrie::Node& node = nodes[i];
      WalkState& s = walk[node.depth];
      s = walk[node.depth - 1u];
      bool alive;
      switch (s.dec.push(node.byte)) {
        case Utf8Decoder::Result::Complete:
          s.state = automaton.next(s.state, s.dec.value);
          alive = s.state != StackSetAutomaton::kDead;
          break;
        case Utf8Decoder::Result::Partial:
          alive = automaton.accepts_prefix(s.state, s.dec.range_lo(), s.dec.range_hi());
          break;
        default:
          alive = false;
      }
      if (!alive) {
        i = node.subtree_end;
        continue;
      }
      for (uint32_t t = node.tokens_begin; t < node.tokens_end; t++) allowed_[size_t(tokens[t])] = 1;
      i++;
    }
  }
}

void GrammarMatcher::accept(TokenId token) {
  if (token < 0 || size_t(token) >= trie_->vocab_size())
    throw Error(fmt::format("grammar: token {} is outside the vocabulary of {}", token, trie_->vocab_size()));
  if (ended_) throw Error(fmt::format("grammar: token {} after the end of generation", token));
  if (trie_->is_end(token)) {
    if (!accepted()) throw Error("grammar: end of generation before the output is complete");
    ended_ = true;
    return;
  }
  const std::string_view piece = trie_->piece(token);
  if (piece.empty()) throw Error(fmt::format("grammar: token {} is a control token, never allowed in grammar output", token));
  uint32_t state, pending;
  uint8_t remaining, length;
  if (!run_piece(piece, state, pending, remaining, length))
    throw Error(fmt::format("grammar: token {} '{}' is not allowed here", token, printable(piece)));
  state_ = state;
  utf8_pending_ = pending;
  utf8_remaining_ = remaining;
  utf8_length_ = length;
}

bool GrammarMatcher::allows(TokenId token) {
  if (token < 0 || size_t(token) >= trie_->vocab_size() || ended_) return false;
  if (trie_->is_end(token)) return accepted();
  const std::string_view piece = trie_->piece(token);
  if (piece.empty()) return false;
  uint32_t state, pending;
  uint8_t remaining, length;
  return run_piece(piece, state, pending, remaining, length);
}

bool GrammarMatcher::run_piece(std::string_view piece, uint32_t& state, uint32_t& pending, uint8_t& remaining,
                               uint8_t& length) {
  Utf8Decoder dec;
  dec.value = utf8_pending_;
  dec.remaining = utf8_remaining_;
  dec.length = utf8_length_;
  state = state_;
  for (unsigned char b : piece) {
    switch (dec.push(b)) {
      case Utf8Decoder::Result::Complete:
        state = automaton_->next(state, dec.value);
        if (state == StackSetAutomaton::kDead) return false;
        break;
      case Utf8Decoder::Result::Partial:
        if (!automaton_->accepts_prefix(state, dec.range_lo(), dec.range_hi())) return false;
        break;
      default:
        return false;
    }
  }
  pending = dec.value;
  remaining = dec.remaining;
  length = dec.length;
  return true;
}

}  // namespace hearth
