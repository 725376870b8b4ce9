#include "template/interpreter.h"

#include <cmath>

#include "hearth/error.h"
#include "template/builtins.h"
#include "template/eval_error.h"
#include "template/utf8.h"

namespace hearth::jinja {

const Value* Scope::find(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

Interpreter::Interpreter(const Body& program, Limits limits) : program_(program), limits_(limits) {}

std::string Interpreter::render(const Object& context, std::time_t now) {
  auto globals = std::make_shared<Scope>();
  Object builtins;
  add_globals(builtins, now);
  for (const auto& [k, v] : builtins.entries()) globals->vars[k] = v;
  for (const auto& [k, v] : context.entries()) globals->vars[k] = v;
  scope_ = globals;
  std::string out;
  exec(program_, out);
  scope_.reset();
  return out;
}

void Interpreter::tick(uint64_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) {
    fail("template exceeded " + std::to_string(limits_.max_steps) + " evaluation steps (runaway loop?)");
  }
}

void Interpreter::emit(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits_.max_output_bytes) {
    fail("template output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
  }
  out.append(text);
}

Interpreter::Flow Interpreter::exec(const Body& body, std::string& out) {
  for (const StmtPtr& s : body) {
    Flow flow = exec(*s, out);
    if (flow != Flow::Normal) return flow;
  }
  return Flow::Normal;
}

namespace {
[[noreturn]] void rethrow_at(const SourcePos& pos, const EvalError& e) {
  throw Error("template " + describe(pos) + ": " + e.what());
}
}  // namespace

Interpreter::Flow Interpreter::exec(const Stmt& s, std::string& out) {
  try {
    tick();
    switch (s.kind) {
      case Stmt::Kind::Text: emit(out, s.text); return Flow::Normal;
      case Stmt::Kind::Output: {
        Value v = eval(*s.value);
        if (v.kind == Value::Kind::String) emit(out, v.string);
        else emit(out, to_text(v));
        return Flow::Normal;
      }
      case Stmt::Kind::If:
        return exec(truthy(eval(*s.value)) ? s.body : s.else_body, out);
      case Stmt::Kind::For: exec_for(s, out); return Flow::Normal;
      case Stmt::Kind::Set: exec_set(s, eval(*s.value)); return Flow::Normal;
      case Stmt::Kind::SetBlock: {
        std::string captured;
        exec(s.body, captured);
        Value v = Value::from(std::move(captured));
        if (s.value) {
          // `{% set x | filter %}`: the filter chain's innermost operand is the captured text.
          std::vector<const Expr*> chain;
          for (const Expr* f = s.value.get(); f; f = f->a.get()) chain.push_back(f);
          for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            CallArgs args = eval_args(**it);
            v = apply_filter(*this, (*it)->name, v, args);
          }
        }
        scope_->vars[s.targets[0]] = std::move(v);
        return Flow::Normal;
      }
      case Stmt::Kind::Macro: scope_->vars[s.name] = make_macro(s); return Flow::Normal;
      case Stmt::Kind::CallBlock: {
        const Expr& call = *s.value;
        Value callee = eval(*call.a);
        CallArgs args = eval_args(call);
        args.keyword.emplace_back("caller", make_caller(s));
        Value result = this->call(callee, args);
        emit(out, to_text(result));
        return Flow::Normal;
      }
      case Stmt::Kind::FilterBlock: {
        std::string captured;
        exec(s.body, captured);
        Value v = Value::from(std::move(captured));
        std::vector<const Expr*> chain;
        for (const Expr* f = s.value.get(); f; f = f->a.get()) chain.push_back(f);
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          CallArgs args = eval_args(**it);
          v = apply_filter(*this, (*it)->name, v, args);
        }
        emit(out, to_text(v));
        return Flow::Normal;
      }
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
    }
  } catch (const EvalError& e) {
    rethrow_at(s.pos, e);
  }
  return Flow::Normal;
}

