#include "hearth/tensor_type.h"

#include <array>

#include "hearth/error.h"

namespace hearth {
namespace {

// Block geometry of every ggml type number, checked against ggml_blck_size/ggml_type_size of the ggml
// shipped with node-llama-cpp 3.22.1. Numbers 4, 5 and 31..33, 36..38 were removed from GGUF and stay
// empty so a file using them is rejected.
constexpr std::array<TensorTypeInfo, 40> kTypes = {{
    {"f32", 1, 4},        // 0
    {"f16", 1, 2},        // 1
    {"q4_0", 32, 18},     // 2
    {"q4_1", 32, 20},     // 3
    {{}, 0, 0},           // 4  Q4_2, removed
    {{}, 0, 0},           // 5  Q4_3, removed
    {"q5_0", 32, 22},     // 6
    {"q5_1", 32, 24},     // 7
    {"q8_0", 32, 34},     // 8
    {"q8_1", 32, 36},     // 9
    {"q2_K", 256, 84},    // 10
    {"q3_K", 256, 110},   // 11
    {"q4_K", 256, 144},   // 12
    {"q5_K", 256, 176},   // 13
    {"q6_K", 256, 210},   // 14
    {"q8_K", 256, 292},   // 15
    {"iq2_xxs", 256, 66}, // 16
    {"iq2_xs", 256, 74},  // 17
    {"iq3_xxs", 256, 98}, // 18
    {"iq1_s", 256, 50},   // 19
    {"iq4_nl", 32, 18},   // 20
    {"iq3_s", 256, 110},  // 21
    {"iq2_s", 256, 82},   // 22
    {"iq4_xs", 256, 136}, // 23
    {"i8", 1, 1},         // 24
    {"i16", 1, 2},        // 25
    {"i32", 1, 4},        // 26
    {"i64", 1, 8},        // 27
    {"f64", 1, 8},        // 28
    {"iq1_m", 256, 56},   // 29
    {"bf16", 1, 2},       // 30
    {{}, 0, 0},           // 31 Q4_0_4_4, removed (repacked at run time now)
    {{}, 0, 0},           // 32 Q4_0_4_8, removed
    {{}, 0, 0},           // 33 Q4_0_8_8, removed
    {"tq1_0", 256, 54},   // 34
    {"tq2_0", 256, 66},   // 35
    {{}, 0, 0},           // 36 IQ4_NL_4_4, removed
    {{}, 0, 0},           // 37 IQ4_NL_4_8, removed
    {{}, 0, 0},           // 38 IQ4_NL_8_8, removed
    {"mxfp4", 32, 17},    // 39
}};

}  // namespace

std::optional<TensorTypeInfo> tensor_type_info(uint32_t type) {
  if (type >= kTypes.size() || kTypes[type].block_size == 0) return std::nullopt;
  return kTypes[type];
}

std::string_view tensor_type_name(TensorType type) {
  auto info = tensor_type_info(static_cast<uint32_t>(type));
  return info ? info->name : std::string_view("unknown");
}

size_t tensor_row_bytes(TensorType type, uint64_t n) {
  auto info = tensor_type_info(static_cast<uint32_t>(type));
  if (!info) throw Error("unknown tensor type " + std::to_string(static_cast<uint32_t>(type)));
  if (n % info->block_size != 0) {
    throw Error("row of " + std::to_string(n) + " elements is not a multiple of the " +
                std::string(info->name) + " block size " + std::to_string(info->block_size));
  }
  const uint64_t blocks = n / info->block_size;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(blocks, uint64_t{info->type_size}, &bytes) || bytes > SIZE_MAX) {
    throw Error("row of " + std::to_string(n) + " " + std::string(info->name) + " elements overflows size_t");
  }
  return static_cast<size_t>(bytes);
}

}  // namespace hearth
