#include "runtime/model_fingerprint.h"

#include <algorithm>
#include <fstream>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {

std::string model_fingerprint(const std::string& path, const GgufFile& file) {
  // The header is read from the file itself: GgufFile validated data_offset against the file size.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot reopen to fingerprint the model", path));
  std::vector<char> header(size_t(file.data_offset()));
  if (!in.read(header.data(), std::streamsize(header.size())))
    throw Error(fmt::format("{}: short read of the {}-byte header while fingerprinting", path, header.size()));

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("sha-256 is unavailable");
  EVP_DigestUpdate(ctx.get(), header.data(), header.size());
  for (const auto& t : file.tensors()) {
    auto data = file.tensor_data(t);
    EVP_DigestUpdate(ctx.get(), data.data(), std::min<size_t>(data.size(), 4096));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  std::string hex;
  for (unsigned i = 0; i < n; i++) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

}  // namespace hearth