namespace {

std::vector<Value> iterate(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::Array: return *v.array;
    case Value::Kind::Object: {
      if (v.is_namespace) break;
      std::vector<Value> keys;
      for (const auto& [k, item] : v.object->entries()) keys.push_back(Value::from(k));
      return keys;
    }
    case Value::Kind::String: {
      std::vector<Value> chars;
      for (std::string_view c : utf8::split_code_points(v.string)) chars.push_back(Value::from(std::string(c)));
      return chars;
    }
    default: break;
  }
  fail(std::string("'") + kind_name(v) + "' object is not iterable");
}

}  // namespace

void Interpreter::exec_for(const Stmt& s, std::string& out) {
  Value iterable = eval(*s.value);
  std::vector<Value> all = iterate(iterable);

  auto loop_scope = std::make_shared<Scope>();
  loop_scope->parent = scope_;
  auto bind = [&](Scope& scope, const Value& item) {
    if (s.targets.size() == 1) {
      scope.vars[s.targets[0]] = item;
      return;
    }
    if (!item.is_array()) fail(std::string("cannot unpack '") + kind_name(item) + "' into " + std::to_string(s.targets.size()) + " loop variables");
    if (item.array->size() != s.targets.size()) {
      fail("cannot unpack " + std::to_string(item.array->size()) + " values into " + std::to_string(s.targets.size()) + " loop variables");
    }
    for (size_t i = 0; i < s.targets.size(); ++i) scope.vars[s.targets[i]] = (*item.array)[i];
  };

  std::vector<Value> items;
  if (s.condition) {
    auto saved = scope_;
    scope_ = loop_scope;
    for (const Value& item : all) {
      tick();
      bind(*loop_scope, item);
      if (truthy(eval(*s.condition))) items.push_back(item);
    }
    scope_ = saved;
  } else {
    items = std::move(all);
  }

  auto saved = scope_;
  scope_ = loop_scope;
  bool iterated = false;
  const int64_t n = static_cast<int64_t>(items.size());
  // One loop object per loop, updated in place each iteration (like Jinja's LoopContext).
  auto index = std::make_shared<int64_t>(0);
  Object loop_fields;
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
                          "previtem", "nextitem"}) {
    loop_fields.set(key, Value::undefined());
  }
  loop_fields.set("cycle", Value::from(Function([index](CallArgs& args) -> Value {
    if (args.positional.empty()) fail("loop.cycle() needs at least one argument");
    return args.positional[static_cast<size_t>(*index) % args.positional.size()];
  })));
  Value loop_value = Value::from(std::move(loop_fields));
  Object& loop = *loop_value.object;
  loop_scope->vars["loop"] = loop_value;
  for (int64_t i = 0; i < n; ++i) {
    tick();
    *index = i;
    *loop.find("index") = Value::from(i + 1);
    *loop.find("index0") = Value::from(i);
    *loop.find("revindex") = Value::from(n - i);
    *loop.find("revindex0") = Value::from(n - i - 1);
    *loop.find("first") = Value::from(i == 0);
    *loop.find("last") = Value::from(i == n - 1);
    *loop.find("length") = Value::from(n);
    *loop.find("depth") = Value::from(int64_t{1});
    *loop.find("depth0") = Value::from(int64_t{0});
    *loop.find("previtem") = i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined();
    *loop.find("nextitem") = i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined();
    bind(*loop_scope, items[static_cast<size_t>(i)]);
    iterated = true;
    Flow flow;
    try {
      flow = exec(s.body, out);
    } catch (...) {
      scope_ = saved;
      throw;
    }
    if (flow == Flow::Break) break;
  }
  if (!iterated) {
    try {
      exec(s.else_body, out);
    } catch (...) {
      scope_ = saved;
      throw;
    }
  }
  scope_ = saved;
}

