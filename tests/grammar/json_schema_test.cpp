// JSON schema -> grammar: documents the schema allows match, documents it forbids do not, and schemas the
// converter cannot enforce are refused with their location.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "grammar/schema_pattern.h"
#include "hearth/error.h"

namespace {

using hearth::Grammar;
using nlohmann::json;

void expect_language(const json& schema, const std::vector<std::string>& good, const std::vector<std::string>& bad) {
  auto g = Grammar::from_json_schema(schema);
  for (const auto& doc : good)
    EXPECT_TRUE(g->matches(doc)) << "should match: " << doc << "\nschema: " << schema.dump()
                                 << "\ngrammar:\n" << Grammar::json_schema_to_gbnf(schema);
  for (const auto& doc : bad)
    EXPECT_FALSE(g->matches(doc)) << "should not match: " << doc << "\nschema: " << schema.dump()
                                  << "\ngrammar:\n" << Grammar::json_schema_to_gbnf(schema);
}

std::string conversion_error(const json& schema) {
  try {
    Grammar::from_json_schema(schema);
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonSchema, Primitives) {
  expect_language({{"type", "string"}}, {R"("")", R"("hi there")", R"("a\"b\\c\n\u00e9\u4E2d")", "\"caf\u00e9\""},
                  {R"(hi)", R"("a)", R"("a"b")", "\"a\nb\"", R"("\x")", R"("\ud800")"});
  expect_language({{"type", "integer"}}, {"0", "-7", "1234567890123456"}, {"01", "1.5", "1e3", "-", "12345678901234567"});
  expect_language({{"type", "number"}}, {"0", "-0.5", "3.25e-3", "1E+10", "42"}, {".5", "1.", "1e", "+1", "0x10", "1e308"});
  expect_language({{"type", "boolean"}}, {"true", "false"}, {"True", "1"});
  expect_language({{"type", "null"}}, {"null"}, {"nil", ""});
  expect_language(json::object(), {"{}", R"({"a": [1, {"b": null}], "c": "d"})", "-3.5", "true"}, {"{", "[1,]"});
}

TEST(JsonSchema, WhitespaceIsBounded) {
  const json schema = {{"type", "array"}, {"items", {{"type", "integer"}}}};
  expect_language(schema, {"[1,2]", "[ 1, 2 ]", "[\n  1,\n  2\n]", "[\n" + std::string(20, ' ') + "1]"},
                  {"[\n" + std::string(21, ' ') + "1]", "[  1]", "[\n\n1]"});
}

TEST(JsonSchema, ObjectsWithRequiredAndOptionalProperties) {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
    "required": ["b"],
    "additionalProperties": false})");
  expect_language(schema,
                  {R"({"b": "x"})", R"({"b":"x","a":1})", R"({"b": "x", "a": 1, "c": true})", R"({"b":"x","c":false})"},
                  {R"({})", R"({"a": 1})", R"({"b": "x", "d": 1})", R"({"b": 1})", R"({"b":"x",})", R"({"b":"x","a":1,"a":2})"});
  // Properties without additionalProperties: only the declared ones are generated.
  expect_language({{"properties", {{"x", {{"type", "null"}}}}}}, {R"({})", R"({"x": null})"}, {R"({"y": null})"});
}

TEST(JsonSchema, AdditionalPropertiesSchemaExcludesDeclaredNames) {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {"id": {"type": "integer"}},
    "required": ["id"],
    "additionalProperties": {"type": "string"}})");
  expect_language(schema, {R"({"id": 1})", R"({"id": 1, "i": "x", "idx": "y", "other": "z"})", R"({"id":1,"":"e"})"},
                  {R"({"id": 1, "id": "x"})", R"({"id": 1, "x": 2})", R"({"x": "y"})"});
  expect_language({{"type", "object"}, {"additionalProperties", {{"type", "integer"}}}},
                  {R"({})", R"({"a": 1, "b": 2})"}, {R"({"a": "1"})"});
}

