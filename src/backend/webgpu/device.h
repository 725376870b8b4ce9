#pragma once
// hearth's WebGPU device layer: adapter/device, buffers, a pipeline cache, bind groups, command recording
// and read-back, with every WebGPU error (validation, out-of-memory, device lost) raised as hearth::Error.
// The interface names no webgpu.h type, so a browser implementation (navigator.gpu through a small JS
// library, for the Emscripten build) can provide the same classes from another .cpp; device_native.cpp
// implements them over Dawn's C library.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hearth::webgpu {

struct AdapterInfo {
  std::string vendor, architecture, device, description;
  bool shader_f16 = false;
  bool subgroups = false;
  bool timestamp_query = false;
  uint64_t max_storage_binding_bytes = 0;  // maxStorageBufferBindingSize
  uint64_t max_buffer_bytes = 0;           // maxBufferSize
  uint32_t max_workgroups_per_dimension = 0;
  uint32_t max_workgroup_storage_bytes = 16384;  // maxComputeWorkgroupStorageSize
  uint32_t max_storage_buffers_per_stage = 0;
  uint32_t min_storage_offset_alignment = 256;
};

class Device;

// A GPU buffer usable as storage, uniform (when asked) and copy source/destination. Move-only.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  uint64_t size() const { return size_; }
  bool valid() const { return handle_ != nullptr; }
  void* handle() const { return handle_; }
  // Unique per buffer for the life of the process (handles may be reused after a release).
  uint64_t id() const { return id_; }

 private:
  friend class Device;
  Device* device_ = nullptr;
  void* handle_ = nullptr;
  uint64_t size_ = 0;
  uint64_t id_ = 0;
};

// A compiled compute pipeline (entry point `main`), owned by the device's cache.
struct Pipeline {
  void* handle = nullptr;
  void* layout = nullptr;  // bind group layout 0
  std::string name;
};

// One buffer range bound at binding index `binding` of group 0.
struct Binding {
  uint32_t binding;
  const Buffer* buffer;
  uint64_t offset = 0;
  uint64_t size = 0;  // 0: to the end of the buffer
};

class BindGroup {
 public:
  BindGroup() = default;
  BindGroup(BindGroup&& o) noexcept;
  BindGroup& operator=(BindGroup&& o) noexcept;
  BindGroup(const BindGroup&) = delete;
  BindGroup& operator=(const BindGroup&) = delete;
  ~BindGroup();
  void* handle() const { return handle_; }

 private:
  friend class Device;
  Device* device_ = nullptr;
  void* handle_ = nullptr;
};

// Commands recorded into one command buffer: dispatches share one compute pass until a copy ends it.
class Recorder {
 public:
  Recorder(Recorder&& o) noexcept;
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  ~Recorder();

  void dispatch(const Pipeline& p, const BindGroup& g, uint32_t x, uint32_t y = 1, uint32_t z = 1);
  void copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, uint64_t bytes);
  int dispatch_count() const { return dispatches_; }

 private:
  friend class Device;
  explicit Recorder(Device* d);
  void end_pass();
  Device* device_;
  void* encoder_ = nullptr;
  void* pass_ = nullptr;
  int dispatches_ = 0;
};

class Device {
 public:
  // Opens the first adapter Dawn offers (high-performance preference). Throws hearth::Error when the
  // library or an adapter is missing; `available()` asks without throwing.
  static std::unique_ptr<Device> open();
  static bool available(std::string* why = nullptr);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const AdapterInfo& info() const { return info_; }

  Buffer create_buffer(uint64_t bytes, bool uniform = false, const char* label = "");
  void write(const Buffer& b, uint64_t offset, const void* data, uint64_t bytes);
  // Copies `bytes` from the buffer into dst, waiting for all submitted work (tests and slow paths).
  void read(const Buffer& b, uint64_t offset, void* dst, uint64_t bytes);

  // Compiles once per name; `wgsl` is only used on the first call for that name. Shader compile errors
  // throw with the compiler's message.
  const Pipeline& pipeline(const std::string& name, const std::string& wgsl);
  BindGroup bind(const Pipeline& p, const std::vector<Binding>& bindings);

  Recorder record();
  // Submits the recorded commands; returns without waiting.
  void submit(Recorder& r);
  // Submits, then waits for the work and reads `bytes` at offset 0 of `readback` (a buffer created with
  // create_readback_buffer) into dst.
  void submit_and_read(Recorder& r, const Buffer& readback, void* dst, uint64_t bytes);
  // Waits for the submitted work that copies into `readback`, then reads its first `bytes` into dst. Work
  // submitted after that copy may still be running (so the host can queue the next step before waiting).
  void read_mapped(const Buffer& readback, void* dst, uint64_t bytes);
  Buffer create_readback_buffer(uint64_t bytes);
  // Blocks until all submitted work is done; raises any error the device reported meanwhile.
  void wait_idle();

 private:
  friend class Buffer;
  friend class BindGroup;
  friend class Recorder;
  struct State;
  explicit Device(std::unique_ptr<State> s);
  void check_errors();
  void wait_map(const Buffer& b, uint64_t bytes);

  std::unique_ptr<State> s_;
  AdapterInfo info_;
};

}  // namespace hearth::webgpu
