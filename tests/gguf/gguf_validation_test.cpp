// Hostile files: each rule the reader enforces, checked by corrupting a file the writer made.
#include <limits>

#include "gguf_test_util.h"

namespace hearth {
namespace {

using test::Bytes;
using test::find_bytes;
using test::put;
using test::RawGguf;
using VT = GgufValueType;

constexpr size_t kNTensorsAt = 8, kNKvAt = 16;

// Two metadata keys and two tensors; the last tensor is 32 bytes so the file has no trailing padding.
Bytes small_file() {
  GgufWriter w;
  w.set("general.name", GgufValue::string("small"));
  w.set("tok.list", GgufValue::string_array({"ab", "cd"}));
  w.set("flag", GgufValue::boolean(true));
  w.add_tensor("wq", {32, 1}, TensorType::Q4_0, std::vector<uint8_t>(18, 1));
  w.add_tensor("wk", {8}, TensorType::F32, test::f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  return w.to_bytes();
}

// Offset of the tensor info fields of tensor `name` (a unique 2-byte name) in the file.
struct InfoAt {
  size_t n_dims, dims, type, offset;
};
InfoAt tensor_info_at(const Bytes& b, std::string_view name, uint32_t n_dims) {
  const size_t name_at = find_bytes(b, std::string("\x02\0\0\0\0\0\0\0", 8) + std::string(name)) + 8;
  InfoAt at;
  at.n_dims = name_at + name.size();
  at.dims = at.n_dims + 4;
  at.type = at.dims + 8 * n_dims;
  at.offset = at.type + 4;
  return at;
}

TEST(GgufValidation, SmallFileIsValid) {
  const GgufFile f = GgufFile::from_bytes(small_file());
  EXPECT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.data_offset() + f.tensors()[1].offset + 32, f.file_size());
}

TEST(GgufValidation, EveryTruncatedPrefixIsRejected) {
  const Bytes b = small_file();
  for (size_t n = 0; n < b.size(); ++n) {
    const Bytes prefix(b.begin(), b.begin() + n);
    EXPECT_THROW(GgufFile::from_bytes(prefix), Error) << "prefix of " << n << " bytes parsed";
  }
}

TEST(GgufValidation, BadMagic) {
  Bytes b = small_file();
  b[0] = 'X';
  EXPECT_PARSE_ERROR(b, "not a GGUF file", "XGUF");
}

TEST(GgufValidation, VersionOneAndUnknownVersions) {
  Bytes b = small_file();
  put<uint32_t>(b, 4, 1);
  EXPECT_PARSE_ERROR(b, "version 1");
  put<uint32_t>(b, 4, 4);
  EXPECT_PARSE_ERROR(b, "unsupported GGUF version 4");
  put<uint32_t>(b, 4, 0);
  EXPECT_PARSE_ERROR(b, "unsupported GGUF version 0");
}

TEST(GgufValidation, VersionTwoIsAccepted) {
  Bytes b = small_file();
  put<uint32_t>(b, 4, 2);
  EXPECT_EQ(GgufFile::from_bytes(b).version(), 2u);
}

TEST(GgufValidation, BigEndianRejectedClearly) {
  Bytes b = small_file();
  put<uint32_t>(b, 4, __builtin_bswap32(3));
  EXPECT_PARSE_ERROR(b, "big-endian");
}

TEST(GgufValidation, HugeCountsRejectedBeforeAllocating) {
  Bytes b = small_file();
  put<uint64_t>(b, kNKvAt, std::numeric_limits<uint64_t>::max());
  EXPECT_PARSE_ERROR(b, "18446744073709551615 metadata entries");
  b = small_file();
  put<uint64_t>(b, kNTensorsAt, uint64_t{1} << 40);
  EXPECT_PARSE_ERROR(b, "1099511627776 tensors");
}

TEST(GgufValidation, StringLengthPastEnd) {
  Bytes b = small_file();
  const size_t key_len_at = find_bytes(b, "general.name") - 8;
  put<uint64_t>(b, key_len_at, uint64_t{1} << 62);
  EXPECT_PARSE_ERROR(b, "key length 4611686018427387904", "past end of file");
  b = small_file();
  const size_t val_len_at = find_bytes(b, "small") - 8;
  put<uint64_t>(b, val_len_at, 1000000);
  EXPECT_PARSE_ERROR(b, "general.name", "string length 1000000");
}

TEST(GgufValidation, ArrayLengthPastEnd) {
  Bytes b = small_file();
  const size_t count_at = find_bytes(b, "tok.list") + 8 + 4 + 4;  // key, value type, element type
  ASSERT_EQ(test::get<uint64_t>(b, count_at), 2u);
  put<uint64_t>(b, count_at, uint64_t{1} << 60);
  EXPECT_PARSE_ERROR(b, "tok.list", "array of 1152921504606846976 string");
}

TEST(GgufValidation, NestedArrayLengthPastEnd) {
  RawGguf r;
  r.header(0, 1).str("nest").le<uint32_t>(9).le<uint32_t>(9).le<uint64_t>(1);  // array of 1 array
  r.le<uint32_t>(5).le<uint64_t>(uint64_t{1} << 40);                            // of 2^40 int32
  EXPECT_PARSE_ERROR(r.b, "nest", "array of 1099511627776 int32");
}

TEST(GgufValidation, NestingDepthCapped) {
  auto nested = [](int depth) {
    RawGguf r;
    r.header(0, 1).str("deep").le<uint32_t>(9);
    for (int i = 1; i < depth; ++i) r.le<uint32_t>(9).le<uint64_t>(1);
    r.le<uint32_t>(0).le<uint64_t>(0);
    return r.b;
  };
  EXPECT_NO_THROW(GgufFile::from_bytes(nested(8)));
  EXPECT_PARSE_ERROR(nested(9), "deep", "nested more than 8");
  EXPECT_PARSE_ERROR(nested(100000), "deep", "nested more than 8");
}

TEST(GgufValidation, DuplicateKey) {
  GgufWriter w;
  w.set("key.aa", GgufValue::u32(1));
  w.set("key.ab", GgufValue::u32(2));
  Bytes b = w.to_bytes();
  b[find_bytes(b, "key.ab") + 5] = 'a';
  EXPECT_PARSE_ERROR(b, "duplicate metadata key 'key.aa'");
}

TEST(GgufValidation, DuplicateTensorName) {
  Bytes b = small_file();
  b[find_bytes(b, "wk")] = 'w';
  b[find_bytes(b, "wk") + 1] = 'q';
  EXPECT_PARSE_ERROR(b, "duplicate tensor name 'wq'");
}

TEST(GgufValidation, UnknownValueTypes) {
  Bytes b = small_file();
  const size_t type_at = find_bytes(b, "general.name") + 12;
  put<uint32_t>(b, type_at, 13);
  EXPECT_PARSE_ERROR(b, "general.name", "unknown value type 13");
  b = small_file();
  const size_t elem_at = find_bytes(b, "tok.list") + 8 + 4;
  put<uint32_t>(b, elem_at, 0xdeadbeef);
  EXPECT_PARSE_ERROR(b, "tok.list", "unknown array element type 3735928559");
}

TEST(GgufValidation, BoolMustBeZeroOrOne) {
  Bytes b = small_file();
  b[find_bytes(b, "flag") + 4 + 4] = 2;
  EXPECT_PARSE_ERROR(b, "flag", "expected 0 or 1");
}

TEST(GgufValidation, UnknownTensorTypes) {
  for (uint32_t bad : {4u, 5u, 31u, 36u, 40u, 1000u}) {
    Bytes b = small_file();
    put<uint32_t>(b, tensor_info_at(b, "wk", 1).type, bad);
    const std::string want = "unknown tensor type " + std::to_string(bad);
    EXPECT_PARSE_ERROR(b, "'wk'", want.c_str());
  }
}

TEST(GgufValidation, DimCountZeroOrAboveFour) {
  Bytes b = small_file();
  const auto at = tensor_info_at(b, "wk", 1);
  put<uint32_t>(b, at.n_dims, 5);
  EXPECT_PARSE_ERROR(b, "'wk'", "has 5 dims");
  put<uint32_t>(b, at.n_dims, 0);
  EXPECT_PARSE_ERROR(b, "'wk'", "has 0 dims");
  put<uint32_t>(b, at.n_dims, 0xffffffff);
  EXPECT_PARSE_ERROR(b, "'wk'", "has 4294967295 dims");
}

TEST(GgufValidation, ZeroDim) {
  Bytes b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wq", 2).dims + 8, 0);
  EXPECT_PARSE_ERROR(b, "'wq'", "dim 1 of [32, 0] is 0");
}

TEST(GgufValidation, ElementCountOverflow) {
  Bytes b = small_file();
  const auto at = tensor_info_at(b, "wq", 2);
  put<uint64_t>(b, at.dims, uint64_t{1} << 40);
  put<uint64_t>(b, at.dims + 8, uint64_t{1} << 30);
  EXPECT_PARSE_ERROR(b, "'wq'", "overflows");
}

TEST(GgufValidation, RowNotMultipleOfBlockSize) {
  Bytes b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wq", 2).dims, 33);
  EXPECT_PARSE_ERROR(b, "'wq'", "ne[0] = 33", "q4_0 block size 32");
}

TEST(GgufValidation, TensorDataPastEndOfFile) {
  Bytes b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wk", 1).offset, 1024);
  EXPECT_PARSE_ERROR(b, "'wk'", "past end of file");
  b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wk", 1).offset, std::numeric_limits<uint64_t>::max() - 31);
  EXPECT_PARSE_ERROR(b, "'wk'", "overflows");
  b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wk", 1).dims, 16);  // twice the bytes that are there
  EXPECT_PARSE_ERROR(b, "'wk'", "past end of file");
}

TEST(GgufValidation, UnalignedOffset) {
  Bytes b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wk", 1).offset, 4);
  EXPECT_PARSE_ERROR(b, "'wk'", "offset 4", "alignment 32");
}

TEST(GgufValidation, OverlappingTensors) {
  Bytes b = small_file();
  put<uint64_t>(b, tensor_info_at(b, "wk", 1).offset, 0);
  EXPECT_PARSE_ERROR(b, "'wq'", "'wk'", "overlap");
}

TEST(GgufValidation, AlignmentMustBePowerOfTwoUint32) {
  GgufWriter w;
  w.set("general.alignment", GgufValue::u32(32));
  w.add_tensor("wk", {8}, TensorType::F32, test::f32_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  const Bytes good = w.to_bytes();
  const size_t type_at = find_bytes(good, "general.alignment") + 17;
  for (uint32_t bad : {0u, 48u, 3u}) {
    Bytes b = good;
    put<uint32_t>(b, type_at + 4, bad);
    const std::string want = "is " + std::to_string(bad);
    EXPECT_PARSE_ERROR(b, "general.alignment", want.c_str(), "power of two");
  }
  Bytes b = good;
  put<uint32_t>(b, type_at, static_cast<uint32_t>(VT::INT32));
  EXPECT_PARSE_ERROR(b, "general.alignment must be uint32, got int32");
}

}  // namespace
}  // namespace hearth