void Interpreter::exec_set(const Stmt& s, const Value& value) {
  if (s.target) {  // ns.attr = value
    Value object = eval(*s.target->a);
    if (!object.is_object() || !object.is_namespace) {
      fail("cannot assign attribute '" + s.target->name + "' on a " + kind_name(object) + " (only on a namespace())");
    }
    object.object->set(s.target->name, value);
    return;
  }
  if (s.targets.size() == 1) {
    scope_->vars[s.targets[0]] = value;
    return;
  }
  if (!value.is_array() || value.array->size() != s.targets.size()) {
    fail("cannot unpack " + std::string(kind_name(value)) + " into " + std::to_string(s.targets.size()) + " variables");
  }
  for (size_t i = 0; i < s.targets.size(); ++i) scope_->vars[s.targets[i]] = (*value.array)[i];
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.kind != Value::Kind::Function) {
    fail(callee.is_undefined() ? "cannot call an undefined value" : std::string("'") + kind_name(callee) + "' object is not callable");
  }
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    fail("maximum call depth " + std::to_string(limits_.max_call_depth) + " exceeded (unbounded recursion?)");
  }
  struct Depth {
    int& d;
    ~Depth() { --d; }
  } depth{call_depth_};
  return (*callee.function)(args);
}

Value Interpreter::call_macro(const Stmt& macro, const std::shared_ptr<Scope>& parent, CallArgs& args, const Value* caller) {
  auto scope = std::make_shared<Scope>();
  scope->parent = parent;
  Array varargs;
  for (size_t i = 0; i < args.positional.size(); ++i) {
    if (i < macro.params.size()) scope->vars[macro.params[i].name] = args.positional[i];
    else varargs.push_back(args.positional[i]);
  }
  Object kwargs;
  for (const auto& [k, v] : args.keyword) {
    bool is_param = false;
    for (const Parameter& p : macro.params) is_param = is_param || p.name == k;
    if (is_param) scope->vars[k] = v;
    else if (k == "caller" && caller == nullptr) scope->vars["caller"] = v;
    else kwargs.set(k, v);
  }
  scope->vars["varargs"] = Value::from(std::move(varargs));
  scope->vars["kwargs"] = Value::from(std::move(kwargs));
  auto saved = scope_;
  scope_ = scope;
  std::string out;
  try {
    for (const Parameter& p : macro.params) {
      if (scope->vars.count(p.name)) continue;
      scope->vars[p.name] = p.default_value ? eval(*p.default_value) : Value::undefined();
    }
    exec(macro.body, out);
  } catch (...) {
    scope_ = saved;
    throw;
  }
  scope_ = saved;
  return Value::from(std::move(out));
}

Value Interpreter::make_macro(const Stmt& s) {
  // Macros see the caller's variables (as in @huggingface/jinja), so they hold no scope of their own.
  return Value::from(Function([this, &s](CallArgs& args) { return call_macro(s, scope_, args, nullptr); }));
}

Value Interpreter::make_caller(const Stmt& s) {
  std::shared_ptr<Scope> where = scope_;
  return Value::from(Function([this, &s, where](CallArgs& args) { return call_macro(s, where, args, nullptr); }));
}

CallArgs Interpreter::eval_args(const Expr& e) {
  CallArgs args;
  for (const ExprPtr& item : e.items) args.positional.push_back(eval(*item));
  for (const auto& [k, v] : e.keywords) args.keyword.emplace_back(k, eval(*v));
  return args;
}

