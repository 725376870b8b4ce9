// The device layer over Dawn's WebGPU C library (native builds).
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "backend/webgpu/dawn_library.h"
#include "backend/webgpu/device.h"
#include "hearth/error.h"

namespace hearth::webgpu {

namespace {

WGPUStringView view(const std::string& s) { return {s.data(), s.size()}; }
WGPUStringView view(const char* s) { return {s, kWgpuStrlen}; }
std::string str(WGPUStringView v) {
  if (!v.data) return {};
  return v.length == kWgpuStrlen ? std::string(v.data) : std::string(v.data, v.length);
}

const char* error_kind(WGPUErrorType t) {
  switch (t) {
    case WGPUErrorType_Validation:
      return "validation error";
    case WGPUErrorType_OutOfMemory:
      return "out of GPU memory";
    case WGPUErrorType_Internal:
      return "internal error";
    default:
      return "error";
  }
}

}  // namespace

struct Device::State {
  const DawnProcs* p = nullptr;
  WGPUInstance instance = nullptr;
  WGPUAdapter adapter = nullptr;
  WGPUDevice device = nullptr;
  WGPUQueue queue = nullptr;
  std::map<std::string, Pipeline> pipelines;
  // Errors arrive through callbacks; the first one is kept and raised at the next check.
  std::mutex mu;
  std::string error;
  bool lost = false;
  uint64_t next_buffer_id = 0;

