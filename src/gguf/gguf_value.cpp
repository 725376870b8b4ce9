#include <limits>
#include <string>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

bool is_unsigned(GgufValueType t) {
  return t == GgufValueType::UINT8 || t == GgufValueType::UINT16 || t == GgufValueType::UINT32 ||
         t == GgufValueType::UINT64;
}
bool is_signed(GgufValueType t) {
  return t == GgufValueType::INT8 || t == GgufValueType::INT16 || t == GgufValueType::INT32 ||
         t == GgufValueType::INT64;
}

[[noreturn]] void wrong_type(const GgufValue& v, const char* expected) {
  throw Error("metadata value is " + std::string(gguf_value_type_name(v.type)) + ", expected " + expected);
}

}  // namespace

std::string_view gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::UINT8: return "uint8";
    case GgufValueType::INT8: return "int8";
    case GgufValueType::UINT16: return "uint16";
    case GgufValueType::INT16: return "int16";
    case GgufValueType::UINT32: return "uint32";
    case GgufValueType::INT32: return "int32";
    case GgufValueType::FLOAT32: return "float32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::UINT64: return "uint64";
    case GgufValueType::INT64: return "int64";
    case GgufValueType::FLOAT64: return "float64";
  }
  return "unknown";
}

// Values hold their payload in the alternative matching `type` (unsigned -> uint64_t, signed -> int64_t,
// floats -> double); accessors also accept a mismatched alternative so hand-built values still work.
uint64_t GgufValue::as_u64() const {
  if (!is_unsigned(type) && !is_signed(type)) wrong_type(*this, "an unsigned integer");
  if (auto* u = std::get_if<uint64_t>(&data)) return *u;
  if (auto* i = std::get_if<int64_t>(&data)) {
    if (*i < 0) throw Error("metadata value " + std::to_string(*i) + " is negative, expected an unsigned integer");
    return static_cast<uint64_t>(*i);
  }
  wrong_type(*this, "an unsigned integer");
}

int64_t GgufValue::as_i64() const {
  if (!is_unsigned(type) && !is_signed(type)) wrong_type(*this, "an integer");
  if (auto* i = std::get_if<int64_t>(&data)) return *i;
  if (auto* u = std::get_if<uint64_t>(&data)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error("metadata value " + std::to_string(*u) + " does not fit in int64");
    }
    return static_cast<int64_t>(*u);
  }
  wrong_type(*this, "an integer");
}

double GgufValue::as_f64() const {
  if (auto* d = std::get_if<double>(&data); d && (type == GgufValueType::FLOAT32 || type == GgufValueType::FLOAT64)) {
    return *d;
  }
  if (is_unsigned(type) || is_signed(type)) {
    if (auto* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
    if (auto* i = std::get_if<int64_t>(&data)) return static_cast<double>(*i);
  }
  wrong_type(*this, "a number");
}

bool GgufValue::as_bool() const {
  auto* b = std::get_if<bool>(&data);
  if (type != GgufValueType::BOOL || !b) wrong_type(*this, "bool");
  return *b;
}

const std::string& GgufValue::as_string() const {
  auto* s = std::get_if<std::string>(&data);
  if (type != GgufValueType::STRING || !s) wrong_type(*this, "string");
  return *s;
}

const GgufArray& GgufValue::as_array() const {
  auto* a = std::get_if<GgufArray>(&data);
  if (type != GgufValueType::ARRAY || !a) wrong_type(*this, "array");
  return *a;
}

GgufValue GgufValue::u32(uint32_t v) { return {GgufValueType::UINT32, uint64_t{v}}; }
GgufValue GgufValue::i32(int32_t v) { return {GgufValueType::INT32, int64_t{v}}; }
GgufValue GgufValue::u64(uint64_t v) { return {GgufValueType::UINT64, v}; }
GgufValue GgufValue::f32(float v) { return {GgufValueType::FLOAT32, double{v}}; }
GgufValue GgufValue::boolean(bool v) { return {GgufValueType::BOOL, v}; }
GgufValue GgufValue::string(std::string v) { return {GgufValueType::STRING, std::move(v)}; }

GgufValue GgufValue::array(GgufValueType element_type, std::vector<GgufValue> items) {
  return {GgufValueType::ARRAY, GgufArray{element_type, std::move(items)}};
}

GgufValue GgufValue::string_array(const std::vector<std::string>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (const auto& s : v) items.push_back(string(s));
  return array(GgufValueType::STRING, std::move(items));
}

GgufValue GgufValue::f32_array(const std::vector<float>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (float f : v) items.push_back(f32(f));
  return array(GgufValueType::FLOAT32, std::move(items));
}

GgufValue GgufValue::i32_array(const std::vector<int32_t>& v) {
  std::vector<GgufValue> items;
  items.reserve(v.size());
  for (int32_t i : v) items.push_back(i32(i));
  return array(GgufValueType::INT32, std::move(items));
}

}  // namespace hearth