Value Interpreter::eval(const Expr& e) {
  try {
    switch (e.kind) {
      case Expr::Kind::Literal: return e.literal;
      case Expr::Kind::Name: {
        const Value* v = scope_->find(e.name);
        return v ? *v : Value::undefined();
      }
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        Array items;
        for (const ExprPtr& item : e.items) items.push_back(eval(*item));
        tick(items.size());
        return Value::from(std::move(items));
      }
      case Expr::Kind::Dict: {
        Object o;
        for (const auto& [k, v] : e.pairs) {
          Value key = eval(*k);
          if (!key.is_string()) fail(std::string("dict keys must be strings, got ") + kind_name(key));
          o.set(key.string, eval(*v));
        }
        tick(o.size());
        return Value::from(std::move(o));
      }
      case Expr::Kind::Attribute: return get_attribute(eval(*e.a), e.name);
      case Expr::Kind::Subscript: {
        Value object = eval(*e.a);
        return get_item(object, eval(*e.b));
      }
      case Expr::Kind::Slice: {
        Value object = eval(*e.a);
        Value start = e.b ? eval(*e.b) : Value::none();
        Value stop = e.c ? eval(*e.c) : Value::none();
        Value step = e.items[0] ? eval(*e.items[0]) : Value::none();
        return slice(object, start, stop, step);
      }
      case Expr::Kind::Call: {
        Value callee = eval(*e.a);
        CallArgs args = eval_args(e);
        if (callee.is_undefined()) {
          std::string what = e.a->kind == Expr::Kind::Name ? "'" + e.a->name + "'"
                           : e.a->kind == Expr::Kind::Attribute ? "'" + e.a->name + "'" : "value";
          fail("cannot call " + what + ": it is undefined");
        }
        return call(callee, args);
      }
      case Expr::Kind::Filter: {
        Value operand = eval(*e.a);
        CallArgs args = eval_args(e);
        return apply_filter(*this, e.name, operand, args);
      }
      case Expr::Kind::Test: {
        Value operand = eval(*e.a);
        CallArgs args = eval_args(e);
        bool result = apply_test(e.name, operand, args);
        return Value::from(e.negate ? !result : result);
      }
      case Expr::Kind::Unary: {
        Value v = eval(*e.a);
        if (e.name == "not") return Value::from(!truthy(v));
        if (v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool) {
          int64_t i = v.kind == Value::Kind::Bool ? v.boolean : v.integer;
          if (e.name == "-") {
            if (i == INT64_MIN) fail("integer overflow");
            i = -i;
          }
          return Value::from(i);
        }
        if (v.kind == Value::Kind::Float) return Value::from(e.name == "-" ? -v.real : v.real);
        fail("bad operand type for unary " + e.name + ": " + kind_name(v));
      }
      case Expr::Kind::Binary: return eval_binary(e);
      case Expr::Kind::Ternary:
        if (truthy(eval(*e.a))) return eval(*e.b);
        return e.c ? eval(*e.c) : Value::undefined();
    }
  } catch (const EvalError& err) {
    rethrow_at(e.pos, err);
  }
  return Value::undefined();
}

namespace {

bool is_int_like(const Value& v) { return v.kind == Value::Kind::Int || v.kind == Value::Kind::Bool; }
int64_t int_of(const Value& v) { return v.kind == Value::Kind::Bool ? v.boolean : v.integer; }
bool is_numeric(const Value& v) { return is_int_like(v) || v.kind == Value::Kind::Float; }

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (is_int_like(a) && is_int_like(b)) {
    int64_t x = int_of(a), y = int_of(b), r = 0;
    if (op == "+") { if (__builtin_add_overflow(x, y, &r)) fail("integer overflow"); return Value::from(r); }
    if (op == "-") { if (__builtin_sub_overflow(x, y, &r)) fail("integer overflow"); return Value::from(r); }
    if (op == "*") { if (__builtin_mul_overflow(x, y, &r)) fail("integer overflow"); return Value::from(r); }
    if (op == "/") {
      if (y == 0) fail("division by zero");
      return Value::from(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//" || op == "%") {
      if (y == 0) fail("integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) fail("integer overflow");
      int64_t q = x / y, m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
        --q;
        m += y;
      }
      return Value::from(op == "//" ? q : m);
    }
    if (op == "**") {
      if (y < 0) return Value::from(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) fail("integer overflow");
        if (result == 0 || result == 1) break;
      }
      if (result == 1 && x == -1 && y % 2 == 1) result = -1;
      return Value::from(result);
    }
  }
  double x = a.as_double(), y = b.as_double();
  if (op == "+") return Value::from(x + y);
  if (op == "-") return Value::from(x - y);
  if (op == "*") return Value::from(x * y);
  if (op == "/") {
    if (y == 0) fail("division by zero");
    return Value::from(x / y);
  }
  if (op == "//") {
    if (y == 0) fail("float floor division by zero");
    return Value::from(std::floor(x / y));
  }
  if (op == "%") {
    if (y == 0) fail("float modulo by zero");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value::from(m);
  }
  if (op == "**") return Value::from(std::pow(x, y));
  fail("unknown operator " + op);
}

