#include "gateway/token_auth.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "hearth/error.h"
#include "prompts/sha256.h"

namespace hearth::gateway {
namespace {

TEST(TokenAuth, PlainAndHashedTokens) {
  TokenAuth auth;
  auth.add_plain("writer", "w-secret", Rights::Write);
  auth.add_hashed("reader", prompts::sha256_hex("r-secret"), Rights::Read);
  auto w = auth.authenticate("w-secret");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->name, "writer");
  EXPECT_EQ(w->rights, Rights::Write);
  auto r = auth.authenticate("r-secret");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rights, Rights::Read);
  EXPECT_FALSE(auth.authenticate("r-secreT"));
  EXPECT_FALSE(auth.authenticate(""));
}

TEST(TokenAuth, BearerHeader) {
  EXPECT_EQ(TokenAuth::bearer_token("Bearer abc").value(), "abc");
  EXPECT_EQ(TokenAuth::bearer_token("bearer  abc ").value(), "abc");
  EXPECT_FALSE(TokenAuth::bearer_token("Basic abc"));
  EXPECT_FALSE(TokenAuth::bearer_token("Bearer "));
  EXPECT_FALSE(TokenAuth::bearer_token(""));
}

TEST(TokenAuth, LoadsTomlAndRejectsBadEntries) {
  auto dir = std::filesystem::temp_directory_path() / ("hearth_tokens_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ok.toml") << "[[tokens]]\nname = \"ci\"\ntoken = \"t1\"\nrights = \"write\"\n"
                                 << "[[tokens]]\nname = \"ro\"\nsha256 = \"" << prompts::sha256_hex("t2") << "\"\n";
  TokenAuth auth = TokenAuth::from_toml_file(dir / "ok.toml");
  EXPECT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth.authenticate("t2")->rights, Rights::Read);  // read is the default
  std::ofstream(dir / "bad.toml") << "[[tokens]]\nname = \"x\"\nsha256 = \"abc\"\n";
  EXPECT_THROW(TokenAuth::from_toml_file(dir / "bad.toml"), Error);
  std::ofstream(dir / "rights.toml") << "[[tokens]]\nname = \"x\"\ntoken = \"y\"\nrights = \"admin\"\n";
  EXPECT_THROW(TokenAuth::from_toml_file(dir / "rights.toml"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth::gateway
