// The writer's bytes checked field by field against the GGUF v3 spec, and the writer's own validation.
#include <cmath>
#include <functional>
#include <limits>

#include "gguf_test_util.h"

namespace hearth {
namespace {

using test::Bytes;
using test::RawGguf;

TEST(GgufLayout, TinyFileMatchesSpecByteForByte) {
  GgufWriter w;
  w.set("a", GgufValue::u32(7));
  w.set("s", GgufValue::string_array({"xy"}));
  w.add_tensor("t", {2}, TensorType::F32, test::f32_bytes({1.0f, 2.0f}));
  const Bytes got = w.to_bytes();

  RawGguf want;
  want.header(/*n_tensors=*/1, /*n_kv=*/2, /*version=*/3);            // 24 bytes
  want.str("a").le<uint32_t>(4).le<uint32_t>(7);                     // key, UINT32, value: 17 bytes
  want.str("s").le<uint32_t>(9).le<uint32_t>(8).le<uint64_t>(1).str("xy");  // ARRAY of STRING: 35 bytes
  want.str("t").le<uint32_t>(1).le<uint64_t>(2).le<uint32_t>(0).le<uint64_t>(0);  // tensor info: 33 bytes
  ASSERT_EQ(want.b.size(), 109u);
  want.b.resize(128, 0);                                             // data section aligned to 32
  want.le<float>(1.0f).le<float>(2.0f);
  want.b.resize(160, 0);                                             // last tensor padded to 32 as ggml does
  EXPECT_EQ(got, want.b);
}

TEST(GgufLayout, SecondTensorOffsetIsPaddedSizeOfFirst) {
  GgufWriter w;
  w.add_tensor("a", {3}, TensorType::F32, test::f32_bytes({1, 2, 3}));  // 12 bytes -> next at 32
  w.add_tensor("b", {32}, TensorType::Q8_0, std::vector<uint8_t>(34, 5));  // 34 bytes -> next at 96
  w.add_tensor("c", {1}, TensorType::I32, {1, 0, 0, 0});
  const GgufFile f = GgufFile::from_bytes(w.to_bytes());
  EXPECT_EQ(f.find_tensor("a")->offset, 0u);
  EXPECT_EQ(f.find_tensor("b")->offset, 32u);
  EXPECT_EQ(f.find_tensor("c")->offset, 96u);
  EXPECT_EQ(f.file_size(), f.data_offset() + 128);
}

std::string writer_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected hearth::Error";
  return "";
}

#define EXPECT_WRITER_ERROR(stmt, part) \
  EXPECT_NE(writer_error([&] { stmt; }).find(part), std::string::npos) << writer_error([&] { stmt; })

TEST(GgufWriterValidation, TensorArguments) {
  GgufWriter w;
  EXPECT_WRITER_ERROR(w.add_tensor("t", {4}, TensorType::F32, std::vector<uint8_t>(15)), "data is 15 bytes");
  EXPECT_WRITER_ERROR(w.add_tensor("t", {33}, TensorType::Q4_0, std::vector<uint8_t>(18)), "block size 32");
  EXPECT_WRITER_ERROR(w.add_tensor("t", {4, 0}, TensorType::F32, {}), "is 0");
  EXPECT_WRITER_ERROR(w.add_tensor("t", {1, 1, 1, 1, 1}, TensorType::F32, std::vector<uint8_t>(4)), "5 dims");
  EXPECT_WRITER_ERROR(w.add_tensor("t", {}, TensorType::F32, {}), "0 dims");
  EXPECT_WRITER_ERROR(w.add_tensor("t", {4}, TensorType(4), std::vector<uint8_t>(4)), "unknown tensor type 4");
  EXPECT_WRITER_ERROR(w.add_tensor("", {1}, TensorType::F32, std::vector<uint8_t>(4)), "tensor name");
  EXPECT_WRITER_ERROR(w.add_tensor(std::string(64, 'x'), {1}, TensorType::F32, std::vector<uint8_t>(4)), "1 to 63");
  w.add_tensor("t", {1}, TensorType::F32, std::vector<uint8_t>(4));
  EXPECT_WRITER_ERROR(w.add_tensor("t", {1}, TensorType::F32, std::vector<uint8_t>(4)), "duplicate tensor name 't'");
}

TEST(GgufWriterValidation, MetadataValues) {
  auto bytes_with = [](GgufValue v) {
    GgufWriter w;
    w.set("k", std::move(v));
    return w.to_bytes();
  };
  EXPECT_WRITER_ERROR(bytes_with({GgufValueType::UINT8, uint64_t{256}}), "'k': value 256 does not fit in uint8");
  EXPECT_WRITER_ERROR(bytes_with({GgufValueType::INT16, int64_t{-40000}}), "does not fit in int16");
  EXPECT_WRITER_ERROR(bytes_with({GgufValueType::FLOAT32, 1e300}), "does not fit in float32");
  EXPECT_WRITER_ERROR(bytes_with({GgufValueType::STRING, uint64_t{1}}), "expected string");
  EXPECT_WRITER_ERROR(bytes_with(GgufValue::array(GgufValueType::INT32, {GgufValue::u32(1)})),
                      "array item #0 is uint32");
  EXPECT_WRITER_ERROR(bytes_with({GgufValueType(13), uint64_t{1}}), "unknown value type 13");
  GgufValue deep = GgufValue::array(GgufValueType::UINT8, {});
  for (int i = 1; i < 9; ++i) deep = GgufValue::array(GgufValueType::ARRAY, {deep});
  EXPECT_WRITER_ERROR(bytes_with(deep), "nested more than 8");
  // Infinity and NaN are representable, so they are written.
  EXPECT_NO_THROW(bytes_with(GgufValue{GgufValueType::FLOAT32, std::numeric_limits<double>::infinity()}));

  GgufWriter w;
  EXPECT_WRITER_ERROR(w.set("general.alignment", GgufValue::u32(48)), "power of two");
  EXPECT_WRITER_ERROR(w.set("general.alignment", GgufValue::u64(32)), "must be uint32");
}

TEST(GgufWriterValidation, WriteToMissingDirectoryFails) {
  GgufWriter w;
  EXPECT_WRITER_ERROR(w.write("/nonexistent-dir/x.gguf"), "/nonexistent-dir/x.gguf");
}

}  // namespace
}  // namespace hearth
