#include "gguf_format.h"

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "hearth/error.h"

namespace hearth::gguf_format {
namespace {

constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());  // as ggml

std::string dims_string(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

uint64_t checked_elements(const std::string& name, const std::vector<uint64_t>& dims) {
  if (dims.empty() || dims.size() > kMaxDims) {
    throw Error("tensor '" + name + "': has " + std::to_string(dims.size()) + " dims; GGUF allows 1 to " +
                std::to_string(kMaxDims));
  }
  uint64_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 0) {
      throw Error("tensor '" + name + "': dim " + std::to_string(i) + " of " + dims_string(dims) +
                  " is 0; every dim must be > 0");
    }
    if (__builtin_mul_overflow(n, dims[i], &n) || n > kMaxElements) {
      throw Error("tensor '" + name + "': element count of dims " + dims_string(dims) + " overflows int64");
    }
  }
  return n;
}

}  // namespace

uint64_t checked_tensor_bytes(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type) {
  const uint64_t n = checked_elements(name, dims);
  auto info = tensor_type_info(type);
  if (!info) throw Error("tensor '" + name + "': unknown tensor type " + std::to_string(type));
  if (dims[0] % info->block_size != 0) {
    throw Error("tensor '" + name + "': row length ne[0] = " + std::to_string(dims[0]) +
                " is not a multiple of the " + std::string(info->name) + " block size " +
                std::to_string(info->block_size));
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n / info->block_size, uint64_t{info->type_size}, &bytes)) {
    throw Error("tensor '" + name + "': byte size of dims " + dims_string(dims) + " as " +
                std::string(info->name) + " overflows 64 bits");
  }
  return bytes;
}

std::string format_bytes(uint64_t n) {
  char buf[64];
  if (n < 1000) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 " bytes", n);
  } else if (n < 1000ull * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB (%" PRIu64 " bytes)", n / 1e3, n);
  } else if (n < 1000ull * 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB (%" PRIu64 " bytes)", n / 1e6, n);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GB (%" PRIu64 " bytes)", n / 1e9, n);
  }
  return buf;
}

}  // namespace hearth::gguf_format

namespace hearth {

uint64_t GgufTensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : dims) {
    if (__builtin_mul_overflow(n, d, &n)) throw Error("tensor '" + name + "': element count overflows 64 bits");
  }
  return n;
}

uint64_t GgufTensorInfo::n_bytes() const {
  return gguf_format::checked_tensor_bytes(name, dims, static_cast<uint32_t>(type));
}

}  // namespace hearth