  // Runs Dawn's event loop until `done` (callbacks set it). Spins briefly (a GPU answers in microseconds),
  // then backs off so a software adapter's worker threads get the cores.
  template <typename Pred>
  void poll_until(Pred done) {
    for (int spins = 0; !done(); spins++) {
      p->instanceProcessEvents(instance);
      if (lost) break;
      if (spins > 2000) std::this_thread::sleep_for(std::chrono::microseconds(50));
      else if (spins > 200) std::this_thread::yield();
    }
  }
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
  if (handle_) {
    const DawnProcs& p = *device_->s_->p;
    p.bufferDestroy(static_cast<WGPUBuffer>(handle_));
    p.bufferRelease(static_cast<WGPUBuffer>(handle_));
    handle_ = nullptr;
  }
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
  if (handle_) device_->s_->p->bindGroupRelease(static_cast<WGPUBindGroup>(handle_));
  handle_ = nullptr;
}

// ---------------------------------------------------------------- Recorder

Recorder::Recorder(Device* d) : device_(d) {
  WGPUCommandEncoderDescriptor desc{nullptr, view("")};
  encoder_ = d->s_->p->deviceCreateCommandEncoder(d->s_->device, &desc);
  if (!encoder_) throw Error("WebGPU: cannot create a command encoder");
}
Recorder::Recorder(Recorder&& o) noexcept
    : device_(o.device_),
      encoder_(std::exchange(o.encoder_, nullptr)),
      pass_(std::exchange(o.pass_, nullptr)),
      dispatches_(o.dispatches_) {}
Recorder::~Recorder() {
  const DawnProcs& p = *device_->s_->p;
  if (pass_) {
    p.computePassEnd(static_cast<WGPUComputePassEncoder>(pass_));
    p.computePassRelease(static_cast<WGPUComputePassEncoder>(pass_));
  }
  if (encoder_) p.commandEncoderRelease(static_cast<WGPUCommandEncoder>(encoder_));
}

void Recorder::end_pass() {
  if (!pass_) return;
  const DawnProcs& p = *device_->s_->p;
  p.computePassEnd(static_cast<WGPUComputePassEncoder>(pass_));
  p.computePassRelease(static_cast<WGPUComputePassEncoder>(pass_));
  pass_ = nullptr;
}

void Recorder::dispatch(const Pipeline& pl, const BindGroup& g, uint32_t x, uint32_t y, uint32_t z) {
  if (x == 0 || y == 0 || z == 0) return;
  const uint32_t lim = device_->info_.max_workgroups_per_dimension;
  if (x > lim || y > lim || z > lim)
    throw Error("WebGPU: dispatch of " + std::to_string(x) + "x" + std::to_string(y) + "x" + std::to_string(z) +
                " workgroups for " + pl.name + " exceeds the adapter's limit of " + std::to_string(lim) +
                " per dimension");
  const DawnProcs& p = *device_->s_->p;
  if (!pass_) {
    WGPUComputePassDescriptor desc{nullptr, view(""), nullptr};
    pass_ = p.commandEncoderBeginComputePass(static_cast<WGPUCommandEncoder>(encoder_), &desc);
  }
  auto* pass = static_cast<WGPUComputePassEncoder>(pass_);
  p.computePassSetPipeline(pass, static_cast<WGPUComputePipeline>(pl.handle));
  p.computePassSetBindGroup(pass, 0, static_cast<WGPUBindGroup>(g.handle()), 0, nullptr);
  p.computePassDispatchWorkgroups(pass, x, y, z);
  dispatches_++;
}

void Recorder::copy(const Buffer& src, uint64_t src_offset, const Buffer& dst, uint64_t dst_offset, uint64_t bytes) {
  end_pass();
  device_->s_->p->commandEncoderCopyBufferToBuffer(static_cast<WGPUCommandEncoder>(encoder_),
                                                   static_cast<WGPUBuffer>(src.handle()), src_offset,
                                                   static_cast<WGPUBuffer>(dst.handle()), dst_offset, bytes);
}

// ---------------------------------------------------------------- Device

namespace {

struct AdapterRequest {
  bool done = false;
  WGPUAdapter adapter = nullptr;
  std::string message;
};
struct DeviceRequest {
  bool done = false;
  WGPUDevice device = nullptr;
  std::string message;
};

}  // namespace

Device::Device(std::unique_ptr<State> s) : s_(std::move(s)) {}

Device::~Device() {
  if (!s_) return;
  const DawnProcs& p = *s_->p;
  for (auto& [name, pl] : s_->pipelines) {
    p.bindGroupLayoutRelease(static_cast<WGPUBindGroupLayout>(pl.layout));
    p.computePipelineRelease(static_cast<WGPUComputePipeline>(pl.handle));
  }
  if (s_->queue) p.queueRelease(s_->queue);
  if (s_->device) {
    p.deviceDestroy(s_->device);
    p.deviceRelease(s_->device);
  }
  if (s_->adapter) p.adapterRelease(s_->adapter);
  if (s_->instance) p.instanceRelease(s_->instance);
}

bool Device::available(std::string* why) {
  try {
    auto d = open();
    return d != nullptr;
  } catch (const Error& e) {
    if (why) *why = e.what();
    return false;
  }
}

std::unique_ptr<Device> Device::open() {
  auto s = std::make_unique<State>();
  s->p = &dawn_procs();
  const DawnProcs& p = *s->p;
  s->instance = p.createInstance(nullptr);
  if (!s->instance) throw Error("WebGPU: cannot create an instance");

  // Adapter.
  AdapterRequest ar;
  WGPURequestAdapterOptions opts{};
  opts.featureLevel = WGPUFeatureLevel_Core;
  opts.powerPreference = WGPUPowerPreference_HighPerformance;
  WGPUCallbackInfo<WGPURequestAdapterCallback> acb{};
  acb.mode = WGPUCallbackMode_AllowProcessEvents;
  acb.callback = [](WGPURequestAdapterStatus status, WGPUAdapter a, WGPUStringView msg, void* u1, void*) {
    auto* r = static_cast<AdapterRequest*>(u1);
    if (status == WGPURequestAdapterStatus_Success) r->adapter = a;
    else r->message = str(msg);
    r->done = true;
  };
  acb.userdata1 = &ar;
  p.instanceRequestAdapter(s->instance, &opts, acb);
  while (!ar.done) p.instanceProcessEvents(s->instance);
  std::unique_ptr<Device> dev(new Device(std::move(s)));
  State& st = *dev->s_;
  if (!ar.adapter)
    throw Error("WebGPU: no adapter found" + (ar.message.empty() ? std::string() : ": " + ar.message) +
                " (without a GPU, point VK_ICD_FILENAMES at SwiftShader's vk_swiftshader_icd.json)");
  st.adapter = ar.adapter;

  WGPUAdapterInfo ai{};
  if (p.adapterGetInfo(st.adapter, &ai) == WGPUStatus_Success) {
    dev->info_.vendor = str(ai.vendor);
    dev->info_.architecture = str(ai.architecture);
    dev->info_.device = str(ai.device);
    dev->info_.description = str(ai.description);
    const WGPUBackendType backend = ai.backendType;
    p.adapterInfoFreeMembers(ai);
    // Dawn's Null backend answers when no real API loads (e.g. libvulkan missing): it runs nothing.
    if (backend == WGPUBackendType_Null || backend == WGPUBackendType_Undefined)
      throw Error("WebGPU: no adapter found (only Dawn's null backend; is libvulkan1 installed?)");
  }
  WGPULimits lim{};
  if (p.adapterGetLimits(st.adapter, &lim) != WGPUStatus_Success) throw Error("WebGPU: cannot read adapter limits");
  AdapterInfo& info = dev->info_;
  info.max_storage_binding_bytes = lim.maxStorageBufferBindingSize;
  info.max_buffer_bytes = lim.maxBufferSize;
  info.max_workgroups_per_dimension = lim.maxComputeWorkgroupsPerDimension;
  info.max_workgroup_storage_bytes = lim.maxComputeWorkgroupStorageSize;
  info.max_storage_buffers_per_stage = lim.maxStorageBuffersPerShaderStage;
  info.min_storage_offset_alignment = lim.minStorageBufferOffsetAlignment;
  info.shader_f16 = p.adapterHasFeature(st.adapter, WGPUFeatureName_ShaderF16);
  info.subgroups = p.adapterHasFeature(st.adapter, WGPUFeatureName_Subgroups);
  info.timestamp_query = p.adapterHasFeature(st.adapter, WGPUFeatureName_TimestampQuery);

  // Device: ask for the adapter's full limits (the defaults cap storage bindings at 128 MiB).
  std::vector<WGPUFeatureName> features;
  if (info.shader_f16) features.push_back(WGPUFeatureName_ShaderF16);
  if (info.subgroups) features.push_back(WGPUFeatureName_Subgroups);
  WGPUDeviceDescriptor dd{};
  dd.label = view("hearth");
  dd.requiredFeatureCount = features.size();
  dd.requiredFeatures = features.data();
  lim.nextInChain = nullptr;
  dd.requiredLimits = &lim;
  dd.defaultQueue.label = view("");
  // Dawn's robustness pass bounds every storage access of every kernel. Native hearth runs only its own
  // kernels, whose indices the kernels bound themselves and the op tests check against the CPU, so it is
  // off (as in llama.cpp's Vulkan backend; browsers keep theirs). The saving: SwiftShader f32 matvec
  // 1024 x 1024 9.0 -> 5.0 ms. HEARTH_DAWN_TOGGLES=a,b replaces the enabled toggles ("none": none).
  std::vector<std::string> toggle_names{"disable_robustness"};
  if (const char* t = std::getenv("HEARTH_DAWN_TOGGLES")) {
    toggle_names.clear();
    std::istringstream in(t);
    for (std::string name; std::getline(in, name, ',');)
      if (!name.empty() && name != "none") toggle_names.push_back(name);
  }
  std::vector<const char*> toggles;
  for (const std::string& name : toggle_names) toggles.push_back(name.c_str());
  WGPUDawnTogglesDescriptor td{};
  td.chain.sType = WGPUSType_DawnTogglesDescriptor;
  td.enabledToggleCount = toggles.size();
  td.enabledToggles = toggles.data();
  dd.nextInChain = &td.chain;
  dd.deviceLostCallbackInfo.mode = WGPUCallbackMode_AllowProcessEvents;
  dd.deviceLostCallbackInfo.callback = [](const WGPUDevice*, WGPUDeviceLostReason reason, WGPUStringView msg,
                                          void* u1, void*) {
    auto* st = static_cast<State*>(u1);
    if (reason == WGPUDeviceLostReason_Destroyed) return;  // our own teardown
    std::lock_guard<std::mutex> lock(st->mu);
    st->lost = true;
    if (st->error.empty()) st->error = "GPU device lost: " + str(msg);
  };
  dd.deviceLostCallbackInfo.userdata1 = &st;
  dd.uncapturedErrorCallbackInfo.callback = [](const WGPUDevice*, WGPUErrorType type, WGPUStringView msg, void* u1,
                                               void*) {
    auto* st = static_cast<State*>(u1);
    std::lock_guard<std::mutex> lock(st->mu);
    if (st->error.empty()) st->error = std::string(error_kind(type)) + ": " + str(msg);
  };
  dd.uncapturedErrorCallbackInfo.userdata1 = &st;
  DeviceRequest dr;
  WGPUCallbackInfo<WGPURequestDeviceCallback> dcb{};
  dcb.mode = WGPUCallbackMode_AllowProcessEvents;
  dcb.callback = [](WGPURequestDeviceStatus status, WGPUDevice d, WGPUStringView msg, void* u1, void*) {
    auto* r = static_cast<DeviceRequest*>(u1);
    if (status == WGPURequestDeviceStatus_Success) r->device = d;
    else r->message = str(msg);
    r->done = true;
  };
  dcb.userdata1 = &dr;
  p.adapterRequestDevice(st.adapter, &dd, dcb);
  while (!dr.done) p.instanceProcessEvents(st.instance);
  if (!dr.device) throw Error("WebGPU: the adapter refused a device: " + dr.message);
  st.device = dr.device;
  st.queue = p.deviceGetQueue(st.device);
  return dev;
}

void Device::check_errors() {
  std::string e;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    e = std::move(s_->error);
    s_->error.clear();
  }
  if (!e.empty()) throw Error("WebGPU: " + e);
}

