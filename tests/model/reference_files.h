#pragma once
// The llama.cpp reference recordings the model tests compare against: one JSON file per fixture under a
// tests/data folder, each naming the sha256 of the GGUF it was recorded from.
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace hearth::test {

inline std::string sha256_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), size_t(in.gcount()));
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::ostringstream s;
  for (unsigned i = 0; i < len; i++) s << std::hex << std::setw(2) << std::setfill('0') << int(md[i]);
  return s.str();
}

// The recordings' names (file stems), sorted: one test instance each.
inline std::vector<std::string> reference_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace hearth::test
