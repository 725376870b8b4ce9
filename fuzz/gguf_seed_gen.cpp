// Writes a few small, valid GGUF files as the fuzzer's seed corpus: gguf_seed_gen <dir>
#include <cstdio>
#include <string>
#include <vector>

#include "hearth/error.h"
#include "hearth/gguf.h"

using namespace hearth;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  try {
    {  // every metadata type, nested and empty arrays
      GgufWriter w;
      w.set("general.architecture", GgufValue::string("llama"));
      w.set("u8", GgufValue{GgufValueType::UINT8, uint64_t{200}});
      w.set("i8", GgufValue{GgufValueType::INT8, int64_t{-3}});
      w.set("u16", GgufValue{GgufValueType::UINT16, uint64_t{60000}});
      w.set("i16", GgufValue{GgufValueType::INT16, int64_t{-300}});
      w.set("u32", GgufValue::u32(4096));
      w.set("i32", GgufValue::i32(-7));
      w.set("f32", GgufValue::f32(1e-5f));
      w.set("bool", GgufValue::boolean(true));
      w.set("u64", GgufValue::u64(1ull << 40));
      w.set("i64", GgufValue{GgufValueType::INT64, int64_t{-1} << 40});
      w.set("f64", GgufValue{GgufValueType::FLOAT64, 2.5});
      w.set("tokens", GgufValue::string_array({"<s>", "</s>", "a", "b"}));
      w.set("scores", GgufValue::f32_array({0, -1, -2, -3}));
      w.set("types", GgufValue::i32_array({3, 3, 1, 1}));
      w.set("nested", GgufValue::array(GgufValueType::ARRAY, {GgufValue::i32_array({1}), GgufValue::string_array({})}));
      w.set("empty", GgufValue::array(GgufValueType::UINT64, {}));
      w.write(dir + "/metadata.gguf");
    }
    {  // tensors of several types, default alignment
      GgufWriter w;
      w.set("general.name", GgufValue::string("t"));
      w.add_tensor("f32", {4, 2}, TensorType::F32, std::vector<uint8_t>(32, 1));
      w.add_tensor("q4_0", {32, 2}, TensorType::Q4_0, std::vector<uint8_t>(36, 2));
      w.add_tensor("q8_0", {32}, TensorType::Q8_0, std::vector<uint8_t>(34, 3));
      w.add_tensor("q4_k", {256}, TensorType::Q4_K, std::vector<uint8_t>(144, 4));
      w.add_tensor("f16.4d", {2, 1, 1, 2}, TensorType::F16, std::vector<uint8_t>(8, 5));
      w.write(dir + "/tensors.gguf");
    }
    {  // custom alignment
      GgufWriter w;
      w.set("general.alignment", GgufValue::u32(16));
      w.add_tensor("a", {3}, TensorType::I8, {1, 2, 3});
      w.add_tensor("b", {1}, TensorType::I64, std::vector<uint8_t>(8, 9));
      w.write(dir + "/aligned16.gguf");
    }
    {  // empty file body: header only
      GgufWriter w;
      w.write(dir + "/empty.gguf");
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "gguf_seed_gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