Buffer Device::create_buffer(uint64_t bytes, bool uniform, const char* label) {
  bytes = (std::max<uint64_t>(bytes, 4) + 3) & ~uint64_t(3);
  if (bytes > info_.max_buffer_bytes)
    throw Error("WebGPU: a buffer of " + std::to_string(bytes) + " bytes exceeds the adapter's maxBufferSize of " +
                std::to_string(info_.max_buffer_bytes));
  const DawnProcs& p = *s_->p;
  WGPUBufferDescriptor d{};
  d.label = view(label);
  d.usage = WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst;
  if (uniform) d.usage = WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst;
  d.size = bytes;
  p.devicePushErrorScope(s_->device, WGPUErrorFilter_OutOfMemory);
  WGPUBuffer b = p.deviceCreateBuffer(s_->device, &d);
  struct Pop {
    bool done = false;
    std::string message;
  } pop;
  WGPUCallbackInfo<WGPUPopErrorScopeCallback> cb{};
  cb.mode = WGPUCallbackMode_AllowProcessEvents;
  cb.callback = [](WGPUPopErrorScopeStatus, WGPUErrorType type, WGPUStringView msg, void* u1, void*) {
    auto* r = static_cast<Pop*>(u1);
    if (type != WGPUErrorType_NoError) r->message = str(msg);
    r->done = true;
  };
  cb.userdata1 = &pop;
  p.devicePopErrorScope(s_->device, cb);
  s_->poll_until([&] { return pop.done; });
  if (!pop.message.empty() || !b) {
    if (b) p.bufferRelease(b);
    throw Error("WebGPU: out of GPU memory allocating " + std::to_string(bytes) + " bytes (" + label +
                "): " + pop.message);
  }
  check_errors();
  Buffer out;
  out.device_ = this;
  out.handle_ = b;
  out.size_ = bytes;
  out.id_ = ++s_->next_buffer_id;
  return out;
}

