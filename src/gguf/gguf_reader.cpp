#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>
#include <unordered_map>

#include "gguf_format.h"
#include "hearth/error.h"
#include "hearth/gguf.h"

#if !defined(__EMSCRIPTEN__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hearth {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

using namespace gguf_format;

namespace {

// What the parser fills in; GgufFile::Impl adds the bytes it was parsed from.
struct Layout {
  uint32_t version = 0;
  uint64_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;
  std::map<std::string, GgufValue> metadata;
  std::vector<GgufTensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> tensor_index;  // views into tensors[i].name
};

}  // namespace

struct GgufFile::Impl : Layout {
  const uint8_t* base = nullptr;
  uint64_t size = 0;
  void* map = nullptr;  // munmap'ed on destruction when the file is mapped
  size_t map_size = 0;
  std::vector<uint8_t> owned;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
#if !defined(__EMSCRIPTEN__)
    if (map) munmap(map, map_size);
#endif
  }
};

namespace {

// Reads the header, metadata and tensor infos. Every count and length is checked against the bytes still
// unread before anything is allocated for it.
class Parser {
 public:
  Parser(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}

  void parse(Layout& f) {
    if (size_ < 8) {
      throw Error("file is " + std::to_string(size_) + " bytes, too small for a GGUF header (magic + version)");
    }
    if (std::memcmp(data_, kMagic, 4) != 0) {
      char shown[5] = {};
      for (int i = 0; i < 4; ++i) shown[i] = (data_[i] >= 0x20 && data_[i] < 0x7f) ? char(data_[i]) : '?';
      throw Error(std::string("not a GGUF file: starts with '") + shown + "', expected 'GGUF'");
    }
    pos_ = 4;
    where_ = "header";
    const uint32_t version = read<uint32_t>("version");
    const uint32_t swapped = __builtin_bswap32(version);
    if (version != 2 && version != 3 && swapped >= 1 && swapped <= 3) {
      throw Error("big-endian GGUF file (version " + std::to_string(swapped) +
                  " stored byte-swapped); hearth reads only little-endian GGUF");
    }
    if (version == 1) {
      throw Error("GGUF version 1 is obsolete and not supported; re-convert the model with a current llama.cpp");
    }
    if (version != 2 && version != 3) {
      throw Error("unsupported GGUF version " + std::to_string(version) + "; hearth reads versions 2 and 3");
    }
    f.version = version;

    const uint64_t n_tensors = read<uint64_t>("tensor count");
    const uint64_t n_kv = read<uint64_t>("metadata count");
    // Smallest metadata entry: u64 key length + u32 type + 1-byte value.
    if (n_kv > left() / 13) {
      throw Error("header claims " + std::to_string(n_kv) + " metadata entries but only " +
                  format_bytes(left()) + " follow (each needs at least 13 bytes)");
    }
    for (uint64_t i = 0; i < n_kv; ++i) {
      where_ = "metadata entry #" + std::to_string(i);
      std::string key = read_string("key");
      where_ = "metadata key '" + key + "'";
      if (f.metadata.count(key)) throw Error("duplicate metadata key '" + key + "'");
      const uint32_t type = read<uint32_t>("value type");
      if (!is_known_value_type(type)) throw Error(where_ + ": unknown value type " + std::to_string(type));
      GgufValue value = read_value(static_cast<GgufValueType>(type), 1);
      f.metadata.emplace(std::move(key), std::move(value));
    }

    if (auto it = f.metadata.find(kAlignmentKey); it != f.metadata.end()) {
      if (it->second.type != GgufValueType::UINT32) {
        throw Error(std::string(kAlignmentKey) + " must be uint32, got " +
                    std::string(gguf_value_type_name(it->second.type)));
      }
      const uint64_t a = it->second.as_u64();
      if (!is_power_of_two(a)) {
        throw Error(std::string(kAlignmentKey) + " is " + std::to_string(a) + "; it must be a non-zero power of two");
      }
      f.alignment = a;
    }

    // Smallest tensor info: u64 name length + u32 n_dims + one u64 dim + u32 type + u64 offset.
    where_ = "header";
    if (n_tensors > left() / 32) {
      throw Error("header claims " + std::to_string(n_tensors) + " tensors but only " + format_bytes(left()) +
                  " follow the metadata (each tensor info needs at least 32 bytes)");
    }
    f.tensors.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
      where_ = "tensor #" + std::to_string(i);
      GgufTensorInfo t;
      t.name = read_string("name");
      where_ = "tensor '" + t.name + "'";
      const uint32_t n_dims = read<uint32_t>("n_dims");
      if (n_dims == 0 || n_dims > kMaxDims) {
        throw Error(where_ + ": has " + std::to_string(n_dims) + " dims; GGUF allows 1 to " +
                    std::to_string(kMaxDims));
      }
      t.dims.resize(n_dims);
      for (auto& d : t.dims) d = read<uint64_t>("dim");
      const uint32_t type = read<uint32_t>("type");
      t.offset = read<uint64_t>("offset");
      checked_tensor_bytes(t.name, t.dims, type);  // dims, type and block size
      t.type = static_cast<TensorType>(type);
      if (t.offset % f.alignment != 0) {
        throw Error(where_ + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                    std::to_string(f.alignment));
      }
      f.tensors.push_back(std::move(t));
    }
    for (size_t i = 0; i < f.tensors.size(); ++i) {
      if (!f.tensor_index.emplace(f.tensors[i].name, i).second) {
        throw Error("duplicate tensor name '" + f.tensors[i].name + "'");
      }
    }

