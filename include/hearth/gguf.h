#pragma once
// GGUF (v2/v3) reader and writer.
//
// The reader maps the file and validates every length, offset and count against the file size before
// trusting it: a hostile file yields hearth::Error naming what is wrong, never a crash or an allocation
// larger than the file.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hearth/tensor_type.h"

namespace hearth {

enum class GgufValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

// A metadata value. Arrays keep their element type (so an empty array still says what it holds) and
// may nest.
struct GgufValue;
struct GgufArray {
  GgufValueType element_type = GgufValueType::UINT8;
  std::vector<GgufValue> items;
};
struct GgufValue {
  GgufValueType type = GgufValueType::UINT8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> data;

  // Typed accessors; throw hearth::Error naming the expected and actual type.
  uint64_t as_u64() const;   // any unsigned or non-negative signed integer
  int64_t as_i64() const;    // any integer
  double as_f64() const;     // any number
  bool as_bool() const;
  const std::string& as_string() const;
  const GgufArray& as_array() const;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue string(std::string v);
  static GgufValue array(GgufValueType element_type, std::vector<GgufValue> items);
  static GgufValue string_array(const std::vector<std::string>& v);
  static GgufValue f32_array(const std::vector<float>& v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
};

std::string_view gguf_value_type_name(GgufValueType t);

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] is the fastest-varying (row length), as in ggml
  TensorType type = TensorType::F32;
  uint64_t offset = 0;         // relative to the start of the data section
  uint64_t n_elements() const;
  uint64_t n_bytes() const;
};

// A GGUF file opened for reading; tensor data stays memory-mapped (or in an owned buffer when
// opened from memory) for the object's lifetime.
class GgufFile {
 public:
  static GgufFile open(const std::string& path);
  // Parses a copy of bytes; used by tests, fuzzers and the browser build.
  static GgufFile from_bytes(std::span<const uint8_t> bytes);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  uint32_t version() const;
  uint64_t alignment() const;
  uint64_t file_size() const;
  uint64_t data_offset() const;   // absolute offset of the tensor data section

  const std::map<std::string, GgufValue>& metadata() const;
  const GgufValue* find(std::string_view key) const;        // nullptr when absent
  const GgufValue& get(std::string_view key) const;          // throws "missing metadata key ..."
  // Convenience lookups with defaults.
  std::string get_string(std::string_view key, std::string_view fallback = {}) const;
  uint64_t get_u64(std::string_view key, uint64_t fallback) const;
  double get_f64(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;

  const std::vector<GgufTensorInfo>& tensors() const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent
  // Bytes of a tensor's data (bounds already validated at open).
  std::span<const uint8_t> tensor_data(const GgufTensorInfo& t) const;

 private:
  struct Impl;
  explicit GgufFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Builds a GGUF v3 file: metadata in insertion order, tensors aligned to `general.alignment` (32 unless
// set). Used for fixtures and tools.
class GgufWriter {
 public:
  void set(std::string key, GgufValue value);   // replaces an existing key, keeps its position
  // `data` must be exactly n_bytes for the dims and type.
  void add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, std::vector<uint8_t> data);
  void write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

 private:
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  struct PendingTensor {
    std::string name;
    std::vector<uint64_t> dims;
    TensorType type;
    std::vector<uint8_t> data;
  };
  std::vector<PendingTensor> tensors_;
};

}  // namespace hearth