Buffer Device::create_readback_buffer(uint64_t bytes) {
  bytes = (std::max<uint64_t>(bytes, 4) + 3) & ~uint64_t(3);
  WGPUBufferDescriptor d{};
  d.label = view("readback");
  d.usage = WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst;
  d.size = bytes;
  WGPUBuffer b = s_->p->deviceCreateBuffer(s_->device, &d);
  if (!b) throw Error("WebGPU: cannot create a read-back buffer");
  Buffer out;
  out.device_ = this;
  out.handle_ = b;
  out.size_ = bytes;
  out.id_ = ++s_->next_buffer_id;
  return out;
}

void Device::write(const Buffer& b, uint64_t offset, const void* data, uint64_t bytes) {
  if (offset + bytes > b.size())
    throw Error("WebGPU: write of " + std::to_string(bytes) + " bytes at " + std::to_string(offset) +
                " overruns a buffer of " + std::to_string(b.size()));
  if (bytes % 4 != 0 || offset % 4 != 0) {
    // WebGPU writes whole words: pad the tail with zeros.
    std::vector<uint8_t> tmp((bytes + 3) & ~uint64_t(3), 0);
    std::memcpy(tmp.data(), data, bytes);
    s_->p->queueWriteBuffer(s_->queue, static_cast<WGPUBuffer>(b.handle()), offset, tmp.data(), tmp.size());
  } else {
    s_->p->queueWriteBuffer(s_->queue, static_cast<WGPUBuffer>(b.handle()), offset, data, bytes);
  }
}

