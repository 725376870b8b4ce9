#pragma once
// A failure while evaluating; the interpreter adds the line:column of the node that raised it and
// turns it into hearth::Error.
#include <stdexcept>
#include <string>

namespace hearth::jinja {

class EvalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& message) { throw EvalError(message); }

}  // namespace hearth::jinja
