#pragma once
// Walks the syntax tree and writes the output. Every render gets a fresh Interpreter; it bounds work,
// output size and call depth so a hostile template cannot hang or exhaust memory.
#include <ctime>
#include <memory>
#include <string>
#include <unordered_map>

#include "template/ast.h"
#include "template/value.h"

namespace hearth::jinja {

struct Limits {
  size_t max_output_bytes = size_t{32} << 20;
  uint64_t max_steps = 4'000'000;  // statements executed + loop iterations + list elements produced
  int max_call_depth = 64;
};

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;

  const Value* find(const std::string& name) const;
};

class Interpreter {
 public:
  Interpreter(const Body& program, Limits limits);

  // `now`: the time strftime_now() formats.
  std::string render(const Object& context, std::time_t now);

  // Counts work; throws when a limit is passed. Filters call it for each element they produce.
  void tick(uint64_t steps = 1);

  // Calls a function value (macro, global, method) with the current scope as the caller's.
  Value call(const Value& callee, CallArgs& args);

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec(const Body& body, std::string& out);
  Flow exec(const Stmt& s, std::string& out);
  void exec_for(const Stmt& s, std::string& out);
  void exec_set(const Stmt& s, const Value& value);
  Value make_macro(const Stmt& s);
  Value make_caller(const Stmt& s);
  Value call_macro(const Stmt& macro, const std::shared_ptr<Scope>& parent, CallArgs& args, const Value* caller);

  Value eval(const Expr& e);
  Value eval_binary(const Expr& e);
  CallArgs eval_args(const Expr& e);
  void emit(std::string& out, std::string_view text);

  const Body& program_;
  Limits limits_;
  std::shared_ptr<Scope> scope_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

}  // namespace hearth::jinja
