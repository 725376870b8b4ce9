#pragma once
// Bearer tokens with read or write rights, loaded from TOML. Tokens are kept only as SHA-256 hashes and
// compared in constant time; no token value is ever logged or echoed.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::gateway {

enum class Rights { Read, Write };

struct TokenIdentity {
  std::string name;  // who: goes into audit logs instead of the token
  Rights rights = Rights::Read;
};

class TokenAuth {
 public:
  // tokens.toml:
  //   [[tokens]]
  //   name = "ci"
  //   sha256 = "<hex sha256 of the token>"   # or: token = "<plain text>"
  //   rights = "write"                        # or "read"
  static TokenAuth from_toml_file(const std::filesystem::path& path);

  void add_hashed(std::string name, std::string_view sha256_hex, Rights rights);
  void add_plain(std::string name, std::string_view token, Rights rights);

  // The identity holding this token, or nothing. Takes the same time whichever entry matches.
  std::optional<TokenIdentity> authenticate(std::string_view token) const;

  // "Bearer XYZ" -> "XYZ"; nothing for any other scheme.
  static std::optional<std::string_view> bearer_token(std::string_view authorization_header);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TokenIdentity identity;
    unsigned char hash[32];
  };
  std::vector<Entry> entries_;
};

}  // namespace hearth::gateway
