#pragma once
// The grammar's pushdown matcher, determinised lazily: a state is the set of all parse stacks alive after
// the input so far, and each (state, code point) transition is computed once and then looked up. Stacks are
// hash-consed linked lists (top position + parent), so equal stacks share one id and sets compare by ids.
#include <algorithm>
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
    const uint32_t eq = cp < 128 ? ascii_class_[cp] : char_class_of(cp);
    const uint32_t cached = next_[size_t(state) * n_char_classes_ + eq];
    return cached != kUnknown ? cached : next_slow(state, eq);
  }
  // Whether some stack can read a code point in [lo, hi] (for a character split across tokens).
  bool accepts_prefix(uint32_t state, uint32_t lo, uint32_t hi) const;
  bool can_end(uint32_t state) const { return sets_[state].can_end; }
  bool only_end(uint32_t state) const { return sets_[state].only_end; }
  // Approximate memory of the interned stacks, states and transitions, to bound it on long generations.
  size_t table_bytes() const {
    return nodes_.size() * 32 + sets_.size() * 64 + members_.size() * 4 + next_.size() * 4;
  }
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

  uint32_t next_slow(uint32_t state, uint32_t eq);
  uint32_t char_class_of(uint32_t cp) const {
    // Index of the elementary interval holding cp: the last boundary <= cp.
    return uint32_t(std::upper_bound(boundaries_.begin(), boundaries_.end(), cp) - boundaries_.begin()) - 1;
  }
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
  // Code points split into elementary intervals on which every char class of the grammar is constant, so
  // transitions are per interval, not per code point: a state inside a JSON string has a handful.
  std::vector<uint32_t> boundaries_;    // sorted starts of the intervals; boundaries_[0] == 0
  uint32_t n_char_classes_ = 0;
  uint32_t ascii_class_[128] = {};
  std::vector<uint32_t> next_;          // n_char_classes_ slots per state
  std::vector<uint32_t> scratch_;
  std::string key_scratch_;
};

}  // namespace hearth
