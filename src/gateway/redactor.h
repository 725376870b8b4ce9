#pragma once
// Scrubs known secret values (tokens, provider keys) from any text before it is logged or sent, so an
// upstream error that echoes a key, or an exception that quotes a header, cannot leak it.
#include <string>
#include <vector>

namespace hearth::gateway {

class Redactor {
 public:
  Redactor() = default;
  explicit Redactor(std::vector<std::string> secrets);
  std::string operator()(std::string text) const;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace hearth::gateway
