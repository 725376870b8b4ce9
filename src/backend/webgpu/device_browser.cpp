// The device layer over navigator.gpu, for the Emscripten WebGPU artifact (hearth-webgpu). The WebGPU
// calls are in src/wasm/webgpu_library.js; objects are integer ids into its table, carried in the same
// void* handles the native layer uses. Waiting on the browser's promises (adapter, device, error scopes,
// pipeline compilation, mapped reads) suspends the wasm stack through Asyncify, so the engine above stays
// synchronous.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/webgpu/device.h"
#include "hearth/error.h"

extern "C" {
// Asynchronous (listed in ASYNCIFY_IMPORTS).
int hearth_gpu_open();
int hearth_gpu_create_buffer(double size, int kind, const char* label);
int hearth_gpu_pipeline(const char* name, const char* wgsl, int32_t* out);
int hearth_gpu_read_mapped(int buffer, void* dst, double bytes, double padded);
int hearth_gpu_wait_idle();
// Synchronous.
char* hearth_gpu_info_json();
void hearth_gpu_close();
char* hearth_gpu_take_error();
int hearth_gpu_lost();
void hearth_gpu_release(int id, int destroy);
void hearth_gpu_write(int buffer, double offset, const void* data, double bytes);
int hearth_gpu_bind(int layout, const char* label, const double* entries, int count);
int hearth_gpu_encoder();
int hearth_gpu_begin_pass(int encoder);
void hearth_gpu_end_pass(int pass);
void hearth_gpu_dispatch(int pass, int pipeline, int group, uint32_t x, uint32_t y, uint32_t z);
void hearth_gpu_copy(int encoder, int src, double src_offset, int dst, double dst_offset, double bytes);
void hearth_gpu_submit(int encoder);
}

namespace hearth::webgpu {

namespace {

enum BufferKind { kStorage = 0, kUniform = 1, kMapRead = 2 };

int id_of(const void* handle) { return int(reinterpret_cast<uintptr_t>(handle)); }
void* handle_of(int id) { return reinterpret_cast<void*>(uintptr_t(id)); }

// The JS side's pending error (malloc'd there), or "".
std::string take_error() {
  char* e = hearth_gpu_take_error();
  if (!e) return {};
  std::string s(e);
  std::free(e);
  return s;
}

}  // namespace

struct Device::State {
  std::map<std::string, Pipeline> pipelines;
  uint64_t next_buffer_id = 0;
};

// ---------------------------------------------------------------- Buffer / BindGroup

Buffer::Buffer(Buffer&& o) noexcept { *this = std::move(o); }
Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    this->~Buffer();
    device_ = std::exchange(o.device_, nullptr);
    handle_ = std::exchange(o.handle_, nullptr);
    size_ = std::exchange(o.size_, 0);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}
Buffer::~Buffer() {
  if (handle_) hearth_gpu_release(id_of(handle_), /*destroy=*/1);
  handle_ = nullptr;
}

BindGroup::BindGroup(BindGroup&& o) noexcept { *this = std::move(o); }
BindGroup& BindGroup::operator=(BindGroup&& o) noexcept {
  if (this != &o) {
    this->~BindGroup();
    device_ = std::exchange(o.device_, nullptr);
    handle_ = std::exchange(o.handle_, nullptr);
  }
  return *this;
}
BindGroup::~BindGroup() {
  if (handle_) hearth_gpu_release(id_of(handle_), 0);
  handle_ = nullptr;
}

// ---------------------------------------------------------------- Recorder

Recorder::Recorder(Device* d) : device_(d) {
  encoder_ = handle_of(hearth_gpu_encoder());
  if (!encoder_) throw Error("WebGPU: cannot create a command encoder");
}
Recorder::Recorder(Recorder&& o) noexcept
    : device_(o.device_),
      encoder_(std::exchange(o.encoder_, nullptr)),
      pass_(std::exchange(o.pass_, nullptr)),
      dispatches_(o.dispatches_) {}
Recorder::~Recorder() {
  end_pass();
  if (encoder_) hearth_gpu_release(id_of(encoder_), 0);
}

void Recorder::end_pass() {
  if (!pass_) return;
  hearth_gpu_end_pass(id_of(pass_));
  pass_ = nullptr;
}

