// Writer -> reader round trips: every metadata type, nested and empty arrays, tensor data, alignment.
#include <cmath>
#include <filesystem>
#include <limits>

#include <unistd.h>

#include "gguf_test_util.h"

namespace hearth {
namespace {

using test::Bytes;
using VT = GgufValueType;

GgufValue scalar(VT t, uint64_t u) { return {t, u}; }
GgufValue scalar(VT t, int64_t i) { return {t, i}; }
GgufValue scalar(VT t, double d) { return {t, d}; }

// Structural equality that treats NaN as equal to NaN and keeps -0.0 distinct from 0.0.
void expect_same(const GgufValue& a, const GgufValue& b, const std::string& where) {
  ASSERT_EQ(a.type, b.type) << where;
  switch (a.type) {
    case VT::FLOAT32: case VT::FLOAT64: {
      const double x = a.as_f64(), y = b.as_f64();
      if (std::isnan(x)) {
        EXPECT_TRUE(std::isnan(y)) << where;
      } else {
        EXPECT_EQ(x, y) << where;
        EXPECT_EQ(std::signbit(x), std::signbit(y)) << where;
      }
      return;
    }
    case VT::BOOL: EXPECT_EQ(a.as_bool(), b.as_bool()) << where; return;
    case VT::STRING: EXPECT_EQ(a.as_string(), b.as_string()) << where; return;
    case VT::ARRAY: {
      const auto& x = a.as_array();
      const auto& y = b.as_array();
      ASSERT_EQ(x.element_type, y.element_type) << where;
      ASSERT_EQ(x.items.size(), y.items.size()) << where;
      for (size_t i = 0; i < x.items.size(); ++i) expect_same(x.items[i], y.items[i], where + "[" + std::to_string(i) + "]");
      return;
    }
    case VT::UINT8: case VT::UINT16: case VT::UINT32: case VT::UINT64:
      EXPECT_EQ(a.as_u64(), b.as_u64()) << where;
      return;
    default: EXPECT_EQ(a.as_i64(), b.as_i64()) << where; return;
  }
}

std::vector<std::pair<std::string, GgufValue>> every_type() {
  std::vector<std::pair<std::string, GgufValue>> kv = {
      {"u8", scalar(VT::UINT8, uint64_t{255})},
      {"i8", scalar(VT::INT8, int64_t{-128})},
      {"u16", scalar(VT::UINT16, uint64_t{65535})},
      {"i16", scalar(VT::INT16, int64_t{-32768})},
      {"u32", GgufValue::u32(4294967295u)},
      {"i32", GgufValue::i32(std::numeric_limits<int32_t>::min())},
      {"f32", GgufValue::f32(-1.5e-38f)},
      {"f32.nan", GgufValue::f32(std::numeric_limits<float>::quiet_NaN())},
      {"f32.inf", GgufValue::f32(-std::numeric_limits<float>::infinity())},
      {"f32.negzero", GgufValue::f32(-0.0f)},
      {"bool.true", GgufValue::boolean(true)},
      {"bool.false", GgufValue::boolean(false)},
      {"str", GgufValue::string("héllo\n")},
      {"str.empty", GgufValue::string("")},
      {"str.nul", GgufValue::string(std::string("a\0b", 3))},
      {"u64", GgufValue::u64(std::numeric_limits<uint64_t>::max())},
      {"i64", scalar(VT::INT64, std::numeric_limits<int64_t>::min())},
      {"f64", scalar(VT::FLOAT64, 3.141592653589793)},
      {"arr.str", GgufValue::string_array({"a", "", "<s>", "▁the"})},
      {"arr.f32", GgufValue::f32_array({0.5f, -2.0f, 1e30f})},
      {"arr.i32", GgufValue::i32_array({-1, 0, 2147483647})},
      {"arr.bool", GgufValue::array(VT::BOOL, {GgufValue::boolean(true), GgufValue::boolean(false)})},
      {"arr.u64", GgufValue::array(VT::UINT64, {GgufValue::u64(1), GgufValue::u64(1ull << 63)})},
      {"arr.f64", GgufValue::array(VT::FLOAT64, {scalar(VT::FLOAT64, -0.25)})},
      {"arr.i8", GgufValue::array(VT::INT8, {scalar(VT::INT8, int64_t{-7})})},
      {"arr.u16", GgufValue::array(VT::UINT16, {scalar(VT::UINT16, uint64_t{40000})})},
      {"arr.nested", GgufValue::array(VT::ARRAY, {GgufValue::i32_array({1, 2}), GgufValue::string_array({"x"}),
                                                  GgufValue::array(VT::FLOAT32, {})})},
  };
  // An empty array of every element type, including arrays.
  for (uint32_t t = 0; t <= static_cast<uint32_t>(VT::FLOAT64); ++t) {
    kv.emplace_back("empty." + std::string(gguf_value_type_name(VT(t))), GgufValue::array(VT(t), {}));
  }
  // Arrays nested 8 deep, the most the reader accepts.
  GgufValue deep = GgufValue::array(VT::UINT8, {scalar(VT::UINT8, uint64_t{42})});
  for (int i = 1; i < 8; ++i) deep = GgufValue::array(VT::ARRAY, {deep});
  kv.emplace_back("arr.deep8", deep);
  return kv;
}

TEST(GgufRoundTrip, EveryMetadataType) {
  GgufWriter w;
  const auto kv = every_type();
  for (const auto& [k, v] : kv) w.set(k, v);
  const GgufFile f = GgufFile::from_bytes(w.to_bytes());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  ASSERT_EQ(f.metadata().size(), kv.size());
  for (const auto& [k, v] : kv) {
    const GgufValue* got = f.find(k);
    ASSERT_NE(got, nullptr) << k;
    expect_same(v, *got, k);
  }
}

TEST(GgufRoundTrip, MetadataKeepsInsertionOrderAndSetReplacesInPlace) {
  GgufWriter w;
  w.set("zeta", GgufValue::u32(1));
  w.set("alpha", GgufValue::u32(2));
  w.set("mid", GgufValue::u32(3));
  w.set("zeta", GgufValue::string("replaced"));
  const Bytes b = w.to_bytes();
  const size_t z = test::find_bytes(b, "zeta"), a = test::find_bytes(b, "alpha"), m = test::find_bytes(b, "mid");
  EXPECT_LT(z, a);
  EXPECT_LT(a, m);
  EXPECT_EQ(test::get<uint64_t>(b, 16), 3u);  // n_kv: replacing did not add a key
  const GgufFile f = GgufFile::from_bytes(b);
  EXPECT_EQ(f.get_string("zeta"), "replaced");
}

TEST(GgufRoundTrip, TensorDataAndLookups) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::string("llama"));
  std::vector<uint8_t> q4(2 * 3 * 18), q6(210), f16(6 * 2);
  for (size_t i = 0; i < q4.size(); ++i) q4[i] = uint8_t(i * 7);
  for (size_t i = 0; i < q6.size(); ++i) q6[i] = uint8_t(255 - i);
  for (size_t i = 0; i < f16.size(); ++i) f16[i] = uint8_t(i + 1);
  w.add_tensor("q4", {64, 3}, TensorType::Q4_0, q4);
  w.add_tensor("f32", {3, 1, 1, 2}, TensorType::F32, test::f32_bytes({1, 2, 3, 4, 5, 6}));
  w.add_tensor("q6k", {256}, TensorType::Q6_K, q6);
  w.add_tensor("f16", {6}, TensorType::F16, f16);
  const GgufFile f = GgufFile::from_bytes(w.to_bytes());
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.tensors()[0].name, "q4");  // file order preserved
  EXPECT_EQ(f.data_offset() % 32, 0u);

  const GgufTensorInfo* t = f.find_tensor("q4");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<uint64_t>{64, 3}));
  EXPECT_EQ(t->type, TensorType::Q4_0);
  EXPECT_EQ(t->n_elements(), 192u);
  EXPECT_EQ(t->n_bytes(), q4.size());
  auto d = f.tensor_data(*t);
  EXPECT_EQ(std::vector<uint8_t>(d.begin(), d.end()), q4);

  const GgufTensorInfo* s = f.find_tensor("f32");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->offset % 32, 0u);
  auto sd = f.tensor_data(*s);
  ASSERT_EQ(sd.size(), 24u);
  float v[6];
  std::memcpy(v, sd.data(), 24);
  EXPECT_EQ(v[5], 6.0f);

  auto k = f.tensor_data(*f.find_tensor("q6k"));
  EXPECT_EQ(std::vector<uint8_t>(k.begin(), k.end()), q6);
  auto h = f.tensor_data(*f.find_tensor("f16"));
  EXPECT_EQ(std::vector<uint8_t>(h.begin(), h.end()), f16);
  EXPECT_EQ(f.find_tensor("missing"), nullptr);
}

