#pragma once
// Helpers for GGUF tests: a small valid file, byte patching, and an "expect Error mentioning X" check.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth::test {

using Bytes = std::vector<uint8_t>;

inline std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// Offset of the first occurrence of `needle` at or after `from`; fails the test when absent.
inline size_t find_bytes(const Bytes& b, std::string_view needle, size_t from = 0) {
  for (size_t i = from; i + needle.size() <= b.size(); ++i) {
    if (std::memcmp(b.data() + i, needle.data(), needle.size()) == 0) return i;
  }
  ADD_FAILURE() << "pattern '" << needle << "' not found";
  return 0;
}

template <class T>
void put(Bytes& b, size_t at, T v) {
  ASSERT_LE(at + sizeof(T), b.size());
  std::memcpy(b.data() + at, &v, sizeof(T));
}

template <class T>
T get(const Bytes& b, size_t at) {
  T v{};
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}

// Parses `bytes` and returns the hearth::Error message, or "" (with a test failure) when it parsed.
inline std::string parse_error(const Bytes& bytes) {
  try {
    GgufFile::from_bytes(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected hearth::Error, file parsed";
  return "";
}

#define EXPECT_PARSE_ERROR(bytes, ...)                                            \
  do {                                                                            \
    const std::string msg_ = ::hearth::test::parse_error(bytes);                   \
    for (const char* part_ : {__VA_ARGS__}) {                                      \
      EXPECT_NE(msg_.find(part_), std::string::npos) << "message: " << msg_ << "\nmissing: " << part_; \
    }                                                                             \
  } while (0)

// Raw little-endian byte builder for files the writer refuses to produce.
struct RawGguf {
  Bytes b;
  template <class T>
  RawGguf& le(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  RawGguf& str(std::string_view s) {
    le<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return le(version).le(n_tensors).le(n_kv);
  }
};

}  // namespace hearth::test
