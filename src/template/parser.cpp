#include "template/parser.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

#include "hearth/error.h"
#include "template/builtins.h"

namespace hearth::jinja {

namespace {

constexpr int kMaxNesting = 200;  // bounds parser recursion (and so the evaluator's) on hostile input

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : t_(tokens) {}

  Body parse_template() {
    Body body = parse_body({});
    if (peek().kind != TokenKind::End) {
      fail_at(peek().pos, "unexpected '" + peek_tag() + "' tag with no matching opening tag");
    }
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p(p) {
      if (++p.depth_ > kMaxNesting) p.fail_at(p.peek().pos, "template nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
    Parser& p;
  };

  const Token& peek(size_t ahead = 0) const {
    size_t i = std::min(i_ + ahead, t_.size() - 1);
    return t_[i];
  }
  const Token& next() {
    const Token& t = peek();
    if (i_ < t_.size() - 1) ++i_;
    return t;
  }
  bool is_op(std::string_view op, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Operator && peek(ahead).value == op;
  }
  bool is_name(std::string_view name, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::Identifier && peek(ahead).value == name;
  }

  [[noreturn]] void fail_at(const SourcePos& pos, const std::string& message) const {
    throw Error("template " + describe(pos) + ": " + message);
  }

  static std::string show(const Token& t) {
    switch (t.kind) {
      case TokenKind::End: return "end of template";
      case TokenKind::Text: return "text";
      case TokenKind::String: return "string literal";
      default: return "'" + t.value + "'";
    }
  }

  void expect_op(std::string_view op) {
    if (!is_op(op)) fail_at(peek().pos, "expected '" + std::string(op) + "', got " + show(peek()));
    next();
  }
  void expect(TokenKind kind, std::string_view what) {
    if (peek().kind != kind) fail_at(peek().pos, "expected " + std::string(what) + ", got " + show(peek()));
    next();
  }
  std::string expect_identifier(std::string_view what) {
    if (peek().kind != TokenKind::Identifier) fail_at(peek().pos, "expected " + std::string(what) + ", got " + show(peek()));
    return next().value;
  }

  // The tag name of a `{% name ... %}` at the cursor, or "" when the cursor is elsewhere.
  std::string peek_tag() const {
    if (peek().kind != TokenKind::OpenStatement || peek(1).kind != TokenKind::Identifier) return "";
    return peek(1).value;
  }

  Body parse_body(std::initializer_list<std::string_view> stops) {
    DepthGuard guard(*this);
    Body body;
    while (peek().kind != TokenKind::End) {
      std::string tag = peek_tag();
      for (std::string_view stop : stops) {
        if (tag == stop) return body;
      }
      body.push_back(parse_node());
    }
    if (stops.size() > 0) {
      std::string wanted;
      for (std::string_view stop : stops) wanted += (wanted.empty() ? "'" : " or '") + std::string(stop) + "'";
      fail_at(peek().pos, "unexpected end of template, expected " + wanted);
    }
    return body;
  }

  StmtPtr make(Stmt::Kind kind, SourcePos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  StmtPtr parse_node() {
    const Token& t = peek();
    if (t.kind == TokenKind::Text) {
      auto s = make(Stmt::Kind::Text, t.pos);
      s->text = next().value;
      return s;
    }
    if (t.kind == TokenKind::OpenExpression) {
      next();
      auto s = make(Stmt::Kind::Output, t.pos);
      s->value = parse_expression();
      expect(TokenKind::CloseExpression, "'}}'");
      return s;
    }
    if (t.kind == TokenKind::OpenStatement) return parse_statement();
    fail_at(t.pos, "unexpected " + show(t));
  }

  void end_tag(std::string_view name) {
    expect(TokenKind::OpenStatement, "'{%'");
    if (!is_name(name)) fail_at(peek().pos, "expected '" + std::string(name) + "', got " + show(peek()));
    next();
    expect(TokenKind::CloseStatement, "'%}'");
  }

  StmtPtr parse_statement() {
    SourcePos pos = next().pos;  // {%
    if (peek().kind != TokenKind::Identifier) fail_at(peek().pos, "expected a tag name, got " + show(peek()));
    const Token& tag = next();
    const std::string& name = tag.value;
    if (name == "if") return parse_if(pos);
    if (name == "for") return parse_for(pos);
    if (name == "set") return parse_set(pos);
    if (name == "macro") return parse_macro(pos);
    if (name == "call") return parse_call_block(pos);
    if (name == "filter") return parse_filter_block(pos);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail_at(tag.pos, "'" + name + "' outside of a for loop");
      expect(TokenKind::CloseStatement, "'%}'");
      return make(name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, pos);
    }
    static const char* kEndTags[] = {"endif", "elif", "else", "endfor", "endset", "endmacro", "endcall", "endfilter"};
    for (const char* end : kEndTags) {
      if (name == end) fail_at(tag.pos, "unexpected '" + name + "' tag with no matching opening tag");
    }
    fail_at(tag.pos, "unsupported tag '" + name + "'");
  }

  StmtPtr parse_if(SourcePos pos) {
    auto s = make(Stmt::Kind::If, pos);
    s->value = parse_expression();
    expect(TokenKind::CloseStatement, "'%}'");
    s->body = parse_body({"elif", "else", "endif"});
    std::string tag = peek_tag();
    if (tag == "elif") {
      SourcePos elif_pos = next().pos;
      next();
      s->else_body.push_back(parse_if(elif_pos));  // the nested if consumes the shared endif
      return s;
    }
    if (tag == "else") {
      next();
      next();
      expect(TokenKind::CloseStatement, "'%}'");
      s->else_body = parse_body({"endif"});
    }
    end_tag("endif");
    return s;
  }

  StmtPtr parse_for(SourcePos pos) {
    auto s = make(Stmt::Kind::For, pos);
    bool paren = is_op("(");
    if (paren) next();
    s->targets.push_back(expect_identifier("a loop variable"));
    while (is_op(",")) {
      next();
      s->targets.push_back(expect_identifier("a loop variable"));
    }
    if (paren) expect_op(")");
    if (!is_name("in")) fail_at(peek().pos, "expected 'in' after the loop variable, got " + show(peek()));
    next();
    s->value = parse_or();  // not parse_expression: a trailing `if` filters the loop, it is no ternary
    if (is_name("if")) {
      next();
      s->condition = parse_or();
    }
    if (is_name("recursive")) fail_at(peek().pos, "unsupported: recursive for loops");
    expect(TokenKind::CloseStatement, "'%}'");
    ++loop_depth_;
    s->body = parse_body({"else", "endfor"});
    --loop_depth_;
    if (peek_tag() == "else") {
      next();
      next();
      expect(TokenKind::CloseStatement, "'%}'");
      int saved = loop_depth_;
      loop_depth_ = 0;
      s->else_body = parse_body({"endfor"});
      loop_depth_ = saved;
    }
    end_tag("endfor");
    return s;
  }

  StmtPtr parse_set(SourcePos pos) {
    SourcePos target_pos = peek().pos;
    std::string first = expect_identifier("a variable name");
    if (is_op(".")) {
      next();
      auto target = make_expr(Expr::Kind::Attribute, target_pos);
      target->a = make_expr(Expr::Kind::Name, target_pos);
      target->a->name = first;
      target->name = expect_identifier("an attribute name");
      auto s = make(Stmt::Kind::Set, pos);
      s->target = std::move(target);
      expect_op("=");
      s->value = parse_tuple_or_expression();
      expect(TokenKind::CloseStatement, "'%}'");
      return s;
    }
    std::vector<std::string> names{first};
    while (is_op(",")) {
      next();
      names.push_back(expect_identifier("a variable name"));
    }
    if (is_op("=")) {
      next();
      auto s = make(Stmt::Kind::Set, pos);
      s->targets = std::move(names);
      s->value = parse_tuple_or_expression();
      expect(TokenKind::CloseStatement, "'%}'");
      return s;
    }
    if (names.size() != 1) fail_at(peek().pos, "expected '=' after the assignment targets, got " + show(peek()));
    auto s = make(Stmt::Kind::SetBlock, pos);
    s->targets = std::move(names);
    if (is_op("|")) s->value = parse_filter_chain(nullptr);
    expect(TokenKind::CloseStatement, "'%}'");
    s->body = parse_body({"endset"});
    end_tag("endset");
    return s;
  }

  std::vector<Parameter> parse_parameters() {
    std::vector<Parameter> params;
    expect_op("(");
    while (!is_op(")")) {
      Parameter p;
      p.name = expect_identifier("a parameter name");
      for (const Parameter& other : params) {
        if (other.name == p.name) fail_at(peek().pos, "duplicate parameter '" + p.name + "'");
      }
      if (is_op("=")) {
        next();
        p.default_value = parse_expression();
      } else if (!params.empty() && params.back().default_value) {
        fail_at(peek().pos, "parameter '" + p.name + "' without a default follows one with a default");
      }
      params.push_back(std::move(p));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
    return params;
  }

  StmtPtr parse_macro(SourcePos pos) {
    auto s = make(Stmt::Kind::Macro, pos);
    s->name = expect_identifier("a macro name");
    s->params = parse_parameters();
    expect(TokenKind::CloseStatement, "'%}'");
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved;
    end_tag("endmacro");
    return s;
  }

  StmtPtr parse_call_block(SourcePos pos) {
    auto s = make(Stmt::Kind::CallBlock, pos);
    if (is_op("(")) s->params = parse_parameters();
    s->value = parse_postfix();
    if (s->value->kind != Expr::Kind::Call) fail_at(s->value->pos, "expected a macro call after 'call'");
    expect(TokenKind::CloseStatement, "'%}'");
    int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endcall"});
    loop_depth_ = saved;
    end_tag("endcall");
    return s;
  }

  StmtPtr parse_filter_block(SourcePos pos) {
    auto s = make(Stmt::Kind::FilterBlock, pos);
    s->value = parse_filter_chain(nullptr, /*leading_pipe=*/false);
    expect(TokenKind::CloseStatement, "'%}'");
    s->body = parse_body({"endfilter"});
    end_tag("endfilter");
    return s;
  }

  // ---- expressions ----

  ExprPtr make_expr(Expr::Kind kind, SourcePos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // `a, b` without brackets is a tuple (in `set x = a, b` and in parentheses).
  ExprPtr parse_tuple_or_expression() {
    SourcePos pos = peek().pos;
    ExprPtr first = parse_expression();
    if (!is_op(",")) return first;
    auto tuple = make_expr(Expr::Kind::Tuple, pos);
    tuple->items.push_back(std::move(first));
    while (is_op(",")) {
      next();
      if (is_op(")") || peek().kind == TokenKind::CloseStatement) break;
      tuple->items.push_back(parse_expression());
    }
    return tuple;
  }

  ExprPtr parse_expression() {
    DepthGuard guard(*this);
    SourcePos pos = peek().pos;
    ExprPtr value = parse_or();
    if (!is_name("if")) return value;
    next();
    auto e = make_expr(Expr::Kind::Ternary, pos);
    e->b = std::move(value);
    e->a = parse_or();
    if (is_name("else")) {
      next();
      e->c = parse_expression();
    }
    return e;
  }

  ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, SourcePos pos) {
    auto e = make_expr(Expr::Kind::Binary, pos);
    e->name = std::move(op);
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      SourcePos pos = next().pos;
      left = binary("or", std::move(left), parse_and(), pos);
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      SourcePos pos = next().pos;
      left = binary("and", std::move(left), parse_not(), pos);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      SourcePos pos = next().pos;
      auto e = make_expr(Expr::Kind::Unary, pos);
      e->name = "not";
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr left = parse_concat();
    while (true) {
      SourcePos pos = peek().pos;
      std::string op;
      if (is_name("not") && is_name("in", 1)) {
        next();
        next();
        op = "not in";
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (peek().kind == TokenKind::Operator &&
                 (peek().value == "==" || peek().value == "!=" || peek().value == "<" || peek().value == ">" ||
                  peek().value == "<=" || peek().value == ">=")) {
        op = next().value;
      } else {
        return left;
      }
      left = binary(op, std::move(left), parse_concat(), pos);
    }
  }

  ExprPtr parse_concat() {
    ExprPtr left = parse_additive();
    while (is_op("~")) {
      SourcePos pos = next().pos;
      left = binary("~", std::move(left), parse_additive(), pos);
    }
    return left;
  }

  ExprPtr parse_additive() {
    ExprPtr left = parse_multiplicative();
    while (is_op("+") || is_op("-")) {
      SourcePos pos = peek().pos;
      std::string op = next().value;
      left = binary(op, std::move(left), parse_multiplicative(), pos);
    }
    return left;
  }

  ExprPtr parse_multiplicative() {
    ExprPtr left = parse_power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      SourcePos pos = peek().pos;
      std::string op = next().value;
      left = binary(op, std::move(left), parse_power(), pos);
    }
    return left;
  }

  ExprPtr parse_power() {
    ExprPtr left = parse_unary();
    while (is_op("**")) {
      SourcePos pos = next().pos;
      left = binary("**", std::move(left), parse_unary(), pos);
    }
    return left;
  }

  // As in Jinja2, `-x | abs` is `(-x) | abs`: the sign binds tighter than filters and tests.
  ExprPtr parse_unary(bool with_filters = true) {
    if (is_op("-") || is_op("+")) {
      DepthGuard guard(*this);
      SourcePos pos = peek().pos;
      auto e = make_expr(Expr::Kind::Unary, pos);
      e->name = next().value;
      e->a = parse_unary(false);
      return with_filters ? parse_filters_and_tests(std::move(e)) : std::move(e);
    }
    return with_filters ? parse_filters_and_tests(parse_postfix()) : parse_postfix();
  }

  void parse_call_arguments(Expr& e) {
    expect_op("(");
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) fail_at(peek().pos, "unsupported: argument unpacking with * or **");
      if (peek().kind == TokenKind::Identifier && is_op("=", 1)) {
        std::string key = next().value;
        next();
        for (const auto& [k, v] : e.keywords) {
          if (k == key) fail_at(peek().pos, "keyword argument '" + key + "' given twice");
        }
        e.keywords.emplace_back(key, parse_expression());
      } else {
        if (!e.keywords.empty()) fail_at(peek().pos, "positional argument after keyword argument");
        e.items.push_back(parse_expression());
      }
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  // `| name(args) | name ...`; operand may be null for `{% filter %}` blocks.
  ExprPtr parse_filter_chain(ExprPtr operand, bool leading_pipe = true) {
    bool first = true;
    while ((first && !leading_pipe) || is_op("|")) {
      if (!(first && !leading_pipe)) next();
      first = false;
      SourcePos pos = peek().pos;
      auto f = make_expr(Expr::Kind::Filter, pos);
      f->name = expect_identifier("a filter name");
      if (!is_known_filter(f->name)) fail_at(pos, "unknown filter '" + f->name + "'");
      if (is_op("(")) parse_call_arguments(*f);
      f->a = std::move(operand);
      operand = std::move(f);
    }
    return operand;
  }

  ExprPtr parse_filters_and_tests(ExprPtr operand) {
    while (true) {
      if (is_op("|")) {
        operand = parse_filter_chain(std::move(operand));
        continue;
      }
      if (is_name("is")) {
        SourcePos pos = next().pos;
        auto t = make_expr(Expr::Kind::Test, pos);
        if (is_name("not")) {
          next();
          t->negate = true;
        }
        // `none`, `true` and `false` are literals elsewhere but test names here.
        SourcePos name_pos = peek().pos;
        t->name = expect_identifier("a test name");
        if (!is_known_test(t->name)) fail_at(name_pos, "unknown test '" + t->name + "'");
        if (is_op("(")) {
          parse_call_arguments(*t);
        } else if (takes_bare_test_argument()) {
          t->items.push_back(parse_postfix());
        }
        t->a = std::move(operand);
        operand = std::move(t);
        continue;
      }
      return operand;
    }
  }

  // `x is divisibleby 3`, `x is sameas y`: one argument without parentheses.
  bool takes_bare_test_argument() const {
    const Token& t = peek();
    if (t.kind == TokenKind::String || t.kind == TokenKind::Integer || t.kind == TokenKind::Float) return true;
    if (t.kind == TokenKind::Identifier) {
      static const char* kStop[] = {"else", "or", "and", "if", "in", "not", "is", "recursive"};
      for (const char* s : kStop) {
        if (t.value == s) return false;
      }
      return true;
    }
    return t.kind == TokenKind::Operator && (t.value == "[" || t.value == "{");
  }

  ExprPtr parse_postfix() {
    ExprPtr e = parse_primary();
    while (true) {
      SourcePos pos = peek().pos;
      if (is_op(".")) {
        next();
        auto attr = make_expr(Expr::Kind::Attribute, pos);
        if (peek().kind == TokenKind::Integer) {
          attr->kind = Expr::Kind::Subscript;
          attr->b = make_expr(Expr::Kind::Literal, peek().pos);
          attr->b->literal = integer_literal(next());
        } else {
          attr->name = expect_identifier("an attribute name");
        }
        attr->a = std::move(e);
        e = std::move(attr);
      } else if (is_op("[")) {
        next();
        e = parse_subscript(std::move(e), pos);
      } else if (is_op("(")) {
        auto call = make_expr(Expr::Kind::Call, e->pos);  // errors point at the callee, e.g. raise_exception
        call->a = std::move(e);
        parse_call_arguments(*call);
        e = std::move(call);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object, SourcePos pos) {
    ExprPtr parts[3];
    int colons = 0;
    while (!is_op("]")) {
      if (is_op(":")) {
        next();
        if (++colons > 2) fail_at(peek().pos, "a slice takes at most 3 parts");
        continue;
      }
      if (parts[colons]) fail_at(peek().pos, "expected ']' or ':', got " + show(peek()));
      parts[colons] = parse_expression();
    }
    next();
    if (colons == 0) {
      if (!parts[0]) fail_at(pos, "empty subscript");
      auto e = make_expr(Expr::Kind::Subscript, pos);
      e->a = std::move(object);
      e->b = std::move(parts[0]);
      return e;
    }
    auto e = make_expr(Expr::Kind::Slice, pos);
    e->a = std::move(object);
    e->b = std::move(parts[0]);
    e->c = std::move(parts[1]);
    e->items.push_back(std::move(parts[2]));
    return e;
  }

  Value integer_literal(const Token& t) {
    int64_t v = 0;
    auto res = std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
    if (res.ec != std::errc() || res.ptr != t.value.data() + t.value.size()) {
      return Value::from(std::strtod(t.value.c_str(), nullptr));
    }
    return Value::from(v);
  }

  ExprPtr parse_primary() {
    DepthGuard guard(*this);
    const Token& t = peek();
    SourcePos pos = t.pos;
    switch (t.kind) {
      case TokenKind::Integer: {
        auto e = make_expr(Expr::Kind::Literal, pos);
        e->literal = integer_literal(next());
        return e;
      }
      case TokenKind::Float: {
        auto e = make_expr(Expr::Kind::Literal, pos);
        e->literal = Value::from(std::strtod(next().value.c_str(), nullptr));
        return e;
      }
      case TokenKind::String: {
        std::string s = next().value;
        while (peek().kind == TokenKind::String) s += next().value;  // "a" "b" is "ab", as in Python
        auto e = make_expr(Expr::Kind::Literal, pos);
        e->literal = Value::from(std::move(s));
        return e;
      }
      case TokenKind::Identifier: {
        std::string name = next().value;
        auto e = make_expr(Expr::Kind::Literal, pos);
        if (name == "true" || name == "True") {
          e->literal = Value::from(true);
        } else if (name == "false" || name == "False") {
          e->literal = Value::from(false);
        } else if (name == "none" || name == "None") {
          e->literal = Value::none();
        } else {
          e->kind = Expr::Kind::Name;
          e->name = std::move(name);
        }
        return e;
      }
      case TokenKind::Operator:
        if (t.value == "(") {
          next();
          if (is_op(")")) {
            next();
            return make_expr(Expr::Kind::Tuple, pos);
          }
          ExprPtr inner = parse_tuple_or_expression();
          expect_op(")");
          return inner;
        }
        if (t.value == "[") {
          next();
          auto e = make_expr(Expr::Kind::List, pos);
          while (!is_op("]")) {
            e->items.push_back(parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return e;
        }
        if (t.value == "{") {
          next();
          auto e = make_expr(Expr::Kind::Dict, pos);
          while (!is_op("}")) {
            ExprPtr key = parse_expression();
            expect_op(":");
            e->pairs.emplace_back(std::move(key), parse_expression());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return e;
        }
        break;
      default: break;
    }
    fail_at(pos, "expected an expression, got " + show(t));
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_template(); }

}  // namespace hearth::jinja