TEST(GgufRoundTrip, CustomAlignment) {
  for (uint32_t align : {1u, 8u, 64u, 4096u}) {
    GgufWriter w;
    w.set("general.alignment", GgufValue::u32(align));
    w.add_tensor("a", {3}, TensorType::F32, test::f32_bytes({1, 2, 3}));
    w.add_tensor("b", {1}, TensorType::I8, {9});
    const Bytes bytes = w.to_bytes();
    const GgufFile f = GgufFile::from_bytes(bytes);
    EXPECT_EQ(f.alignment(), align);
    EXPECT_EQ(f.data_offset() % align, 0u);
    const auto* b = f.find_tensor("b");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->offset % align, 0u);
    EXPECT_EQ(f.tensor_data(*b)[0], 9);
    EXPECT_EQ(bytes.size() % align, 0u) << "last tensor padded like ggml";
  }
}

TEST(GgufRoundTrip, WriteToFileAndOpenWithMmap) {
  const auto dir = std::filesystem::temp_directory_path() / ("hearth_gguf_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.gguf").string();
  GgufWriter w;
  w.set("general.name", GgufValue::string("tiny"));
  w.add_tensor("t", {4}, TensorType::F32, test::f32_bytes({1, 2, 3, 4}));
  w.write(path);
  w.write(path);  // overwriting an existing file goes through the same temp+rename
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "no temporary file left behind";

  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.file_size(), std::filesystem::file_size(path));
  EXPECT_EQ(f.get_string("general.name"), "tiny");
  auto d = f.tensor_data(f.tensors().at(0));
  float v[4];
  std::memcpy(v, d.data(), 16);
  EXPECT_EQ(v[3], 4.0f);
  GgufFile moved = std::move(f);  // the mapping moves with the object
  EXPECT_EQ(moved.tensor_data(moved.tensors().at(0)).size(), 16u);
  std::filesystem::remove_all(dir);
}

