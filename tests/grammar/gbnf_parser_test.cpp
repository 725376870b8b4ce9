// GBNF syntax: what parses, what a parsed grammar accepts and rejects, and the errors (with line:col) for
// grammars that cannot work.
#include <gtest/gtest.h>

#include <string>

#include "grammar/grammar.h"
#include "hearth/error.h"

namespace {

using hearth::Grammar;

bool matches(const std::string& gbnf, const std::string& text) { return Grammar::parse_gbnf(gbnf)->matches(text); }

std::string parse_error(const std::string& gbnf) {
  try {
    Grammar::parse_gbnf(gbnf);
  } catch (const hearth::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(GbnfParser, LiteralsSequencesAlternatives) {
  const std::string g = "root ::= \"ab\" \"c\" | \"x\" y\ny ::= \"yz\"\n";
  EXPECT_TRUE(matches(g, "abc"));
  EXPECT_TRUE(matches(g, "xyz"));
  EXPECT_FALSE(matches(g, "ab"));
  EXPECT_FALSE(matches(g, "abcx"));
  EXPECT_FALSE(matches(g, "xy"));
  EXPECT_FALSE(matches(g, ""));
}

TEST(GbnfParser, EscapesInLiterals) {
  EXPECT_TRUE(matches(R"(root ::= "a\nb\t\"\\")", "a\nb\t\"\\"));
  EXPECT_TRUE(matches(R"(root ::= "\x41\u00e9\u4e2D")", "A\u00e9\u4e2d"));
  EXPECT_TRUE(matches(R"(root ::= "\U0001F600")", "\U0001F600"));
  EXPECT_TRUE(matches("root ::= \"h\u00e9llo\"", "h\u00e9llo"));   // raw UTF-8 in the grammar text
  EXPECT_FALSE(matches(R"(root ::= "\x41")", "B"));
}

TEST(GbnfParser, CharacterClasses) {
  const std::string g = R"(root ::= [a-c0-9_] [^a-z\]] [α-ω])";
  EXPECT_TRUE(matches(g, "b7\u03b2"));
  EXPECT_TRUE(matches(g, "bA\u03b2"));
  EXPECT_TRUE(matches(g, "_7\u03c9"));
  EXPECT_FALSE(matches(g, "da\u03b2"));   // d not in [a-c0-9_]
  EXPECT_FALSE(matches(g, "aa\u03b2"));   // a excluded by the negation
  EXPECT_FALSE(matches(g, "a]\u03b2"));   // ] excluded too
  EXPECT_FALSE(matches(g, "aAz"));
  EXPECT_TRUE(matches(R"(root ::= [-a])", "-"));    // '-' first is literal
  EXPECT_TRUE(matches(R"(root ::= [a-])", "-"));    // and last
  EXPECT_TRUE(matches(R"(root ::= [^])", "\u4e2d")); // [^] is any character
}

TEST(GbnfParser, AnyCharacter) {
  const std::string g = "root ::= \"<\" . \">\"";
  EXPECT_TRUE(matches(g, "<x>"));
  EXPECT_TRUE(matches(g, "<\n>"));
  EXPECT_TRUE(matches(g, "<\U0001F600>"));
  EXPECT_FALSE(matches(g, "<>"));
  EXPECT_FALSE(matches(g, "<ab>"));
}

TEST(GbnfParser, Repetitions) {
  EXPECT_TRUE(matches("root ::= \"a\"*", ""));
  EXPECT_TRUE(matches("root ::= \"a\"*", "aaaa"));
  EXPECT_FALSE(matches("root ::= \"a\"+", ""));
  EXPECT_TRUE(matches("root ::= \"a\"+", "aaa"));
  EXPECT_TRUE(matches("root ::= \"a\"? \"b\"", "b"));
  EXPECT_TRUE(matches("root ::= \"a\"? \"b\"", "ab"));
  EXPECT_FALSE(matches("root ::= \"a\"? \"b\"", "aab"));
  EXPECT_TRUE(matches("root ::= \"ab\"*", "ababab"));   // a multi-character literal repeats whole
  EXPECT_FALSE(matches("root ::= \"ab\"*", "aba"));
  const std::string exact = "root ::= [0-9]{3}";
  EXPECT_FALSE(matches(exact, "12"));
  EXPECT_TRUE(matches(exact, "123"));
  EXPECT_FALSE(matches(exact, "1234"));
  const std::string at_least = "root ::= [0-9]{2,}";
  EXPECT_FALSE(matches(at_least, "1"));
  EXPECT_TRUE(matches(at_least, "12"));
  EXPECT_TRUE(matches(at_least, "123456789"));
  const std::string between = "root ::= \"x\" ([0-9] \"-\"){1,3} \"y\"";
  EXPECT_FALSE(matches(between, "xy"));
  EXPECT_TRUE(matches(between, "x1-y"));
  EXPECT_TRUE(matches(between, "x1-2-3-y"));
  EXPECT_FALSE(matches(between, "x1-2-3-4-y"));
  EXPECT_TRUE(matches("root ::= \"a\"{0}", ""));
  EXPECT_TRUE(matches("root ::= \"a\"{ 1 , 2 }", "aa"));
}

TEST(GbnfParser, GroupsCommentsAndLineBreaks) {
  const std::string g =
      "# a comment line\n"
      "root ::= (\n"
      "    \"a\"   # inside a group, rules may span lines\n"
      "  | \"b\" \"c\"\n"
      "  ) tail   # trailing comment\n"
      "\n"
      "tail ::= \"!\" |\n"
      "  \"?\"\n";
  EXPECT_TRUE(matches(g, "a!"));
  EXPECT_TRUE(matches(g, "bc?"));
  EXPECT_FALSE(matches(g, "b!"));
  EXPECT_TRUE(matches("root ::= x\r\nx ::= \"1\"\r\n", "1"));   // CRLF line ends
}

TEST(GbnfParser, RecursionThatConsumesInputIsFine) {
  const std::string g = "root ::= \"(\" root \")\" | \"\"";
  EXPECT_TRUE(matches(g, ""));
  EXPECT_TRUE(matches(g, "((()))"));
  EXPECT_FALSE(matches(g, "(()"));
  const std::string list = "root ::= item (\",\" item)*\nitem ::= [a-z]+ | \"[\" root \"]\"";
  EXPECT_TRUE(matches(list, "a,[b,[c,d]],e"));
  EXPECT_FALSE(matches(list, "a,[b,c"));
}

TEST(GbnfParser, AmbiguousGrammarsKeepEveryParse) {
  // Both alternatives share a prefix; the matcher must keep both stacks alive until they diverge.
  const std::string g = "root ::= \"ab\" \"c\" | \"a\" [a-z] \"d\" | [a-z]+ \"e\"";
  EXPECT_TRUE(matches(g, "abc"));
  EXPECT_TRUE(matches(g, "abd"));
  EXPECT_TRUE(matches(g, "abe"));
  EXPECT_FALSE(matches(g, "abf"));
}

TEST(GbnfParser, Utf8InputIsValidatedByTheMatcher) {
  const std::string g = "root ::= [^\"]*";
  EXPECT_TRUE(matches(g, "caf\u00e9 \u4e2d\u6587"));
  EXPECT_FALSE(matches(g, std::string("\xC3")));         // truncated character
  EXPECT_FALSE(matches(g, std::string("\xC0\x80")));     // overlong NUL
  EXPECT_FALSE(matches(g, std::string("\xED\xA0\x80"))); // a surrogate
  EXPECT_FALSE(matches(g, std::string("\xFF")));
}

TEST(GbnfParser, ErrorsSayWhereAndWhat) {
  EXPECT_EQ(parse_error("root ::= item\n"), "grammar line 1:10: rule 'item' is used but never defined");
  EXPECT_EQ(parse_error("item ::= \"a\"\n"), "grammar line 1:1: the grammar has no 'root' rule");
  EXPECT_EQ(parse_error("root ::= \"a\\q\"\n"), "grammar line 1:12: unknown escape '\\q'");
  EXPECT_EQ(parse_error("root ::= \"\\x4\"\n"), "grammar line 1:11: escape needs 2 hex digits");
  EXPECT_EQ(parse_error("root ::= \"abc\n"), "grammar line 1:10: unterminated string literal");
  EXPECT_EQ(parse_error("root ::= [abc\n"), "grammar line 1:10: unterminated character class");
  EXPECT_EQ(parse_error("root ::= [z-a]\n"), "grammar line 1:11: range U+007A-U+0061 is reversed");
  EXPECT_EQ(parse_error("root = \"a\"\n"), "grammar line 1:6: expected '::=' after rule name 'root'");
  EXPECT_EQ(parse_error("root ::= \"a\"\nroot ::= \"b\"\n"), "grammar line 2:1: rule 'root' is defined twice (first at 1:1)");
  EXPECT_EQ(parse_error("root ::= * \"a\"\n"), "grammar line 1:10: '*' has nothing to repeat");
  EXPECT_EQ(parse_error("root ::= (\"a\" \n"), "grammar line 1:10: unmatched '('");
  EXPECT_EQ(parse_error("root ::= \"a\")\n"), "grammar line 1:13: unmatched ')'");
  EXPECT_EQ(parse_error("root ::= \"a\"{3,1}\n"), "grammar line 1:13: repetition {3,1} has its maximum below its minimum");
  EXPECT_EQ(parse_error("root ::= \"a\"{2\n"), "grammar line 1:13: expected '}' to close the repetition");
  EXPECT_EQ(parse_error("root ::= \"a\" b ::= \"c\"\n"), "grammar line 1:14: missing newline before rule 'b'");
  EXPECT_EQ(parse_error("root ::= \"a\" @\n"), "grammar line 1:14: unexpected '@' in rule 'root'");
  EXPECT_EQ(parse_error("root ::= []\n"), "grammar line 1:10: empty character class matches nothing");
  EXPECT_EQ(parse_error("root ::= \"a\"{20000}\n"), "grammar line 1:14: repetition count above 10000");
}

TEST(GbnfParser, LeftRecursionIsRejected) {
  EXPECT_EQ(parse_error("root ::= root \"a\" | \"b\"\n"),
            "grammar line 1:1: left recursion: root can reach itself without consuming input (root -> root)");
  EXPECT_EQ(parse_error("root ::= a\na ::= b \"x\"\nb ::= a | \"y\"\n"),
            "grammar line 2:1: left recursion: a can reach itself without consuming input (a -> b -> a)");
  // Through a rule that can match nothing: opt is nullable, so root reaches itself at its start.
  EXPECT_NE(parse_error("root ::= opt root \"x\" | \"y\"\nopt ::= \"z\"?\n").find("left recursion"), std::string::npos);
  // Repeating something that can be empty would loop forever as well.
  EXPECT_NE(parse_error("root ::= (\"a\"?)*\n").find("left recursion"), std::string::npos);
}

}  // namespace
