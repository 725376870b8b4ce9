#include "gateway/token_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <toml++/toml.h>

#include "common/toml_file.h"
#include "hearth/error.h"

namespace hearth::gateway {

namespace {

void sha256(std::string_view data, unsigned char out[32]) {
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, EVP_sha256(), nullptr) != 1 || length != 32)
    throw Error("token auth: OpenSSL sha256 failed");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Rights parse_rights(std::string_view text, const std::string& where) {
  if (text == "read") return Rights::Read;
  if (text == "write") return Rights::Write;
  throw Error(where + ": rights must be \"read\" or \"write\", got \"" + std::string(text) + "\"");
}

}  // namespace

void TokenAuth::add_hashed(std::string name, std::string_view hex, Rights rights) {
  if (hex.size() != 64) throw Error("token \"" + name + "\": sha256 must be 64 hex digits");
  Entry e{TokenIdentity{std::move(name), rights}, {}};
  for (size_t i = 0; i < 32; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error("token \"" + e.identity.name + "\": sha256 must be 64 hex digits");
    e.hash[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  entries_.push_back(std::move(e));
}

void TokenAuth::add_plain(std::string name, std::string_view token, Rights rights) {
  if (token.empty()) throw Error("token \"" + name + "\": empty token");
  Entry e{TokenIdentity{std::move(name), rights}, {}};
  sha256(token, e.hash);
  entries_.push_back(std::move(e));
}

std::optional<TokenIdentity> TokenAuth::authenticate(std::string_view token) const {
  unsigned char presented[32];
  sha256(token, presented);
  // Visit every entry and compare whole hashes, so timing says nothing about which (if any) matched.
  const Entry* match = nullptr;
  for (const Entry& e : entries_) {
    bool equal = CRYPTO_memcmp(presented, e.hash, 32) == 0;
    if (equal && match == nullptr) match = &e;
  }
  if (match == nullptr) return std::nullopt;
  return match->identity;
}

std::optional<std::string_view> TokenAuth::bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(kScheme[i])))
      return std::nullopt;
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

TokenAuth TokenAuth::from_toml_file(const std::filesystem::path& path) {
  toml::table root = parse_toml_file(path);
  TokenAuth auth;
  const toml::array* tokens = root["tokens"].as_array();
  if (tokens == nullptr) throw Error(path.string() + ": expected [[tokens]] entries");
  size_t index = 0;
  for (const toml::node& node : *tokens) {
    std::string where = path.string() + ": tokens[" + std::to_string(index++) + "]";
    const toml::table* t = node.as_table();
    if (t == nullptr) throw Error(where + " is not a table");
    std::string name = (*t)["name"].value_or(std::string());
    if (name.empty()) throw Error(where + ": missing name");
    Rights rights = parse_rights((*t)["rights"].value_or(std::string("read")), where);
    if (auto hash = (*t)["sha256"].value<std::string>()) auth.add_hashed(name, *hash, rights);
    else if (auto plain = (*t)["token"].value<std::string>()) auth.add_plain(name, *plain, rights);
    else throw Error(where + ": needs sha256 = \"<hex>\" or token = \"...\"");
  }
  if (auth.size() == 0) throw Error(path.string() + ": no tokens defined");
  return auth;
}

}  // namespace hearth::gateway