TEST(GgufRoundTrip, OpenMissingOrEmptyFileNamesThePath) {
  try {
    GgufFile::open("/nonexistent/dir/x.gguf");
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.gguf"), std::string::npos) << e.what();
  }
  const auto path = std::filesystem::temp_directory_path() / ("hearth_empty_" + std::to_string(::getpid()) + ".gguf");
  { std::FILE* f = std::fopen(path.c_str(), "wb"); ASSERT_NE(f, nullptr); std::fclose(f); }
  try {
    GgufFile::open(path.string());
    FAIL() << "opened an empty file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(GgufValue, AccessorsConvertAndNameTypes) {
  EXPECT_EQ(GgufValue::i32(5).as_u64(), 5u);
  EXPECT_EQ(GgufValue::u32(7).as_i64(), 7);
  EXPECT_EQ(GgufValue::u32(7).as_f64(), 7.0);
  EXPECT_EQ(GgufValue::f32(0.5f).as_f64(), 0.5);
  try {
    GgufValue::i32(-1).as_u64();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("negative"), std::string::npos) << e.what();
  }
  try {
    GgufValue::u32(1).as_string();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uint32"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("string"), std::string::npos) << e.what();
  }
  EXPECT_THROW(GgufValue::u64(~0ull).as_i64(), Error);
  EXPECT_THROW(GgufValue::string("1").as_f64(), Error);
  EXPECT_THROW(GgufValue::u32(1).as_bool(), Error);
  EXPECT_THROW(GgufValue::boolean(true).as_array(), Error);
}

TEST(GgufFileLookups, DefaultsMissingKeysAndTypeErrorsNameTheKey) {
  GgufWriter w;
  w.set("llama.context_length", GgufValue::u32(4096));
  w.set("llama.rope.freq_base", GgufValue::f32(10000.0f));
  w.set("general.name", GgufValue::string("x"));
  w.set("flag", GgufValue::boolean(true));
  const GgufFile f = GgufFile::from_bytes(w.to_bytes());
  EXPECT_EQ(f.get_u64("llama.context_length", 0), 4096u);
  EXPECT_EQ(f.get_u64("absent", 17), 17u);
  EXPECT_EQ(f.get_f64("llama.rope.freq_base", 0), 10000.0);
  EXPECT_EQ(f.get_string("absent", "fb"), "fb");
  EXPECT_TRUE(f.get_bool("flag", false));
  try {
    f.get("absent.key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing metadata key 'absent.key'"), std::string::npos) << e.what();
  }
  try {
    f.get_u64("general.name", 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.name"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("string"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hearth