bool contains(const Value& needle, const Value& haystack) {
  switch (haystack.kind) {
    case Value::Kind::Undefined: return false;
    case Value::Kind::String:
      if (!needle.is_string()) fail(std::string("'in <string>' requires a string as left operand, not ") + kind_name(needle));
      return haystack.string.find(needle.string) != std::string::npos;
    case Value::Kind::Array:
      for (const Value& item : *haystack.array) {
        if (equals(item, needle)) return true;
      }
      return false;
    case Value::Kind::Object:
      return needle.is_string() && haystack.object->find(needle.string) != nullptr;
    default: fail(std::string("argument of type '") + kind_name(haystack) + "' is not iterable");
  }
}

}  // namespace

Value Interpreter::eval_binary(const Expr& e) {
  const std::string& op = e.name;
  if (op == "and") {
    Value left = eval(*e.a);
    return truthy(left) ? eval(*e.b) : left;
  }
  if (op == "or") {
    Value left = eval(*e.a);
    return truthy(left) ? left : eval(*e.b);
  }
  Value a = eval(*e.a);
  Value b = eval(*e.b);
  if (op == "==") return Value::from(equals(a, b));
  if (op == "!=") return Value::from(!equals(a, b));
  if (op == "in") return Value::from(contains(a, b));
  if (op == "not in") return Value::from(!contains(a, b));
  if (op == "<") return Value::from(compare(a, b) < 0);
  if (op == ">") return Value::from(compare(a, b) > 0);
  if (op == "<=") return Value::from(compare(a, b) <= 0);
  if (op == ">=") return Value::from(compare(a, b) >= 0);
  if (op == "~") {
    std::string s = to_text(a);
    std::string t = to_text(b);
    check_string_size(s.size() + t.size());
    return Value::from(s + t);
  }
  if (a.is_undefined() || b.is_undefined()) fail("cannot use '" + op + "' on an undefined value");
  if (a.is_none() || b.is_none()) fail("unsupported operand type(s) for " + op + ": " + kind_name(a) + " and " + kind_name(b));
  if (op == "+") {
    if (a.is_array() && b.is_array()) {
      Array joined = *a.array;
      joined.insert(joined.end(), b.array->begin(), b.array->end());
      tick(joined.size());
      return Value::from(std::move(joined));
    }
    if (a.is_string() || b.is_string()) {
      // Python would refuse str + dict; @huggingface/jinja concatenates its text, and DeepSeek templates
      // rely on that for tool-call arguments given as objects.
      std::string s = to_text(a);
      std::string t = to_text(b);
      check_string_size(s.size() + t.size());
      return Value::from(s + t);
    }
  }
  if (op == "*" && (a.is_string() || b.is_string()) && (is_int_like(a) || is_int_like(b))) {
    const Value& str = a.is_string() ? a : b;
    int64_t times = int_of(a.is_string() ? b : a);
    if (times <= 0) return Value::from(std::string());
    if (static_cast<uint64_t>(times) > kMaxStringBytes || str.string.size() * static_cast<uint64_t>(times) > kMaxStringBytes) {
      check_string_size(kMaxStringBytes + 1);
    }
    std::string out;
    out.reserve(str.string.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += str.string;
    return Value::from(std::move(out));
  }
  if (is_numeric(a) && is_numeric(b)) return arithmetic(op, a, b);
  fail("unsupported operand type(s) for " + op + ": " + kind_name(a) + " and " + kind_name(b));
}

}  // namespace hearth::jinja
