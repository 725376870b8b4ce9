// Block geometry of every ggml type number, as ggml_blck_size/ggml_type_size report it.
#include <gtest/gtest.h>

#include "hearth/error.h"
#include "hearth/tensor_type.h"

namespace hearth {
namespace {

struct Expected {
  uint32_t type;
  const char* name;
  uint32_t block, size;
};

// Values printed by ggml_blck_size/ggml_type_size/ggml_type_name of the ggml in node-llama-cpp 3.22.1.
constexpr Expected kGgml[] = {
    {0, "f32", 1, 4},         {1, "f16", 1, 2},         {2, "q4_0", 32, 18},      {3, "q4_1", 32, 20},
    {6, "q5_0", 32, 22},      {7, "q5_1", 32, 24},      {8, "q8_0", 32, 34},      {9, "q8_1", 32, 36},
    {10, "q2_K", 256, 84},    {11, "q3_K", 256, 110},   {12, "q4_K", 256, 144},   {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},   {15, "q8_K", 256, 292},   {16, "iq2_xxs", 256, 66}, {17, "iq2_xs", 256, 74},
    {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},   {20, "iq4_nl", 32, 18},   {21, "iq3_s", 256, 110},
    {22, "iq2_s", 256, 82},   {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},         {25, "i16", 1, 2},
    {26, "i32", 1, 4},        {27, "i64", 1, 8},        {28, "f64", 1, 8},        {29, "iq1_m", 256, 56},
    {30, "bf16", 1, 2},       {34, "tq1_0", 256, 54},   {35, "tq2_0", 256, 66},   {39, "mxfp4", 32, 17},
};

TEST(TensorType, EveryGgmlTypeHasGgmlGeometry) {
  for (const auto& e : kGgml) {
    auto info = tensor_type_info(e.type);
    ASSERT_TRUE(info.has_value()) << e.name;
    EXPECT_EQ(info->name, e.name);
    EXPECT_EQ(info->block_size, e.block) << e.name;
    EXPECT_EQ(info->type_size, e.size) << e.name;
  }
}

TEST(TensorType, RemovedAndOutOfRangeNumbersAreUnknown) {
  for (uint32_t t : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 41u, 0xffffffffu}) {
    EXPECT_FALSE(tensor_type_info(t).has_value()) << t;
  }
  EXPECT_EQ(tensor_type_name(TensorType(4)), "unknown");
  EXPECT_EQ(tensor_type_name(TensorType::Q4_K), "q4_K");
}

TEST(TensorType, RowBytes) {
  EXPECT_EQ(tensor_row_bytes(TensorType::F32, 10), 40u);
  EXPECT_EQ(tensor_row_bytes(TensorType::Q4_0, 64), 36u);
  EXPECT_EQ(tensor_row_bytes(TensorType::Q6_K, 4096), 16u * 210);
  EXPECT_THROW(tensor_row_bytes(TensorType::Q4_K, 100), Error);
  EXPECT_THROW(tensor_row_bytes(TensorType(31), 32), Error);
}

}  // namespace
}  // namespace hearth
