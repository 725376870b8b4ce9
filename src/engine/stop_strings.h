#pragma once
// Finds stop strings in streamed text, holding back any tail that could still grow into one, so a stop
// string never reaches the caller.
#include <string>
#include <vector>

namespace hearth {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);
  struct Output {
    std::string text;      // text that is now safe to emit
    bool matched = false;  // a stop string was found; text ends just before it
  };
  Output push(const std::string& piece);
  std::string flush();     // the held-back tail, at the end of generation

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

}  // namespace hearth