TEST(JsonSchema, Arrays) {
  expect_language({{"type", "array"}, {"items", {{"type", "integer"}}}, {"minItems", 2}, {"maxItems", 3}},
                  {"[1, 2]", "[1,2,3]"}, {"[]", "[1]", "[1,2,3,4]", "[1,\"a\"]"});
  expect_language({{"type", "array"}, {"items", {{"type", "integer"}}}, {"minItems", 1}}, {"[1]", "[1,2,3,4,5,6]"}, {"[]"});
  expect_language({{"type", "array"}, {"maxItems", 0}}, {"[]"}, {"[1]"});
  const json tuple = json::parse(R"({"prefixItems": [{"type": "integer"}, {"type": "boolean"}], "items": false})");
  expect_language(tuple, {"[]", "[1]", "[1, true]"}, {"[true]", "[1, true, 2]"});
  const json tuple_min = json::parse(R"({"prefixItems": [{"type": "integer"}], "items": {"type": "string"}, "minItems": 2})");
  expect_language(tuple_min, {R"([1, "a"])", R"([1, "a", "b"])"}, {"[1]", R"(["a", "b"])"});
}

TEST(JsonSchema, EnumConstAndAlternatives) {
  expect_language({{"enum", {"red", 2, nullptr, json::object({{"k", "v"}})}}},
                  {R"("red")", "2", "null", R"({"k":"v"})"}, {R"("blue")", "3", R"({"k": "v"})"});
  expect_language({{"const", "fixed"}}, {R"("fixed")"}, {R"("other")"});
  expect_language({{"anyOf", {{{"type", "integer"}}, {{"type", "string"}, {"maxLength", 2}}}}},
                  {"5", R"("ab")"}, {R"("abc")", "true"});
  expect_language({{"oneOf", {{{"type", "null"}}, {{"type", "boolean"}}}}}, {"null", "true"}, {"0"});
  expect_language({{"type", {"integer", "null"}}}, {"1", "null"}, {R"("1")"});
}

TEST(JsonSchema, AllOfMergesObjects) {
  const json schema = json::parse(R"({
    "allOf": [
      {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
      {"properties": {"b": {"type": "string"}}, "required": ["b"], "additionalProperties": false}
    ]})");
  expect_language(schema, {R"({"a": 1, "b": "x"})"}, {R"({"a": 1})", R"({"b": "x"})"});
  EXPECT_NE(conversion_error(json::parse(R"({"allOf": [{"type": "string"}, {"type": "integer"}]})")).find("disagree on 'type'"),
            std::string::npos);
}

TEST(JsonSchema, RefsIncludingRecursion) {
  const json schema = json::parse(R"({
    "$defs": {"node": {"type": "object",
                       "properties": {"v": {"type": "integer"},
                                      "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                       "required": ["v"]}},
    "$ref": "#/$defs/node"})");
  expect_language(schema, {R"({"v": 1})", R"({"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]})"},
                  {R"({"v": 1, "kids": [{"x": 2}]})"});
  const json legacy = json::parse(R"({"definitions": {"n": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/definitions/n"}})");
  expect_language(legacy, {"[1, 2]"}, {"[true]"});
}

TEST(JsonSchema, StringLengths) {
  expect_language({{"type", "string"}, {"minLength", 2}, {"maxLength", 3}},
                  {R"("ab")", R"("abc")", R"("a\n")", "\"\u4e2d\u6587\""}, {R"("a")", R"("abcd")", R"("\n")"});
  expect_language({{"type", "string"}, {"minLength", 1}}, {R"("a")", R"("abcdefgh")"}, {R"("")"});
}

