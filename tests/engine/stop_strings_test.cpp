#include "engine/stop_strings.h"

#include <gtest/gtest.h>

using hearth::StopStringMatcher;

namespace {

// Feeds text in pieces of every size and checks that what is emitted equals the text cut before the
// first stop string, whatever the split.
std::pair<std::string, bool> run(const std::vector<std::string>& stops, const std::string& text, size_t piece) {
  StopStringMatcher m(stops);
  std::string out;
  for (size_t i = 0; i < text.size(); i += piece) {
    auto o = m.push(text.substr(i, piece));
    out += o.text;
    if (o.matched) return {out, true};
  }
  return {out + m.flush(), false};
}

TEST(StopStrings, CutsBeforeTheFirstStopWhateverTheSplit) {
  const std::string text = "Hello world. User: hi\nAssistant: ok";
  for (size_t piece = 1; piece <= text.size(); piece++) {
    auto [out, matched] = run({"User:", "\nAssistant"}, text, piece);
    EXPECT_TRUE(matched);
    EXPECT_EQ(out, "Hello world. ");
  }
}

TEST(StopStrings, NoStopMeansEverythingComesOut) {
  const std::string text = "Use: a partial prefix U at the end U";
  for (size_t piece = 1; piece <= 5; piece++) {
    auto [out, matched] = run({"User:"}, text, piece);
    EXPECT_FALSE(matched);
    EXPECT_EQ(out, text);
  }
}

TEST(StopStrings, HoldsBackAPossibleStopPrefix) {
  StopStringMatcher m({"</s>"});
  EXPECT_EQ(m.push("abc</").text, "abc");
  auto o = m.push("x");
  EXPECT_EQ(o.text, "</x");
  EXPECT_FALSE(o.matched);
}

}  // namespace
