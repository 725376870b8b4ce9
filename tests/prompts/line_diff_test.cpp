#include "prompts/line_diff.h"

#include <random>

#include <gtest/gtest.h>

namespace hearth::prompts {
namespace {

TEST(LineDiff, EqualTextsGiveEmptyDiff) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x@1", "x@2"), ""); }

TEST(LineDiff, OneChangedLine) {
  EXPECT_EQ(unified_diff("a\nb\nc\n", "a\nB\nc\n", "x@1", "x@2"),
            "--- x@1\n+++ x@2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
}

TEST(LineDiff, DistantChangesMakeTwoHunks) {
  std::string a, b;
  for (int i = 1; i <= 20; ++i) {
    a += "line" + std::to_string(i) + "\n";
    b += (i == 2 || i == 18 ? "LINE" : "line") + std::to_string(i) + "\n";
  }
  std::string d = unified_diff(a, b, "a", "b");
  EXPECT_NE(d.find("@@ -1,5 +1,5 @@\n line1\n-line2\n+LINE2\n line3\n line4\n line5\n"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -15,6 +15,6 @@\n line15\n line16\n line17\n-line18\n+LINE18\n line19\n line20\n"),
            std::string::npos) << d;
}

TEST(LineDiff, InsertIntoEmptyAndMissingFinalNewline) {
  EXPECT_EQ(unified_diff("", "hi\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+hi\n");
  EXPECT_EQ(unified_diff("hi\n", "hi", "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-hi\n+hi\n\\ No newline at end of file\n");
}

size_t lcs_length(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  std::vector<std::vector<size_t>> t(a.size() + 1, std::vector<size_t>(b.size() + 1, 0));
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  return t[a.size()][b.size()];
}

// The script must rebuild both sides, and keep as many lines as the longest common subsequence (minimal).
void check_script(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b, bool minimal) {
  std::vector<DiffLine> edits = diff_lines(a, b);
  std::vector<std::string_view> got_a, got_b;
  size_t equal = 0;
  for (const DiffLine& e : edits) {
    if (e.kind != DiffLine::Kind::Insert) got_a.push_back(e.text);
    if (e.kind != DiffLine::Kind::Delete) got_b.push_back(e.text);
    equal += e.kind == DiffLine::Kind::Equal;
  }
  ASSERT_EQ(got_a, a);
  ASSERT_EQ(got_b, b);
  if (minimal) {
    ASSERT_EQ(equal, lcs_length(a, b));
  }
}

TEST(LineDiff, RandomScriptsAreCorrectAndMinimal) {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a\n", "b\n", "c\n", "d\n"};
  for (int round = 0; round < 500; ++round) {
    std::vector<std::string_view> a, b;
    int na = static_cast<int>(rng() % 15), nb = static_cast<int>(rng() % 15);
    for (int i = 0; i < na; ++i) a.push_back(alphabet[rng() % alphabet.size()]);
    for (int i = 0; i < nb; ++i) b.push_back(alphabet[rng() % alphabet.size()]);
    check_script(a, b, true);
  }
}

TEST(LineDiff, HugeDifferenceFallsBackButStaysCorrect) {
  std::vector<std::string> storage;
  for (int i = 0; i < 6000; ++i) storage.push_back("x" + std::to_string(i) + "\n");
  std::vector<std::string_view> a, b;
  for (int i = 0; i < 3000; ++i) a.push_back(storage[static_cast<size_t>(i)]);
  for (int i = 3000; i < 6000; ++i) b.push_back(storage[static_cast<size_t>(i)]);
  check_script(a, b, false);
}

}  // namespace
}  // namespace hearth::prompts
