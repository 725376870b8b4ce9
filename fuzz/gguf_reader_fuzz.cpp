// libFuzzer harness for the GGUF reader: any input must parse or throw hearth::Error; a parsed file must
// let every metadata value and every tensor's bytes be read, and must survive a writer round trip.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace {

volatile uint64_t g_sink;

[[noreturn]] void invariant_failed(const char* what) {
  std::fprintf(stderr, "invariant failed: %s\n", what);
  std::abort();
}

void touch(const hearth::GgufValue& v, uint64_t& acc) {
  using T = hearth::GgufValueType;
  switch (v.type) {
    case T::UINT8: case T::UINT16: case T::UINT32: case T::UINT64: acc += v.as_u64(); break;
    case T::INT8: case T::INT16: case T::INT32: case T::INT64: acc += static_cast<uint64_t>(v.as_i64()); break;
    case T::FLOAT32: case T::FLOAT64: acc += v.as_f64() > 0; break;
    case T::BOOL: acc += v.as_bool(); break;
    case T::STRING:
      for (char c : v.as_string()) acc += static_cast<uint8_t>(c);
      break;
    case T::ARRAY:
      for (const auto& item : v.as_array().items) {
        if (item.type != v.as_array().element_type) invariant_failed("array item type differs from element type");
        touch(item, acc);
      }
      break;
    default: invariant_failed("parsed value has an unknown type");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::optional<hearth::GgufFile> file;
  try {
    file.emplace(hearth::GgufFile::from_bytes({data, size}));
  } catch (const hearth::Error&) {
    return 0;
  }
  const hearth::GgufFile& f = *file;
  uint64_t acc = f.version() + f.alignment() + f.data_offset() + f.file_size();
  if (f.file_size() != size) invariant_failed("file_size differs from input size");
  for (const auto& [key, value] : f.metadata()) {
    if (f.find(key) != &value) invariant_failed("find() misses a parsed key");
    touch(value, acc);
  }
  hearth::GgufWriter w;
  for (const auto& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) invariant_failed("find_tensor() misses a parsed tensor");
    const auto bytes = f.tensor_data(t);
    if (bytes.size() != t.n_bytes()) invariant_failed("tensor_data size differs from n_bytes");
    for (uint8_t b : bytes) acc += b;
  }

  // What was read must write back and read again the same (when the writer accepts it: it is stricter about
  // tensor names, which llama.cpp caps at 63 bytes). A huge declared alignment makes the written file
  // legitimately that large (padding), so the round trip is skipped there to keep allocations bounded.
  if (f.alignment() > 65536) {
    g_sink = acc;
    return 0;
  }
  try {
    for (const auto& [key, value] : f.metadata()) w.set(key, value);
    for (const auto& t : f.tensors()) {
      const auto bytes = f.tensor_data(t);
      w.add_tensor(t.name, t.dims, t.type, {bytes.begin(), bytes.end()});
    }
  } catch (const hearth::Error&) {
    g_sink = acc;
    return 0;
  }
  try {
    const hearth::GgufFile again = hearth::GgufFile::from_bytes(w.to_bytes());
    if (again.metadata().size() != f.metadata().size() || again.tensors().size() != f.tensors().size() ||
        again.alignment() != f.alignment()) {
      invariant_failed("writer round trip changed the file's shape");
    }
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "re-read of written file failed: %s\n", e.what());
    invariant_failed("writer produced a file the reader rejects");
  }
  g_sink = acc;
  return 0;
}
