#include "prompts/prompt_content.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "prompts/prompt_file.h"
#include "prompts/template_names.h"

namespace hearth::prompts {
namespace {

using nlohmann::json;

PromptContent content(const std::string& tmpl, const json& vars) {
  return content_from_json({{"template", tmpl}, {"variables", vars}});
}

PromptError validation_error(const PromptContent& c) {
  try {
    validate_content(c);
  } catch (const PromptError& e) {
    return e;
  }
  ADD_FAILURE() << "template was accepted: " << c.template_text;
  return PromptError(0, "", "");
}

TEST(PromptContent, SyntaxErrorCarriesLineAndColumn) {
  PromptError e = validation_error(content("Hello\n{{ user ", {{"user", {{"type", "string"}}}}));
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.code(), "template_syntax");
  ASSERT_TRUE(e.detail().is_object()) << e.what();
  EXPECT_EQ(e.detail()["line"], 2) << e.what();
  EXPECT_GE(e.detail()["column"].get<int>(), 1);

  PromptError f = validation_error(content("a\nb\n{% if x %}never closed", {{"x", "boolean"}}));
  EXPECT_EQ(f.code(), "template_syntax");
  EXPECT_TRUE(f.detail().is_object()) << f.what();
}

TEST(PromptContent, UndeclaredVariablesRejected) {
  PromptError e = validation_error(content("Hi {{ user }} from {{ city }}", {{"user", "string"}}));
  EXPECT_EQ(e.code(), "undeclared_variable");
  EXPECT_NE(std::string(e.what()).find("city"), std::string::npos);
}

TEST(PromptContent, LocalNamesAndGlobalsAreNotVariables) {
  auto free = template_free_names(
      "{% set greeting = 'hi' %}{% for item in items %}{{ greeting }} {{ item }} {{ loop.index }}{% endfor %}"
      "{% macro m(a, b=1) %}{{ a }}{{ b }}{% endmacro %}{{ m(1) }}{{ range(3) | length }}"
      "{% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}");
  EXPECT_EQ(free, std::set<std::string>{"items"});
  EXPECT_NO_THROW(validate_content(content(
      "{% for item in items %}{{ item.name }}{% endfor %}", {{"items", {{"type", "array"}}}})));
}

TEST(PromptContent, IllTypedDeclarationsRejected) {
  try {
    content("{{ n }}", {{"n", {{"type", "integer"}, {"default", "five"}}}});
    ADD_FAILURE() << "ill-typed default accepted";
  } catch (const PromptError& e) {
    EXPECT_EQ(e.code(), "ill_typed_variable");
  }
  EXPECT_THROW(content("{{ n }}", {{"n", {{"type", "float128"}}}}), PromptError);
  // A string where the template does arithmetic fails the trial render.
  EXPECT_EQ(validation_error(content("{{ n - 1 }}", {{"n", "string"}})).code(), "ill_typed_variable");
  EXPECT_NO_THROW(validate_content(content("{{ n - 1 }}", {{"n", "integer"}})));
}

TEST(PromptContent, HashIsStableAndCoversVariablesAndHints) {
  PromptContent a = content("Hi {{ u }}", {{"u", {{"type", "string"}, {"default", "x"}}}});
  PromptContent b = content("Hi {{ u }}", {{"u", {{"type", "string"}, {"default", "x"}}}});
  EXPECT_EQ(content_hash(a), content_hash(b));
  EXPECT_EQ(content_hash(a).size(), 64u);
  b.variables[0].default_value = "y";
  EXPECT_NE(content_hash(a), content_hash(b));
  PromptContent c = a;
  c.hints = {{"model", "llama"}};
  EXPECT_NE(content_hash(a), content_hash(c));
}

TEST(PromptContent, BindAppliesDefaultsAndChecksTypes) {
  PromptContent c = content("x", {{"user", {{"type", "string"}, {"default", "friend"}}}, {"n", "integer"}});
  json ctx = bind_prompt_variables(c.variables, {{"n", 3}});
  EXPECT_EQ(ctx, (json{{"user", "friend"}, {"n", 3}}));
  EXPECT_THROW(bind_prompt_variables(c.variables, {{"n", "3"}}), Error);           // wrong type
  EXPECT_THROW(bind_prompt_variables(c.variables, {{"n", 1.5}}), Error);           // number is not integer
  EXPECT_THROW(bind_prompt_variables(c.variables, json::object()), Error);         // n is required
  EXPECT_THROW(bind_prompt_variables(c.variables, {{"n", 1}, {"zzz", 1}}), Error); // undeclared
}

TEST(PromptFile, LoadsTomlPrompt) {
  auto dir = std::filesystem::temp_directory_path() / ("hearth_prompt_file_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "greeting.prompt.toml")
      << "message = \"first\"\ntemplate = \"\"\"Hello {{ user }}!\"\"\"\n"
         "[variables]\nuser = { type = \"string\", default = \"friend\" }\n[hints]\nmodel = \"llama\"\ntemperature = 0.5\n";
  std::ofstream(dir / "notes.txt") << "not a prompt";
  auto files = find_prompt_files(dir);
  ASSERT_EQ(files.size(), 1u);
  PromptFile f = load_prompt_file(files[0]);
  EXPECT_EQ(f.name, "greeting");
  EXPECT_EQ(f.message, "first");
  EXPECT_EQ(f.body["template"], "Hello {{ user }}!");
  EXPECT_EQ(f.body["variables"]["user"]["default"], "friend");
  EXPECT_EQ(f.body["hints"]["temperature"], 0.5);
  std::ofstream(dir / "bad.prompt.toml") << "template = \"x\"\nbogus = 1\n";
  EXPECT_THROW(load_prompt_file(dir / "bad.prompt.toml"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth::prompts
