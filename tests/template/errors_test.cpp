// Errors name the template position (line:column) and say what is wrong; unsupported constructs are
// rejected when the template is loaded, never ignored.
#include <gtest/gtest.h>

#include "hearth/chat_template.h"
#include "hearth/error.h"

namespace {

std::string parse_error(const std::string& source) {
  try {
    hearth::JinjaTemplate t(source);
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string render_error(const std::string& source, const char* context = "{}") {
  try {
    hearth::JinjaTemplate(source).render(nlohmann::ordered_json::parse(context));
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "<no error>";
}

// Positions below are counted by hand in the one-line sources: column = 1 + bytes before the token.
TEST(TemplateErrors, SyntaxErrorHasLineAndColumn) {
  EXPECT_EQ(parse_error("{% if x %}\n  {{ 1 + }}\n{% endif %}"), "template 2:10: expected an expression, got '}}'");
}

TEST(TemplateErrors, UnknownFilterAtParse) {
  EXPECT_EQ(parse_error("{{ x | frobnicate }}"), "template 1:8: unknown filter 'frobnicate'");
}

TEST(TemplateErrors, UnknownTestAtParse) {
  EXPECT_EQ(parse_error("{{ x is frobnicated }}"), "template 1:9: unknown test 'frobnicated'");
}

TEST(TemplateErrors, UnsupportedTag) {
  EXPECT_EQ(parse_error("ok\n{% include 'other.j2' %}"), "template 2:4: unsupported tag 'include'");
}

TEST(TemplateErrors, UnclosedBlock) {
  EXPECT_EQ(parse_error("{% for x in y %}{{ x }}"), "template 1:24: unexpected end of template, expected 'else' or 'endfor'");
}

TEST(TemplateErrors, StrayEndTag) {
  EXPECT_EQ(parse_error("a{% endif %}"), "template 1:5: unexpected 'endif' tag with no matching opening tag");
}

TEST(TemplateErrors, UnterminatedString) {
  EXPECT_EQ(parse_error("{{ 'abc }}"), "template 1:4: unterminated string literal");
}

TEST(TemplateErrors, BreakOutsideLoop) {
  EXPECT_EQ(parse_error("{% break %}"), "template 1:4: 'break' outside of a for loop");
}

TEST(TemplateErrors, RaiseExceptionCarriesTemplateMessage) {
  EXPECT_EQ(render_error("{{ raise_exception('System role not supported') }}"),
            "template 1:4: raise_exception: System role not supported");
}

TEST(TemplateErrors, CallingUndefinedFails) {
  EXPECT_EQ(render_error("{{ nope() }}"), "template 1:4: cannot call 'nope': it is undefined");
}

TEST(TemplateErrors, ArithmeticOnUndefinedFails) {
  EXPECT_EQ(render_error("{{ missing + 1 }}"), "template 1:12: cannot use '+' on an undefined value");
}

TEST(TemplateErrors, UndefinedIsLenientWhereJinjaIs) {
  hearth::JinjaTemplate t("[{{ missing }}{{ missing.attr }}{% for x in missing %}x{% endfor %}{{ missing | default('d') }}]");
  EXPECT_EQ(t.render(nlohmann::ordered_json::object()), "[d]");
}

TEST(TemplateErrors, ChatTemplateRejectsNonArrayMessages) {
  hearth::ChatTemplate t("{{ messages }}");
  EXPECT_THROW(t.render(nlohmann::json::object(), hearth::ChatTemplateOptions{}), hearth::Error);
}

}  // namespace
