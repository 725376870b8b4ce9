#include "gateway/redactor.h"

#include <algorithm>

namespace hearth::gateway {

Redactor::Redactor(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  // Longest first, so a secret that contains another is replaced whole.
  secrets_.erase(std::remove_if(secrets_.begin(), secrets_.end(), [](const std::string& s) { return s.size() < 4; }),
                 secrets_.end());
  std::sort(secrets_.begin(), secrets_.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
}

std::string Redactor::operator()(std::string text) const {
  for (const std::string& s : secrets_) {
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 10))
      text.replace(at, s.size(), "[redacted]");
  }
  return text;
}

}  // namespace hearth::gateway
