// Cross-check against llama.cpp's own GGUF code: loads libggml-base.so from the node-llama-cpp prebuilt
// (tools/reference/node_modules) and (1) reads a hearth-written file with ggml's gguf reader, (2) compares
// hearth's bytes with the file ggml writes for the same metadata and tensors. Skips when the library is absent.
#include <dlfcn.h>

#include <filesystem>

#include <unistd.h>

#include "gguf_test_util.h"

namespace hearth {
namespace {

using test::Bytes;

// The few ggml/gguf C declarations used here (ggml.h / gguf.h of ggml 0.5).
struct gguf_init_params {
  bool no_alloc;
  void** ctx;
};
struct ggml_init_params {
  size_t mem_size;
  void* mem_buffer;
  bool no_alloc;
};

struct Ggml {
  void* lib = nullptr;
  void* (*init_from_file)(const char*, gguf_init_params) = nullptr;
  void* (*init_empty)() = nullptr;
  void (*free_gguf)(void*) = nullptr;
  uint32_t (*version)(const void*) = nullptr;
  size_t (*alignment)(const void*) = nullptr;
  size_t (*data_offset)(const void*) = nullptr;
  int64_t (*n_kv)(const void*) = nullptr;
  int64_t (*find_key)(const void*, const char*) = nullptr;
  int (*kv_type)(const void*, int64_t) = nullptr;
  int (*arr_type)(const void*, int64_t) = nullptr;
  size_t (*arr_n)(const void*, int64_t) = nullptr;
  const char* (*arr_str)(const void*, int64_t, size_t) = nullptr;
  const void* (*arr_data)(const void*, int64_t) = nullptr;
  uint32_t (*get_u32)(const void*, int64_t) = nullptr;
  int64_t (*get_i64)(const void*, int64_t) = nullptr;
  float (*get_f32)(const void*, int64_t) = nullptr;
  bool (*get_bool)(const void*, int64_t) = nullptr;
  const char* (*get_str)(const void*, int64_t) = nullptr;
  int64_t (*n_tensors)(const void*) = nullptr;
  int64_t (*find_tensor)(const void*, const char*) = nullptr;
  size_t (*tensor_offset)(const void*, int64_t) = nullptr;
  int (*tensor_type)(const void*, int64_t) = nullptr;
  bool (*write_to_file)(const void*, const char*, bool) = nullptr;
  void (*set_u32)(void*, const char*, uint32_t) = nullptr;
  void (*set_i64)(void*, const char*, int64_t) = nullptr;
  void (*set_f32)(void*, const char*, float) = nullptr;
  void (*set_bool)(void*, const char*, bool) = nullptr;
  void (*set_str)(void*, const char*, const char*) = nullptr;
  void (*set_arr_data)(void*, const char*, int, const void*, size_t) = nullptr;
  void (*set_arr_str)(void*, const char*, const char**, size_t) = nullptr;
  void (*add_tensor)(void*, const void*) = nullptr;
  void* (*ggml_init)(ggml_init_params) = nullptr;
  void (*ggml_free)(void*) = nullptr;
  void* (*new_tensor_2d)(void*, int, int64_t, int64_t) = nullptr;
  void* (*set_name)(void*, const char*) = nullptr;
  void* (*get_tensor)(void*, const char*) = nullptr;
  void* (*get_data)(const void*) = nullptr;
  size_t (*nbytes)(const void*) = nullptr;