void Device::wait_map(const Buffer& b, uint64_t bytes) {
  struct Map {
    bool done = false;
    bool ok = false;
    std::string message;
  } m;
  WGPUCallbackInfo<WGPUBufferMapCallback> cb{};
  cb.mode = WGPUCallbackMode_AllowProcessEvents;
  cb.callback = [](WGPUMapAsyncStatus status, WGPUStringView msg, void* u1, void*) {
    auto* r = static_cast<Map*>(u1);
    r->ok = status == WGPUMapAsyncStatus_Success;
    if (!r->ok) r->message = str(msg);
    r->done = true;
  };
  cb.userdata1 = &m;
  s_->p->bufferMapAsync(static_cast<WGPUBuffer>(b.handle()), WGPUMapMode_Read, 0, size_t(bytes), cb);
  s_->poll_until([&] { return m.done; });
  check_errors();
  if (!m.ok) throw Error("WebGPU: read-back failed: " + m.message);
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
  wait_map(readback, padded);
  const void* src = s_->p->bufferGetConstMappedRange(static_cast<WGPUBuffer>(readback.handle()), 0, size_t(padded));
  if (!src) throw Error("WebGPU: mapped range unavailable");
  std::memcpy(dst, src, bytes);
  s_->p->bufferUnmap(static_cast<WGPUBuffer>(readback.handle()));
}

