#include "grammar/stack_set_automaton.h"

#include <algorithm>
#include <cstring>

namespace hearth {

StackSetAutomaton::StackSetAutomaton(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)), elems_(grammar_->elements().data()), classes_(grammar_->classes().data()) {
  boundaries_.push_back(0);
  for (const auto& c : grammar_->classes())
    for (const auto& [lo, hi] : c.ranges) {
      boundaries_.push_back(lo);
      if (hi < 0x10FFFF) boundaries_.push_back(hi + 1);
    }
  std::sort(boundaries_.begin(), boundaries_.end());
  boundaries_.erase(std::unique(boundaries_.begin(), boundaries_.end()), boundaries_.end());
  n_char_classes_ = uint32_t(boundaries_.size());
  for (uint32_t cp = 0; cp < 128; cp++) ascii_class_[cp] = char_class_of(cp);
  reset_tables();
}

void StackSetAutomaton::reset_tables() {
  nodes_.assign(1, Node{kUnknown, 0});   // node 0: the empty stack
  node_ids_.clear();
  sets_.assign(1, Set{0, 0, false, false});   // state 0: dead
  members_.clear();
  set_ids_.clear();
  next_.assign(n_char_classes_, kDead);   // the dead state stays dead
}

uint32_t StackSetAutomaton::intern_node(uint32_t pos, uint32_t parent) {
  const uint64_t key = (uint64_t(pos) << 32) | parent;
  auto [it, inserted] = node_ids_.emplace(key, uint32_t(nodes_.size()));
  if (inserted) nodes_.push_back({pos, parent});
  return it->second;
}

void StackSetAutomaton::expand(uint32_t pos, uint32_t parent, std::vector<uint32_t>& out) {
  const GrammarElement& e = elems_[pos];
  switch (e.kind) {
    case GrammarElement::Kind::Chars:
      out.push_back(intern_node(pos, parent));
      return;
    case GrammarElement::Kind::End:
      // This alternative is done: continue with what the parent stack expects next.
      if (parent == 0) {
        out.push_back(0);
      } else {
        const Node p = nodes_[parent];
        expand(p.pos, p.parent, out);
      }
      return;
    case GrammarElement::Kind::Ref: {
      // Where to return after the referenced rule; a reference in tail position returns straight to the
      // parent, so right recursion (x ::= "a" x | ...) keeps the stack flat.
      const uint32_t after = elems_[pos + 1].kind == GrammarElement::Kind::End ? parent : intern_node(pos + 1, parent);
      for (uint32_t start : grammar_->rules()[e.value].alternatives) expand(start, after, out);
      return;
    }
  }
}

uint32_t StackSetAutomaton::intern_set(std::vector<uint32_t>& stacks) {
  std::sort(stacks.begin(), stacks.end());
  stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
  if (stacks.empty()) return kDead;
  key_scratch_.assign(reinterpret_cast<const char*>(stacks.data()), stacks.size() * sizeof(uint32_t));
  auto [it, inserted] = set_ids_.emplace(key_scratch_, uint32_t(sets_.size()));
  if (inserted) {
    const bool can_end = stacks.front() == 0;
    sets_.push_back({uint32_t(members_.size()), uint32_t(stacks.size()), can_end, can_end && stacks.size() == 1});
    members_.insert(members_.end(), stacks.begin(), stacks.end());
    next_.resize(next_.size() + n_char_classes_, kUnknown);
  }
  return it->second;
}

uint32_t StackSetAutomaton::initial() {
  scratch_.clear();
  for (uint32_t start : grammar_->rules()[grammar_->root()].alternatives) expand(start, 0, scratch_);
  return intern_set(scratch_);
}

uint32_t StackSetAutomaton::next_slow(uint32_t state, uint32_t eq) {
  const uint32_t cp = boundaries_[eq];   // every code point of the interval behaves alike
  scratch_.clear();
  const Set s = sets_[state];
  for (uint32_t i = 0; i < s.count; i++) {
    const uint32_t id = members_[s.begin + i];
    if (id == 0) continue;   // a finished stack reads nothing more
    const Node n = nodes_[id];
    if (classes_[elems_[n.pos].value].contains(cp)) expand(n.pos + 1, n.parent, scratch_);
  }
  const uint32_t result = intern_set(scratch_);
  next_[size_t(state) * n_char_classes_ + eq] = result;
  return result;
}

bool StackSetAutomaton::accepts_prefix(uint32_t state, uint32_t lo, uint32_t hi) const {
  const Set& s = sets_[state];
  for (uint32_t i = 0; i < s.count; i++) {
    const uint32_t id = members_[s.begin + i];
    if (id != 0 && classes_[elems_[nodes_[id].pos].value].intersects(lo, hi)) return true;
  }
  return false;
}

uint32_t StackSetAutomaton::compact(uint32_t state) {
  // Spell out each member stack as its positions (top first), then rebuild the tables from them alone.
  std::vector<std::vector<uint32_t>> stacks;
  const Set s = sets_[state];
  for (uint32_t i = 0; i < s.count; i++) {
    std::vector<uint32_t> positions;
    for (uint32_t id = members_[s.begin + i]; id != 0; id = nodes_[id].parent) positions.push_back(nodes_[id].pos);
    stacks.push_back(std::move(positions));
  }
  reset_tables();
  scratch_.clear();
  for (const auto& positions : stacks) {
    uint32_t id = 0;
    for (auto it = positions.rbegin(); it != positions.rend(); ++it) id = intern_node(*it, id);
    scratch_.push_back(id);
  }
  return intern_set(scratch_);
}

}  // namespace hearth