    f.data_offset = (pos_ + f.alignment - 1) / f.alignment * f.alignment;
    check_tensor_ranges(f);
  }

 private:
  uint64_t left() const { return size_ - pos_; }

  void need(uint64_t n, const char* what) {
    if (n > left()) {
      throw Error(where_ + ": file ends while reading " + what + " at byte " + std::to_string(pos_) + " (needs " +
                  std::to_string(n) + " bytes, " + std::to_string(left()) + " left; file is " +
                  format_bytes(size_) + ")");
    }
  }

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    if (len > left()) {
      throw Error(where_ + ": " + what + " length " + std::to_string(len) + " at byte " + std::to_string(pos_ - 8) +
                  " runs past end of file (" + std::to_string(left()) + " bytes left)");
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }

  GgufValue read_value(GgufValueType type, int depth) {
    GgufValue v;
    v.type = type;
    switch (type) {
      case GgufValueType::UINT8: v.data = uint64_t{read<uint8_t>("uint8")}; break;
      case GgufValueType::INT8: v.data = int64_t{read<int8_t>("int8")}; break;
      case GgufValueType::UINT16: v.data = uint64_t{read<uint16_t>("uint16")}; break;
      case GgufValueType::INT16: v.data = int64_t{read<int16_t>("int16")}; break;
      case GgufValueType::UINT32: v.data = uint64_t{read<uint32_t>("uint32")}; break;
      case GgufValueType::INT32: v.data = int64_t{read<int32_t>("int32")}; break;
      case GgufValueType::UINT64: v.data = read<uint64_t>("uint64"); break;
      case GgufValueType::INT64: v.data = read<int64_t>("int64"); break;
      case GgufValueType::FLOAT32: v.data = double{read<float>("float32")}; break;
      case GgufValueType::FLOAT64: v.data = read<double>("float64"); break;
      case GgufValueType::BOOL: {
        const uint8_t b = read<uint8_t>("bool");
        if (b > 1) {
          throw Error(where_ + ": bool at byte " + std::to_string(pos_ - 1) + " is " + std::to_string(b) +
                      ", expected 0 or 1");
        }
        v.data = b == 1;
        break;
      }
      case GgufValueType::STRING: v.data = read_string("string"); break;
      case GgufValueType::ARRAY: v.data = read_array(depth); break;
    }
    return v;
  }

  GgufArray read_array(int depth) {
    if (depth > kMaxArrayDepth) {
      throw Error(where_ + ": arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep at byte " +
                  std::to_string(pos_));
    }
    const uint32_t elem = read<uint32_t>("array element type");
    if (!is_known_value_type(elem)) {
      throw Error(where_ + ": unknown array element type " + std::to_string(elem));
    }
    const uint64_t count = read<uint64_t>("array length");
    const auto elem_type = static_cast<GgufValueType>(elem);
    const uint64_t min_size = min_value_size(elem_type);
    if (count > left() / min_size) {
      throw Error(where_ + ": array of " + std::to_string(count) + " " + std::string(gguf_value_type_name(elem_type)) +
                  " needs at least " + std::to_string(min_size) + " bytes each but only " + std::to_string(left()) +
                  " bytes are left");
    }
    values_ += count;
    if (values_ > kMaxMetadataValues) {
      throw Error(where_ + ": metadata holds more than " + std::to_string(kMaxMetadataValues) +
                  " array elements in total; refusing to load");
    }
    GgufArray a;
    a.element_type = elem_type;
    a.items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) a.items.push_back(read_value(elem_type, depth + 1));
    return a;
  }

  void check_tensor_ranges(const Layout& f) {
    std::vector<uint64_t> ends(f.tensors.size());
    for (size_t i = 0; i < f.tensors.size(); ++i) {
      const auto& t = f.tensors[i];
      const uint64_t bytes = t.n_bytes();
      uint64_t end = 0, abs_end = 0;
      if (__builtin_add_overflow(t.offset, bytes, &end) || __builtin_add_overflow(f.data_offset, end, &abs_end)) {
        throw Error("tensor '" + t.name + "': data offset " + std::to_string(t.offset) + " + size " +
                    std::to_string(bytes) + " overflows 64 bits");
      }
      if (abs_end > size_) {
        throw Error("tensor '" + t.name + "': data (offset " + std::to_string(t.offset) + ", " + format_bytes(bytes) +
                    ", data section at byte " + std::to_string(f.data_offset) + ") ends at " + format_bytes(abs_end) +
                    ", past end of file " + format_bytes(size_));
      }
      ends[i] = end;
    }
    std::vector<size_t> order(f.tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return f.tensors[a].offset < f.tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
      const size_t a = order[k - 1], b = order[k];
      if (ends[a] > f.tensors[b].offset) {
        throw Error("tensors '" + f.tensors[a].name + "' [" + std::to_string(f.tensors[a].offset) + ", " +
                    std::to_string(ends[a]) + ") and '" + f.tensors[b].name + "' [" +
                    std::to_string(f.tensors[b].offset) + ", " + std::to_string(ends[b]) + ") overlap");
      }
    }
  }

  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t values_ = 0;
  std::string where_;
};

}  // namespace


GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::from_bytes(std::span<const uint8_t> bytes) {
  auto impl = std::make_unique<Impl>();
  impl->owned.assign(bytes.begin(), bytes.end());
  impl->base = impl->owned.data();
  impl->size = impl->owned.size();
  Parser(impl->base, impl->size).parse(*impl);
  return GgufFile(std::move(impl));
}

GgufFile GgufFile::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
#if defined(__EMSCRIPTEN__)
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open '" + path + "'");
  impl->owned.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  impl->base = impl->owned.data();
  impl->size = impl->owned.size();
#else
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error("cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("cannot read '" + path + "': not a regular file");
  }
  impl->size = static_cast<uint64_t>(st.st_size);
  if (impl->size > 0) {
    void* p = mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error("cannot map '" + path + "' (" + gguf_format::format_bytes(impl->size) + "): " + std::strerror(err));
    }
    impl->map = p;
    impl->map_size = impl->size;
    impl->base = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
#endif
  try {
    Parser(impl->base, impl->size).parse(*impl);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return GgufFile(std::move(impl));
}

uint32_t GgufFile::version() const { return impl_->version; }
uint64_t GgufFile::alignment() const { return impl_->alignment; }
uint64_t GgufFile::file_size() const { return impl_->size; }
uint64_t GgufFile::data_offset() const { return impl_->data_offset; }
const std::map<std::string, GgufValue>& GgufFile::metadata() const { return impl_->metadata; }
const std::vector<GgufTensorInfo>& GgufFile::tensors() const { return impl_->tensors; }

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = impl_->metadata.find(std::string(key));
  return it == impl_->metadata.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::get(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error("missing metadata key '" + std::string(key) + "'");
  return *v;
}

namespace {
template <class F>
auto with_key(std::string_view key, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error("metadata key '" + std::string(key) + "': " + e.what());
  }
}
}  // namespace

std::string GgufFile::get_string(std::string_view key, std::string_view fallback) const {
  const GgufValue* v = find(key);
  if (!v) return std::string(fallback);
  return with_key(key, [&] { return v->as_string(); });
}

uint64_t GgufFile::get_u64(std::string_view key, uint64_t fallback) const {
  const GgufValue* v = find(key);
  return v ? with_key(key, [&] { return v->as_u64(); }) : fallback;
}

double GgufFile::get_f64(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v ? with_key(key, [&] { return v->as_f64(); }) : fallback;
}

bool GgufFile::get_bool(std::string_view key, bool fallback) const {
  const GgufValue* v = find(key);
  return v ? with_key(key, [&] { return v->as_bool(); }) : fallback;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

std::span<const uint8_t> GgufFile::tensor_data(const GgufTensorInfo& t) const {
  // Infos from this file were checked at open; recheck so a hand-made or foreign info cannot read out of bounds.
  const uint64_t bytes = t.n_bytes();
  uint64_t end = 0;
  if (__builtin_add_overflow(impl_->data_offset, t.offset, &end) || __builtin_add_overflow(end, bytes, &end) ||
      end > impl_->size) {
    throw Error("tensor '" + t.name + "': data [" + std::to_string(t.offset) + ", +" + std::to_string(bytes) +
                ") lies outside this file's data section");
  }
  return {impl_->base + impl_->data_offset + t.offset, static_cast<size_t>(bytes)};
}

}  // namespace hearth
