#include "prompts/template_names.h"

#include "template/parser.h"

namespace hearth::prompts {

namespace {

using jinja::Body;
using jinja::Expr;
using jinja::Stmt;

// Flow-insensitive: a name bound anywhere counts as bound everywhere. That can miss a use before a
// `set`, never flag a correct template.
struct NameCollector {
  std::set<std::string> referenced;
  std::set<std::string> bound;

  void expr(const Expr* e) {
    if (e == nullptr) return;
    if (e->kind == Expr::Kind::Name) referenced.insert(e->name);
    expr(e->a.get());
    expr(e->b.get());
    expr(e->c.get());
    for (const auto& item : e->items) expr(item.get());
    for (const auto& [key, value] : e->keywords) expr(value.get());
    for (const auto& [key, value] : e->pairs) expr(key.get()), expr(value.get());
  }

  void assign_target(const Expr* target) {
    if (target == nullptr) return;
    if (target->kind == Expr::Kind::Name) bound.insert(target->name);
    else if (target->kind == Expr::Kind::Tuple) for (const auto& item : target->items) assign_target(item.get());
    else expr(target->a.get());  // ns.attr = ...: reads ns
  }

  void body(const Body& statements) {
    for (const auto& s : statements) stmt(*s);
  }

  void stmt(const Stmt& s) {
    switch (s.kind) {
      case Stmt::Kind::Set: assign_target(s.target.get()); break;
      case Stmt::Kind::Macro: bound.insert(s.name); break;
      case Stmt::Kind::For: bound.insert("loop"); break;
      case Stmt::Kind::CallBlock: bound.insert("caller"); break;
      default: break;
    }
    if (s.kind != Stmt::Kind::Set) expr(s.target.get());
    for (const auto& t : s.targets) bound.insert(t);
    for (const auto& p : s.params) {
      bound.insert(p.name);
      expr(p.default_value.get());
    }
    if (s.kind == Stmt::Kind::Macro) bound.insert({"varargs", "kwargs", "caller"});
    expr(s.value.get());
    expr(s.condition.get());
    body(s.body);
    body(s.else_body);
  }
};

}  // namespace

std::set<std::string> template_free_names(std::string_view source) {
  Body program = jinja::parse(jinja::tokenize(source));
  NameCollector c;
  c.body(program);
  static const std::set<std::string> kGlobals = {"range", "namespace", "dict", "raise_exception", "strftime_now"};
  std::set<std::string> free;
  for (const auto& name : c.referenced)
    if (!c.bound.count(name) && !kGlobals.count(name)) free.insert(name);
  return free;
}

}  // namespace hearth::prompts
