#pragma once
// The grammar's pushdown matcher, determinised lazily: a state is the set of all parse stacks alive after
// the input so far, and each (state, code point) transition is computed once and then looked up. Stacks are
// hash-consed linked lists (top position + parent), so equal stacks share one id and sets compare by ids.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"

namespace hearth {

class StackSetAutomaton {
 public:
  static constexpr uint32_t kDead = 0;   // the empty set: no stack survives

  explicit StackSetAutomaton(std::shared_ptr<const Grammar> grammar);

  uint32_t initial();
  // The state after reading one code point; kDead when the grammar does not allow it.
  uint32_t next(uint32_t state, uint32_t cp) {
    if (cp < 128) {
      const uint32_t cached = ascii_next_[size_t(state) * 128 + cp];
      if (cached != kUnknown) return cached;
    }
    return next_slow(state, cp);
  }
  // Whether some stack can read a code point in [lo, hi] (for a character split across tokens).
  bool accepts_prefix(uint32_t state, uint32_t lo, uint32_t hi) const;
  bool can_end(uint32_t state) const { return sets_[state].can_end; }
  bool only_end(uint32_t state) const { return sets_[state].only_end; }
  // Interned stacks + states + transitions, to bound memory on very long generations.
  size_t table_entries() const { return nodes_.size() + sets_.size() + other_next_.size(); }
  // Forgets every table except what `state` needs; returns its id in the fresh tables.
  uint32_t compact(uint32_t state);

 private:
  static constexpr uint32_t kUnknown = 0xFFFFFFFFu;
  struct Node {
    uint32_t pos;      // top of this stack: a Chars element (or a continuation, for inner nodes)
    uint32_t parent;   // the rest of the stack; 0 is the empty stack
  };
  struct Set {
    uint32_t begin, count;   // members_[begin, begin + count): stack ids, sorted
    bool can_end, only_end;
  };

  uint32_t next_slow(uint32_t state, uint32_t cp);
  uint32_t intern_node(uint32_t pos, uint32_t parent);
  uint32_t intern_set(std::vector<uint32_t>& stacks);
  // Pushes onto `out` every stack reachable from "pos on top of parent" whose top reads a character.
  void expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out);
  void reset_tables();

  std::shared_ptr<const Grammar> grammar_;
  const GrammarElement* elems_;
  const CharClass* classes_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;
  std::vector<Set> sets_;
  std::vector<uint32_t> members_;
  std::unordered_map<std::string, uint32_t> set_ids_;
  std::vector<uint32_t> ascii_next_;                    // 128 slots per state
  std::unordered_map<uint64_t, uint32_t> other_next_;   // (state << 32 | cp) for cp >= 128
  std::vector<uint32_t> scratch_;
  std::string key_scratch_;
};

}  // namespace hearth