  bool load() {
#if defined(__x86_64__) && defined(__linux__)
    const std::string path = std::string(HEARTH_SOURCE_DIR) +
                             "/tools/reference/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";
    lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
    if (!lib) return false;
    bool ok = true;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      ok = ok && fn != nullptr;
    };
    sym(init_from_file, "gguf_init_from_file");
    sym(init_empty, "gguf_init_empty");
    sym(free_gguf, "gguf_free");
    sym(version, "gguf_get_version");
    sym(alignment, "gguf_get_alignment");
    sym(data_offset, "gguf_get_data_offset");
    sym(n_kv, "gguf_get_n_kv");
    sym(find_key, "gguf_find_key");
    sym(kv_type, "gguf_get_kv_type");
    sym(arr_type, "gguf_get_arr_type");
    sym(arr_n, "gguf_get_arr_n");
    sym(arr_str, "gguf_get_arr_str");
    sym(arr_data, "gguf_get_arr_data");
    sym(get_u32, "gguf_get_val_u32");
    sym(get_i64, "gguf_get_val_i64");
    sym(get_f32, "gguf_get_val_f32");
    sym(get_bool, "gguf_get_val_bool");
    sym(get_str, "gguf_get_val_str");
    sym(n_tensors, "gguf_get_n_tensors");
    sym(find_tensor, "gguf_find_tensor");
    sym(tensor_offset, "gguf_get_tensor_offset");
    sym(tensor_type, "gguf_get_tensor_type");
    sym(write_to_file, "gguf_write_to_file");
    sym(set_u32, "gguf_set_val_u32");
    sym(set_i64, "gguf_set_val_i64");
    sym(set_f32, "gguf_set_val_f32");
    sym(set_bool, "gguf_set_val_bool");
    sym(set_str, "gguf_set_val_str");
    sym(set_arr_data, "gguf_set_arr_data");
    sym(set_arr_str, "gguf_set_arr_str");
    sym(add_tensor, "gguf_add_tensor");
    sym(ggml_init, "ggml_init");
    sym(ggml_free, "ggml_free");
    sym(new_tensor_2d, "ggml_new_tensor_2d");
    sym(set_name, "ggml_set_name");
    sym(get_tensor, "ggml_get_tensor");
    sym(get_data, "ggml_get_data");
    sym(nbytes, "ggml_nbytes");
    return ok;
  }
};

Ggml& ggml() {
  static Ggml g;
  static const bool loaded = g.load();
  if (!loaded) g.lib = nullptr;
  return g;
}

#define REQUIRE_GGML()                                                                  \
  if (!ggml().lib) GTEST_SKIP() << "libggml-base.so from node-llama-cpp not available"

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("hearth_") + std::to_string(::getpid()) + "_" + name))
      .string();
}

Bytes read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  Bytes b;
  if (!f) return b;
  uint8_t buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) b.insert(b.end(), buf, buf + n);
  std::fclose(f);
  return b;
}

const std::vector<int32_t> kIds = {3, -1, 70000};
const std::vector<float> kScores = {0.25f, -1.5f};

void fill_hearth(GgufWriter& w, const std::vector<uint8_t>& q4, const std::vector<float>& f32) {
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("llama.context_length", GgufValue::u32(2048));
  w.set("big", GgufValue{GgufValueType::INT64, int64_t{-5000000000}});
  w.set("eps", GgufValue::f32(1e-5f));
  w.set("flag", GgufValue::boolean(true));
  w.set("tokens", GgufValue::string_array({"<s>", "", "▁hi"}));
  w.set("ids", GgufValue::i32_array(kIds));
  w.set("scores", GgufValue::f32_array(kScores));
  w.add_tensor("tok_embd.weight", {32, 2}, TensorType::Q4_0, q4);
  std::vector<uint8_t> fb(f32.size() * 4);
  std::memcpy(fb.data(), f32.data(), fb.size());
  w.add_tensor("norm.weight", {5}, TensorType::F32, fb);  // ggml drops trailing 1 dims when writing
}

std::vector<uint8_t> q4_data() {
  std::vector<uint8_t> q4(36);
  for (size_t i = 0; i < q4.size(); ++i) q4[i] = uint8_t(i * 13 + 1);
  return q4;
}
const std::vector<float> kNorm = {1, 2, 3, 4, 5};