const Pipeline& Device::pipeline(const std::string& name, const std::string& wgsl) {
  auto it = s_->pipelines.find(name);
  if (it != s_->pipelines.end()) return it->second;
  const DawnProcs& p = *s_->p;
  p.devicePushErrorScope(s_->device, WGPUErrorFilter_Validation);
  WGPUShaderSourceWGSL src{};
  src.chain.sType = WGPUSType_ShaderSourceWGSL;
  src.code = view(wgsl);
  WGPUShaderModuleDescriptor md{};
  md.nextInChain = &src.chain;
  md.label = view(name);
  WGPUShaderModule module = p.deviceCreateShaderModule(s_->device, &md);
  WGPUComputePipelineDescriptor pd{};
  pd.label = view(name);
  pd.layout = nullptr;
  pd.compute.module = module;
  pd.compute.entryPoint = view("main");
  WGPUComputePipeline pl = p.deviceCreateComputePipeline(s_->device, &pd);
  struct Pop {
    bool done = false;
    std::string message;
  } pop;
  WGPUCallbackInfo<WGPUPopErrorScopeCallback> cb{};
  cb.mode = WGPUCallbackMode_AllowProcessEvents;
  cb.callback = [](WGPUPopErrorScopeStatus, WGPUErrorType type, WGPUStringView msg, void* u1, void*) {
    auto* r = static_cast<Pop*>(u1);
    if (type != WGPUErrorType_NoError) r->message = str(msg);
    r->done = true;
  };
  cb.userdata1 = &pop;
  p.devicePopErrorScope(s_->device, cb);
  s_->poll_until([&] { return pop.done; });
  if (module) p.shaderModuleRelease(module);
  if (!pop.message.empty() || !pl) {
    if (pl) p.computePipelineRelease(pl);
    throw Error("WebGPU: kernel " + name + " failed to compile: " + pop.message);
  }
  Pipeline out;
  out.handle = pl;
  out.layout = p.computePipelineGetBindGroupLayout(pl, 0);
  out.name = name;
  return s_->pipelines.emplace(name, out).first->second;
}

BindGroup Device::bind(const Pipeline& pl, const std::vector<Binding>& bindings) {
  std::vector<WGPUBindGroupEntry> entries(bindings.size());
  for (size_t i = 0; i < bindings.size(); i++) {
    const Binding& b = bindings[i];
    if (!b.buffer || !b.buffer->valid()) throw Error("WebGPU: " + pl.name + ": binding " + std::to_string(b.binding) + " has no buffer");
    WGPUBindGroupEntry& e = entries[i];
    e = {};
    e.binding = b.binding;
    e.buffer = static_cast<WGPUBuffer>(b.buffer->handle());
    e.offset = b.offset;
    e.size = b.size ? b.size : b.buffer->size() - b.offset;
    if (e.size > info_.max_storage_binding_bytes)
      throw Error("WebGPU: " + pl.name + ": a binding of " + std::to_string(e.size) +
                  " bytes exceeds maxStorageBufferBindingSize " + std::to_string(info_.max_storage_binding_bytes));
  }
  WGPUBindGroupDescriptor d{};
  d.label = view(pl.name);
  d.layout = static_cast<WGPUBindGroupLayout>(pl.layout);
  d.entryCount = entries.size();
  d.entries = entries.data();
  BindGroup g;
  g.device_ = this;
  g.handle_ = s_->p->deviceCreateBindGroup(s_->device, &d);
  return g;
}

Recorder Device::record() { return Recorder(this); }

void Device::submit(Recorder& r) {
  r.end_pass();
  const DawnProcs& p = *s_->p;
  WGPUCommandBuffer cb = p.commandEncoderFinish(static_cast<WGPUCommandEncoder>(r.encoder_), nullptr);
  p.commandEncoderRelease(static_cast<WGPUCommandEncoder>(r.encoder_));
  r.encoder_ = nullptr;
  p.queueSubmit(s_->queue, 1, &cb);
  p.commandBufferRelease(cb);
  check_errors();
}

void Device::wait_idle() {
  // A mapped read orders after all submitted work. (The work-done callback changed signature across
  // webgpu.h revisions; buffer mapping did not.)
  Buffer src = create_buffer(4, false, "fence");
  Buffer dst = create_readback_buffer(4);
  Recorder r = record();
  r.copy(src, 0, dst, 0, 4);
  uint32_t sink = 0;
  submit_and_read(r, dst, &sink, 4);
}

}  // namespace hearth::webgpu
