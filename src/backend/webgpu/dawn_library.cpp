#include "backend/webgpu/dawn_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <type_traits>

#include "hearth/error.h"

#ifndef HEARTH_DEFAULT_DAWN_LIB
#define HEARTH_DEFAULT_DAWN_LIB ""
#endif

namespace hearth::webgpu {

std::string dawn_library_path() {
  if (const char* p = std::getenv("HEARTH_DAWN_LIB"); p && *p) return p;
  return HEARTH_DEFAULT_DAWN_LIB;
}

namespace {

DawnProcs load(const std::string& path) {
  if (path.empty()) throw Error("no WebGPU library configured: set HEARTH_DAWN_LIB to libwebgpu_wrapper.so");
  // RTLD_LOCAL keeps Dawn's symbols away from the rest of the process.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    throw Error("cannot load the WebGPU library " + path + ": " + (why ? why : "unknown error") +
                " (run scripts/setup.sh, or set HEARTH_DAWN_LIB)");
  }
  DawnProcs p{};
  auto get = [&](auto& fn, const char* name) {
    void* sym = dlsym(lib, name);
    if (!sym) throw Error(std::string("the WebGPU library ") + path + " lacks " + name);
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
  };
  get(p.createInstance, "wgpuCreateInstance");
  get(p.instanceRelease, "wgpuInstanceRelease");
  get(p.instanceRequestAdapter, "wgpuInstanceRequestAdapter");
  get(p.instanceProcessEvents, "wgpuInstanceProcessEvents");
  get(p.adapterRelease, "wgpuAdapterRelease");
  get(p.adapterGetLimits, "wgpuAdapterGetLimits");
  get(p.adapterGetInfo, "wgpuAdapterGetInfo");
  get(p.adapterInfoFreeMembers, "wgpuAdapterInfoFreeMembers");
  get(p.adapterHasFeature, "wgpuAdapterHasFeature");
  get(p.adapterRequestDevice, "wgpuAdapterRequestDevice");
  get(p.deviceRelease, "wgpuDeviceRelease");
  get(p.deviceDestroy, "wgpuDeviceDestroy");
  get(p.deviceGetQueue, "wgpuDeviceGetQueue");
  get(p.deviceCreateBuffer, "wgpuDeviceCreateBuffer");
  get(p.deviceCreateShaderModule, "wgpuDeviceCreateShaderModule");
  get(p.deviceCreateComputePipeline, "wgpuDeviceCreateComputePipeline");
  get(p.deviceCreateBindGroup, "wgpuDeviceCreateBindGroup");
  get(p.deviceCreateCommandEncoder, "wgpuDeviceCreateCommandEncoder");
  get(p.devicePushErrorScope, "wgpuDevicePushErrorScope");
  get(p.devicePopErrorScope, "wgpuDevicePopErrorScope");
  get(p.queueRelease, "wgpuQueueRelease");
  get(p.queueSubmit, "wgpuQueueSubmit");
  get(p.queueWriteBuffer, "wgpuQueueWriteBuffer");
  get(p.bufferRelease, "wgpuBufferRelease");
  get(p.bufferDestroy, "wgpuBufferDestroy");
  get(p.bufferMapAsync, "wgpuBufferMapAsync");
  get(p.bufferGetConstMappedRange, "wgpuBufferGetConstMappedRange");
  get(p.bufferUnmap, "wgpuBufferUnmap");
  get(p.shaderModuleRelease, "wgpuShaderModuleRelease");
  get(p.computePipelineRelease, "wgpuComputePipelineRelease");
  get(p.computePipelineGetBindGroupLayout, "wgpuComputePipelineGetBindGroupLayout");
  get(p.bindGroupLayoutRelease, "wgpuBindGroupLayoutRelease");
  get(p.bindGroupRelease, "wgpuBindGroupRelease");
  get(p.commandEncoderBeginComputePass, "wgpuCommandEncoderBeginComputePass");
  get(p.commandEncoderCopyBufferToBuffer, "wgpuCommandEncoderCopyBufferToBuffer");
  get(p.commandEncoderFinish, "wgpuCommandEncoderFinish");
  get(p.commandEncoderRelease, "wgpuCommandEncoderRelease");
  get(p.commandBufferRelease, "wgpuCommandBufferRelease");
  get(p.computePassSetPipeline, "wgpuComputePassEncoderSetPipeline");
  get(p.computePassSetBindGroup, "wgpuComputePassEncoderSetBindGroup");
  get(p.computePassDispatchWorkgroups, "wgpuComputePassEncoderDispatchWorkgroups");
  get(p.computePassEnd, "wgpuComputePassEncoderEnd");
  get(p.computePassRelease, "wgpuComputePassEncoderRelease");
  return p;  // the library stays loaded for the life of the process
}

}  // namespace

const DawnProcs& dawn_procs() {
  static std::mutex mu;
  static std::unique_ptr<DawnProcs> procs;
  std::lock_guard<std::mutex> lock(mu);
  if (!procs) procs = std::make_unique<DawnProcs>(load(dawn_library_path()));
  return *procs;
}

}  // namespace hearth::webgpu
