#include "grammar/grammar_checks.h"

#include <algorithm>

namespace hearth {

std::vector<bool> nullable_rules(const Grammar& grammar) {
  const auto& elems = grammar.elements();
  const auto& rules = grammar.rules();
  std::vector<bool> nullable(rules.size(), false);
  // Fixed point: a rule is nullable when one alternative consists of nullable references only.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < rules.size(); r++) {
      if (nullable[r]) continue;
      for (uint32_t start : rules[r].alternatives) {
        size_t p = start;
        while (elems[p].kind == GrammarElement::Kind::Ref && nullable[elems[p].value]) p++;
        if (elems[p].kind == GrammarElement::Kind::End) {
          nullable[r] = changed = true;
          break;
        }
      }
    }
  }
  return nullable;
}

std::vector<uint32_t> find_left_recursion(const Grammar& grammar) {
  const auto& elems = grammar.elements();
  const auto& rules = grammar.rules();
  const auto nullable = nullable_rules(grammar);
  // Edge r -> s: s can be expanded at r's start (everything before it in the alternative is nullable).
  std::vector<std::vector<uint32_t>> starts(rules.size());
  for (size_t r = 0; r < rules.size(); r++) {
    for (uint32_t start : rules[r].alternatives) {
      for (size_t p = start; elems[p].kind == GrammarElement::Kind::Ref; p++) {
        starts[r].push_back(elems[p].value);
        if (!nullable[elems[p].value]) break;
      }
    }
  }
  // Iterative DFS with colours; the path on the DFS stack gives the cycle.
  enum : uint8_t { White, Grey, Black };
  std::vector<uint8_t> colour(rules.size(), White);
  for (uint32_t origin = 0; origin < rules.size(); origin++) {
    if (colour[origin] != White) continue;
    std::vector<std::pair<uint32_t, size_t>> path{{origin, 0}};
    colour[origin] = Grey;
    while (!path.empty()) {
      auto& [r, next] = path.back();
      if (next == starts[r].size()) {
        colour[r] = Black;
        path.pop_back();
        continue;
      }
      uint32_t s = starts[r][next++];
      if (colour[s] == Grey) {
        std::vector<uint32_t> cycle;
        auto it = std::find_if(path.begin(), path.end(), [&](const auto& e) { return e.first == s; });
        for (; it != path.end(); ++it) cycle.push_back(it->first);
        cycle.push_back(s);
        return cycle;
      }
      if (colour[s] == White) {
        colour[s] = Grey;
        path.push_back({s, 0});
      }
    }
  }
  return {};
}

}  // namespace hearth