void Recorder::dispatch(const Pipeline& pl, const BindGroup& g, uint32_t x, uint32_t y, uint32_t z) {
  if (x == 0 || y == 0 || z == 0) return;
  const uint32_t lim = device_->info_.max_workgroups_per_dimension;
  if (x > lim || y > lim || z > lim)
    throw Error("WebGPU: dispatch of " + std::to_string(x) + "x" + std::to_string(y) + "x" + std::to_string(z) +
                " workgroups for " + pl.name + " exceeds the adapter's limit of " + std::to_string(lim) +
                " per dimension");
  if (!g.handle()) throw Error("WebGPU: " + pl.name + ": dispatch without a bind group");
  if (!pass_) pass_ = handle_of(hearth_gpu_begin_pass(id_of(encoder_)));
  hearth_gpu_dispatch(id_of(pass_), id_of(pl.handle), id_of(g.handle()), x, y, z);
  dispatches_++;
}

void Recorder::copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, uint64_t bytes) {
  end_pass();
  hearth_gpu_copy(id_of(encoder_), id_of(src.handle()), double(src_offset), id_of(dst.handle()), double(dst_offset),
                  double(bytes));
}

// ---------------------------------------------------------------- Device

Device::Device(std::unique_ptr<State> s) : s_(std::move(s)) {}

Device::~Device() {
  // The last Device sharing the GPUDevice destroys it; objects are released by their owners.
  if (s_) hearth_gpu_close();
}

bool Device::available(std::string* why) {
  try {
    return open() != nullptr;
  } catch (const Error& e) {
    if (why) *why = e.what();
    return false;
  }
}

std::unique_ptr<Device> Device::open() {
  if (!hearth_gpu_open()) {
    const std::string e = take_error();
    throw Error(e.empty() ? "WebGPU: no adapter found" : e);
  }
  std::unique_ptr<Device> dev(new Device(std::make_unique<State>()));
  char* text = hearth_gpu_info_json();
  const nlohmann::json j = nlohmann::json::parse(text ? text : "{}", nullptr, /*allow_exceptions=*/false);
  std::free(text);
  if (!j.is_object()) throw Error("WebGPU: the adapter description is not valid JSON");
  AdapterInfo& info = dev->info_;
  info.vendor = j.value("vendor", "");
  info.architecture = j.value("architecture", "");
  info.device = j.value("device", "");
  info.description = j.value("description", "");
  info.shader_f16 = j.value("shaderF16", false);
  info.subgroups = j.value("subgroups", false);
  info.timestamp_query = j.value("timestampQuery", false);
  info.max_storage_binding_bytes = j.value("maxStorageBufferBindingSize", uint64_t(0));
  info.max_buffer_bytes = j.value("maxBufferSize", uint64_t(0));
  info.max_workgroups_per_dimension = j.value("maxComputeWorkgroupsPerDimension", 0u);
  info.max_workgroup_storage_bytes = j.value("maxComputeWorkgroupStorageSize", 16384u);
  info.max_storage_buffers_per_stage = j.value("maxStorageBuffersPerShaderStage", 0u);
  info.min_storage_offset_alignment = j.value("minStorageBufferOffsetAlignment", 256u);
  if (info.max_buffer_bytes == 0 || info.max_workgroups_per_dimension == 0)
    throw Error("WebGPU: the adapter reported no limits");
  return dev;
}

void Device::check_errors() {
  const std::string e = take_error();
  if (!e.empty()) throw Error("WebGPU: " + e);
}

Buffer Device::create_buffer(uint64_t bytes, bool uniform, const char* label) {
  bytes = (std::max<uint64_t>(bytes, 4) + 3) & ~uint64_t(3);
  if (bytes > info_.max_buffer_bytes)
    throw Error("WebGPU: a buffer of " + std::to_string(bytes) + " bytes exceeds the adapter's maxBufferSize of " +
                std::to_string(info_.max_buffer_bytes));
  const int id = hearth_gpu_create_buffer(double(bytes), uniform ? kUniform : kStorage, label);
  if (!id) {
    const std::string e = take_error();
    throw Error("WebGPU: " + (e.empty() ? "cannot create a buffer of " + std::to_string(bytes) + " bytes" : e));
  }
  check_errors();
  Buffer out;
  out.device_ = this;
  out.handle_ = handle_of(id);
  out.size_ = bytes;
  out.id_ = ++s_->next_buffer_id;
  return out;
}

Buffer Device::create_readback_buffer(uint64_t bytes) {
  bytes = (std::max<uint64_t>(bytes, 4) + 3) & ~uint64_t(3);
  const int id = hearth_gpu_create_buffer(double(bytes), kMapRead, "readback");
  if (!id) throw Error("WebGPU: cannot create a read-back buffer: " + take_error());
  Buffer out;
  out.device_ = this;
  out.handle_ = handle_of(id);
  out.size_ = bytes;
  out.id_ = ++s_->next_buffer_id;
  return out;
}

