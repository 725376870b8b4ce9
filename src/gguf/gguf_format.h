#pragma once
// Constants and checks shared by the GGUF reader and writer, so the writer never produces a file the
// reader would reject.
#include <cstdint>
#include <string>
#include <vector>

#include "hearth/gguf.h"

namespace hearth::gguf_format {

inline constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t kVersion = 3;
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr const char* kAlignmentKey = "general.alignment";
inline constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
inline constexpr int kMaxArrayDepth = 8;       // arrays of arrays deeper than this are rejected
// Every metadata value becomes a GgufValue (~48 bytes); this caps the memory a file can make us allocate
// well above any real tokenizer (a 262k vocabulary needs under 1M values).
inline constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;

inline bool is_known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::FLOAT64); }

// Bytes a scalar occupies on disk, 0 for STRING/ARRAY.
inline uint64_t scalar_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: case GgufValueType::INT8: case GgufValueType::BOOL: return 1;
    case GgufValueType::UINT16: case GgufValueType::INT16: return 2;
    case GgufValueType::UINT32: case GgufValueType::INT32: case GgufValueType::FLOAT32: return 4;
    case GgufValueType::UINT64: case GgufValueType::INT64: case GgufValueType::FLOAT64: return 8;
    default: return 0;
  }
}

// Fewest bytes one value of type t can occupy: a string is at least its u64 length, an array at least its
// u32 element type and u64 count.
inline uint64_t min_value_size(GgufValueType t) {
  if (t == GgufValueType::STRING) return 8;
  if (t == GgufValueType::ARRAY) return 12;
  return scalar_size(t);
}

inline bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Validates dims/type (1..4 dims, each > 0, known type, ne[0] a multiple of the block size, no overflow)
// and returns the tensor's byte size. Throws hearth::Error naming the tensor.
uint64_t checked_tensor_bytes(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type);

std::string format_bytes(uint64_t n);  // "1.2 GB" style, for messages

}  // namespace hearth::gguf_format