TEST(JsonSchema, Patterns) {
  expect_language({{"type", "string"}, {"pattern", R"(^[a-z]{2,3}-\d+$)"}}, {R"("ab-1")", R"("xyz-0042")"},
                  {R"("a-1")", R"("ab-")", R"("AB-1")"});
  expect_language({{"pattern", R"(^(cat|dog)s?\.$)"}}, {R"("cat.")", R"("dogs.")"}, {R"("cow.")", R"("cat")"});
  // Characters JSON must escape appear escaped; `.` excludes line breaks.
  expect_language({{"pattern", R"(^a"b\\c.$)"}}, {R"("a\"b\\cx")"}, {R"("a"b\cx")", R"("a\"b\\c\n")"});
  expect_language({{"pattern", R"(^[^0-9]+$)"}}, {R"("ab")", R"("a\"")"}, {R"("a1")"});
  expect_language({{"pattern", R"(^\s\w\W$)"}}, {R"(" a!")", R"("\ta-")"}, {R"(" a1")"});
  expect_language({{"pattern", R"(^(?:ab)*?x{1,}$)"}}, {R"("ababx")", R"("xx")"}, {R"("abx ")"});
  EXPECT_EQ(hearth::schema_pattern_to_gbnf("ab"), R"(("a" "b"))");
}

TEST(JsonSchema, PatternErrors) {
  auto error = [](const std::string& p) { return conversion_error({{"type", "string"}, {"pattern", p}}); };
  EXPECT_NE(error("a(?=b)").find("lookaround assertions are not supported"), std::string::npos);
  EXPECT_NE(error(R"((a)\1)").find("backreferences are not supported"), std::string::npos);
  EXPECT_NE(error(R"(\bword)").find("word boundaries"), std::string::npos);
  EXPECT_NE(error("a^b").find("'^' is only supported at the start"), std::string::npos);
  EXPECT_NE(error("(ab").find("unmatched '('"), std::string::npos);
  EXPECT_NE(error("a**").find("nested quantifier"), std::string::npos);
  EXPECT_NE(error(R"(\p{L})").find("Unicode property escapes"), std::string::npos);
  EXPECT_NE(error("[z-a]").find("reversed range"), std::string::npos);
  EXPECT_NE(error("[a").find("JSON schema at #: pattern '[a'"), std::string::npos);
}

TEST(JsonSchema, Formats) {
  expect_language({{"type", "string"}, {"format", "date"}}, {R"("2024-02-28")", R"("1999-12-31")", R"("2023-04-30")"},
                  {R"("2024-13-01")", R"("2024-02-30")", R"("2024-04-31")", R"("24-01-01")"});
  expect_language({{"type", "string"}, {"format", "time"}}, {R"("23:59:59Z")", R"("08:00:00.25+02:00")"},
                  {R"("24:00:00Z")", R"("12:00:00")"});
  expect_language({{"type", "string"}, {"format", "date-time"}}, {R"("2024-01-02T03:04:05Z")"}, {R"("2024-01-02 03:04:05Z")"});
  expect_language({{"type", "string"}, {"format", "uuid"}}, {R"("123e4567-e89b-12d3-a456-426614174000")"},
                  {R"("123e4567e89b12d3a456426614174000")", R"("123E4567-e89b-12d3-a456-426614174000")"});
}

TEST(JsonSchema, UnsupportedSchemasAreRefusedWithTheirLocation) {
  EXPECT_EQ(conversion_error(json::parse(R"({"properties": {"age": {"type": "integer", "minimum": 0}}})")),
            "JSON schema at #/properties/age: keyword 'minimum' is not supported by the grammar converter");
  EXPECT_EQ(conversion_error({{"type", "string"}, {"format", "email"}}),
            "JSON schema at #: format 'email' is not supported (date, time, date-time, uuid are)");
  EXPECT_EQ(conversion_error({{"$ref", "https://example.com/s.json"}}),
            "JSON schema at #: $ref 'https://example.com/s.json' is not supported: only references inside this "
            "schema (#/...)");
  EXPECT_EQ(conversion_error({{"$ref", "#/$defs/missing"}}), "JSON schema at #: $ref '#/$defs/missing' points to nothing");
  EXPECT_EQ(conversion_error({{"type", "thing"}}), "JSON schema at #: unknown type 'thing'");
  EXPECT_EQ(conversion_error(false), "JSON schema at #: the schema `false` accepts nothing");
  EXPECT_EQ(conversion_error({{"type", "array"}, {"maxItems", 1}, {"minItems", 2}}),
            "JSON schema at #: maxItems is below minItems");
  // A schema that can only recurse has no finite documents: the derived grammar says so.
  EXPECT_NE(conversion_error(json::parse(R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})"))
                .find("left recursion"),
            std::string::npos);
}

}  // namespace
