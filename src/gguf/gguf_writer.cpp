#include <atomic>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "gguf_format.h"
#include "hearth/error.h"
#include "hearth/gguf.h"

#if !defined(__EMSCRIPTEN__)
#include <unistd.h>
#endif

namespace hearth {

using namespace gguf_format;

namespace {

constexpr size_t kMaxTensorName = 63;  // llama.cpp rejects names of GGML_MAX_NAME (64) bytes or more

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void bytes(const void* p, size_t n) = 0;
  uint64_t written = 0;

  template <class T>
  void le(T v) {  // host is little-endian (asserted in the reader)
    bytes(&v, sizeof v);
  }
  void zeros(uint64_t n) {
    static const uint8_t kZero[64] = {};
    while (n > 0) {
      const size_t k = n < sizeof kZero ? size_t(n) : sizeof kZero;
      bytes(kZero, k);
      n -= k;
    }
  }
  void string(const std::string& s) {
    le<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
};

class VectorSink : public Sink {
 public:
  std::vector<uint8_t> out;
  void bytes(const void* p, size_t n) override {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
    written += n;
  }
};

class FileSink : public Sink {
 public:
  FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  void bytes(const void* p, size_t n) override {
    if (n && std::fwrite(p, 1, n, f_) != n) throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
    written += n;
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

uint64_t pad_to(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

uint64_t checked_alignment(const GgufValue& v) {
  if (v.type != GgufValueType::UINT32) {
    throw Error(std::string(kAlignmentKey) + " must be uint32, got " + std::string(gguf_value_type_name(v.type)));
  }
  const uint64_t a = v.as_u64();
  if (!is_power_of_two(a) || a > std::numeric_limits<uint32_t>::max()) {
    throw Error(std::string(kAlignmentKey) + " is " + std::to_string(a) + "; it must be a non-zero power of two");
  }
  return a;
}

void write_value(Sink& out, const GgufValue& v, int depth) {
  auto unsigned_max = [&](uint64_t max) {
    const uint64_t x = v.as_u64();
    if (x > max) {
      throw Error("value " + std::to_string(x) + " does not fit in " + std::string(gguf_value_type_name(v.type)));
    }
    return x;
  };
  auto signed_range = [&](int64_t min, int64_t max) {
    const int64_t x = v.as_i64();
    if (x < min || x > max) {
      throw Error("value " + std::to_string(x) + " does not fit in " + std::string(gguf_value_type_name(v.type)));
    }
    return x;
  };
  switch (v.type) {
    case GgufValueType::UINT8: out.le(static_cast<uint8_t>(unsigned_max(UINT8_MAX))); return;
    case GgufValueType::UINT16: out.le(static_cast<uint16_t>(unsigned_max(UINT16_MAX))); return;
    case GgufValueType::UINT32: out.le(static_cast<uint32_t>(unsigned_max(UINT32_MAX))); return;
    case GgufValueType::UINT64: out.le(v.as_u64()); return;
    case GgufValueType::INT8: out.le(static_cast<int8_t>(signed_range(INT8_MIN, INT8_MAX))); return;
    case GgufValueType::INT16: out.le(static_cast<int16_t>(signed_range(INT16_MIN, INT16_MAX))); return;
    case GgufValueType::INT32: out.le(static_cast<int32_t>(signed_range(INT32_MIN, INT32_MAX))); return;
    case GgufValueType::INT64: out.le(v.as_i64()); return;
    case GgufValueType::FLOAT32: {
      const double d = v.as_f64();
      // Converting an out-of-range double to float is undefined behaviour, not infinity.
      if (std::isfinite(d) && std::fabs(d) > FLT_MAX) throw Error("value " + std::to_string(d) + " does not fit in float32");
      out.le(static_cast<float>(d));
      return;
    }
    case GgufValueType::FLOAT64: out.le(v.as_f64()); return;
    case GgufValueType::BOOL: out.le(static_cast<uint8_t>(v.as_bool() ? 1 : 0)); return;
    case GgufValueType::STRING: out.string(v.as_string()); return;
    case GgufValueType::ARRAY: {
      if (depth > kMaxArrayDepth) {
        throw Error("arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
      }
      const GgufArray& a = v.as_array();
      if (!is_known_value_type(static_cast<uint32_t>(a.element_type))) {
        throw Error("unknown array element type " + std::to_string(static_cast<uint32_t>(a.element_type)));
      }
      out.le(static_cast<uint32_t>(a.element_type));
      out.le(static_cast<uint64_t>(a.items.size()));
      for (size_t i = 0; i < a.items.size(); ++i) {
        if (a.items[i].type != a.element_type) {
          throw Error("array item #" + std::to_string(i) + " is " + std::string(gguf_value_type_name(a.items[i].type)) +
                      " but the array holds " + std::string(gguf_value_type_name(a.element_type)));
        }
        write_value(out, a.items[i], depth + 1);
      }
      return;
    }
  }
  throw Error("unknown value type " + std::to_string(static_cast<uint32_t>(v.type)));
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  if (key == kAlignmentKey) {
    try {
      checked_alignment(value);
    } catch (const Error& e) {
      throw Error(std::string("GgufWriter: ") + e.what());
    }
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, TensorType type, std::vector<uint8_t> data) {
  if (name.empty() || name.size() > kMaxTensorName) {
    throw Error("GgufWriter: tensor name '" + name + "' must be 1 to " + std::to_string(kMaxTensorName) +
                " bytes (it is " + std::to_string(name.size()) + ")");
  }
  for (const auto& t : tensors_) {
    if (t.name == name) throw Error("GgufWriter: duplicate tensor name '" + name + "'");
  }
  uint64_t bytes = 0;
  try {
    bytes = checked_tensor_bytes(name, dims, static_cast<uint32_t>(type));
  } catch (const Error& e) {
    throw Error(std::string("GgufWriter: ") + e.what());
  }
  if (data.size() != bytes) {
    throw Error("GgufWriter: tensor '" + name + "': data is " + std::to_string(data.size()) + " bytes but its dims as " +
                std::string(tensor_type_name(type)) + " need " + std::to_string(bytes));
  }
  tensors_.push_back({std::move(name), std::move(dims), type, std::move(data)});
}

namespace {

void serialize(Sink& out, const std::vector<std::pair<std::string, GgufValue>>& metadata,
               const auto& tensors) {
  uint64_t alignment = kDefaultAlignment;
  for (const auto& [k, v] : metadata) {
    if (k == kAlignmentKey) alignment = checked_alignment(v);
  }

  out.bytes(kMagic, 4);
  out.le<uint32_t>(kVersion);
  out.le<uint64_t>(tensors.size());
  out.le<uint64_t>(metadata.size());
  for (const auto& [k, v] : metadata) {
    out.string(k);
    out.le(static_cast<uint32_t>(v.type));
    try {
      write_value(out, v, 1);
    } catch (const Error& e) {
      throw Error("GgufWriter: metadata key '" + k + "': " + e.what());
    }
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    out.string(t.name);
    out.le(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) out.le(d);
    out.le(static_cast<uint32_t>(t.type));
    out.le(offset);
    offset += pad_to(t.data.size(), alignment);
  }
  // Like ggml: the data section starts aligned and every tensor, the last included, is padded to alignment.
  out.zeros(pad_to(out.written, alignment) - out.written);
  for (const auto& t : tensors) {
    out.bytes(t.data.data(), t.data.size());
    out.zeros(pad_to(t.data.size(), alignment) - t.data.size());
  }
}

}  // namespace

std::vector<uint8_t> GgufWriter::to_bytes() const {
  VectorSink sink;
  serialize(sink, metadata_, tensors_);
  return std::move(sink.out);
}

void GgufWriter::write(const std::string& path) const {
  // Write next to the target and rename, so a crash leaves either the old file or the complete new one.
  static std::atomic<unsigned> counter{0};
#if defined(__EMSCRIPTEN__)
  const std::string tmp = path + ".tmp" + std::to_string(counter++);
#else
  const std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
#endif
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (!f) throw Error("cannot create '" + tmp + "': " + std::strerror(errno));
  try {
    FileSink sink(f, tmp);
    serialize(sink, metadata_, tensors_);
    if (std::fflush(f) != 0) throw Error("cannot write '" + tmp + "': " + std::strerror(errno));
#if !defined(__EMSCRIPTEN__)
    if (::fsync(fileno(f)) != 0) throw Error("cannot sync '" + tmp + "': " + std::strerror(errno));
#endif
    const int rc = std::fclose(f);
    f = nullptr;
    if (rc != 0) throw Error("cannot close '" + tmp + "': " + std::strerror(errno));
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
    }
  } catch (...) {
    if (f) std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace hearth