void Device::write(const Buffer& b, uint64_t offset, const void* data, uint64_t bytes) {
  if (offset + bytes > b.size())
    throw Error("WebGPU: write of " + std::to_string(bytes) + " bytes at " + std::to_string(offset) +
                " overruns a buffer of " + std::to_string(b.size()));
  if (bytes == 0) return;
  if (bytes % 4 != 0 || offset % 4 != 0) {
    // WebGPU writes whole words: pad the tail with zeros.
    std::vector<uint8_t> tmp((bytes + 3) & ~uint64_t(3), 0);
    std::memcpy(tmp.data(), data, bytes);
    hearth_gpu_write(id_of(b.handle()), double(offset), tmp.data(), double(tmp.size()));
  } else {
    hearth_gpu_write(id_of(b.handle()), double(offset), data, double(bytes));
  }
}

void Device::wait_map(const Buffer& b, uint64_t bytes) {
  // The browser maps and copies in one step (submit_and_read); this only orders after submitted work.
  hearth_gpu_wait_idle();
  check_errors();
}

void Device::read(const Buffer& b, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes == 0) return;
  if (offset + bytes > b.size()) throw Error("WebGPU: read past the end of a buffer");
  const uint64_t padded = (bytes + 3) & ~uint64_t(3);
  Buffer staging = create_readback_buffer(padded);
  Recorder r = record();
  r.copy(b, offset, staging, 0, padded);
  submit_and_read(r, staging, dst, bytes);
}

void Device::submit_and_read(Recorder& r, const Buffer& readback, void* dst, uint64_t bytes) {
  submit(r);
  read_mapped(readback, dst, bytes);
}

void Device::read_mapped(const Buffer& readback, void* dst, uint64_t bytes) {
  if (bytes > readback.size()) throw Error("WebGPU: read-back of more bytes than the buffer holds");
  const uint64_t padded = (bytes + 3) & ~uint64_t(3);
  const int ok = hearth_gpu_read_mapped(id_of(readback.handle()), dst, double(bytes), double(padded));
  check_errors();
  if (!ok) throw Error("WebGPU: read-back failed");
  if (hearth_gpu_lost()) throw Error("WebGPU: GPU device lost");
}

const Pipeline& Device::pipeline(const std::string& name, const std::string& wgsl) {
  auto it = s_->pipelines.find(name);
  if (it != s_->pipelines.end()) return it->second;
  int32_t ids[2] = {0, 0};
  if (!hearth_gpu_pipeline(name.c_str(), wgsl.c_str(), ids)) {
    const std::string e = take_error();
    throw Error("WebGPU: " + (e.empty() ? "kernel " + name + " failed to compile" : e));
  }
  Pipeline out;
  out.handle = handle_of(ids[0]);
  out.layout = handle_of(ids[1]);
  out.name = name;
  return s_->pipelines.emplace(name, out).first->second;
}

BindGroup Device::bind(const Pipeline& pl, const std::vector<Binding>& bindings) {
  std::vector<double> entries;
  entries.reserve(bindings.size() * 4);
  for (const Binding& b : bindings) {
    if (!b.buffer || !b.buffer->valid())
      throw Error("WebGPU: " + pl.name + ": binding " + std::to_string(b.binding) + " has no buffer");
    const uint64_t size = b.size ? b.size : b.buffer->size() - b.offset;
    if (size > info_.max_storage_binding_bytes)
      throw Error("WebGPU: " + pl.name + ": a binding of " + std::to_string(size) +
                  " bytes exceeds maxStorageBufferBindingSize " + std::to_string(info_.max_storage_binding_bytes));
    entries.insert(entries.end(), {double(b.binding), double(id_of(b.buffer->handle())), double(b.offset), double(size)});
  }
  const int id = hearth_gpu_bind(id_of(pl.layout), pl.name.c_str(), entries.data(), int(bindings.size()));
  if (!id) check_errors();
  BindGroup g;
  g.device_ = this;
  g.handle_ = handle_of(id);
  return g;
}

Recorder Device::record() { return Recorder(this); }

void Device::submit(Recorder& r) {
  r.end_pass();
  hearth_gpu_submit(id_of(r.encoder_));
  r.encoder_ = nullptr;
  check_errors();
}

void Device::wait_idle() {
  hearth_gpu_wait_idle();
  check_errors();
}

}  // namespace hearth::webgpu
