#pragma once
#include <cstdint>
#include <vector>

#include "grammar/grammar.h"

namespace hearth {

// Which rules can match the empty string.
std::vector<bool> nullable_rules(const Grammar& grammar);

// A cycle of rules that can reach themselves without consuming a character (direct or indirect left
// recursion, including through rules that match the empty string); empty when there is none. A matcher
// would expand such a cycle forever.
std::vector<uint32_t> find_left_recursion(const Grammar& grammar);

}  // namespace hearth