TEST(GgufGgmlCrossCheck, GgmlReadsWhatHearthWrites) {
  REQUIRE_GGML();
  auto& g = ggml();
  GgufWriter w;
  fill_hearth(w, q4_data(), kNorm);
  const std::string path = temp_path("x.gguf");
  w.write(path);

  void* data_ctx = nullptr;
  void* ctx = g.init_from_file(path.c_str(), gguf_init_params{false, &data_ctx});
  ASSERT_NE(ctx, nullptr) << "ggml rejected the file hearth wrote";
  const GgufFile ours = GgufFile::open(path);
  EXPECT_EQ(g.version(ctx), 3u);
  EXPECT_EQ(g.alignment(ctx), ours.alignment());
  EXPECT_EQ(g.data_offset(ctx), ours.data_offset());
  EXPECT_EQ(g.n_kv(ctx), 8);
  EXPECT_STREQ(g.get_str(ctx, g.find_key(ctx, "general.architecture")), "llama");
  EXPECT_EQ(g.get_u32(ctx, g.find_key(ctx, "llama.context_length")), 2048u);
  EXPECT_EQ(g.get_i64(ctx, g.find_key(ctx, "big")), -5000000000);
  EXPECT_EQ(g.get_f32(ctx, g.find_key(ctx, "eps")), 1e-5f);
  EXPECT_TRUE(g.get_bool(ctx, g.find_key(ctx, "flag")));
  const int64_t tok = g.find_key(ctx, "tokens");
  ASSERT_EQ(g.arr_n(ctx, tok), 3u);
  EXPECT_STREQ(g.arr_str(ctx, tok, 2), "▁hi");
  const int64_t ids = g.find_key(ctx, "ids");
  ASSERT_EQ(g.arr_n(ctx, ids), 3u);
  EXPECT_EQ(static_cast<const int32_t*>(g.arr_data(ctx, ids))[2], 70000);

  ASSERT_EQ(g.n_tensors(ctx), 2);
  for (const auto& t : ours.tensors()) {
    const int64_t i = g.find_tensor(ctx, t.name.c_str());
    ASSERT_GE(i, 0) << t.name;
    EXPECT_EQ(g.tensor_offset(ctx, i), t.offset) << t.name;
    EXPECT_EQ(g.tensor_type(ctx, i), static_cast<int>(t.type)) << t.name;
    const void* gt = g.get_tensor(data_ctx, t.name.c_str());
    ASSERT_NE(gt, nullptr) << t.name;
    ASSERT_EQ(g.nbytes(gt), t.n_bytes()) << t.name;
    auto ours_data = ours.tensor_data(t);
    EXPECT_EQ(std::memcmp(g.get_data(gt), ours_data.data(), ours_data.size()), 0) << t.name;
  }
  g.free_gguf(ctx);
  g.ggml_free(data_ctx);
  std::remove(path.c_str());
}

TEST(GgufGgmlCrossCheck, HearthBytesEqualGgmlBytes) {
  REQUIRE_GGML();
  auto& g = ggml();
  const auto q4 = q4_data();

  void* gctx = g.init_empty();
  g.set_str(gctx, "general.architecture", "llama");
  g.set_u32(gctx, "llama.context_length", 2048);
  g.set_i64(gctx, "big", -5000000000);
  g.set_f32(gctx, "eps", 1e-5f);
  g.set_bool(gctx, "flag", true);
  const char* toks[] = {"<s>", "", "▁hi"};
  g.set_arr_str(gctx, "tokens", toks, 3);
  g.set_arr_data(gctx, "ids", static_cast<int>(GgufValueType::INT32), kIds.data(), kIds.size());
  g.set_arr_data(gctx, "scores", static_cast<int>(GgufValueType::FLOAT32), kScores.data(), kScores.size());
  void* tctx = g.ggml_init(ggml_init_params{1 << 20, nullptr, false});
  ASSERT_NE(tctx, nullptr);
  void* a = g.new_tensor_2d(tctx, static_cast<int>(TensorType::Q4_0), 32, 2);
  g.set_name(a, "tok_embd.weight");
  std::memcpy(g.get_data(a), q4.data(), q4.size());
  void* b = g.new_tensor_2d(tctx, static_cast<int>(TensorType::F32), 5, 1);
  g.set_name(b, "norm.weight");
  std::memcpy(g.get_data(b), kNorm.data(), 20);
  g.add_tensor(gctx, a);
  g.add_tensor(gctx, b);
  const std::string ggml_path = temp_path("ggml.gguf");
  ASSERT_TRUE(g.write_to_file(gctx, ggml_path.c_str(), false));
  g.free_gguf(gctx);
  g.ggml_free(tctx);

  GgufWriter w;
  fill_hearth(w, q4, kNorm);
  const Bytes theirs = read_file(ggml_path);
  ASSERT_FALSE(theirs.empty());
  const Bytes ours = w.to_bytes();
  EXPECT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(ours == theirs) << "hearth and ggml wrote different bytes for the same content";
  // And hearth reads ggml's file.
  const GgufFile f = GgufFile::from_bytes(theirs);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.find_tensor("norm.weight")->dims, (std::vector<uint64_t>{5}));
  std::remove(ggml_path.c_str());
}

}  // namespace
}  // namespace hearth
