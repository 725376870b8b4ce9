#pragma once
// Dawn's WebGPU C library, opened with dlopen: the function table the native device layer calls.
// Default: libwebgpu_wrapper.so of npm bun-webgpu-linux-x64 (installed by scripts/setup.sh into
// tools/webgpu/); HEARTH_DAWN_LIB overrides the path.
#include <string>

#include "backend/webgpu/webgpu_api.h"

namespace hearth::webgpu {

struct DawnProcs {
  WGPUInstance (*createInstance)(const void* descriptor);
  void (*instanceRelease)(WGPUInstance);
  WGPUFuture (*instanceRequestAdapter)(WGPUInstance, const WGPURequestAdapterOptions*,
                                       WGPUCallbackInfo<WGPURequestAdapterCallback>);
  void (*instanceProcessEvents)(WGPUInstance);
  void (*adapterRelease)(WGPUAdapter);
  WGPUStatus (*adapterGetLimits)(WGPUAdapter, WGPULimits*);
  WGPUStatus (*adapterGetInfo)(WGPUAdapter, WGPUAdapterInfo*);
  void (*adapterInfoFreeMembers)(WGPUAdapterInfo);
  WGPUBool (*adapterHasFeature)(WGPUAdapter, WGPUFeatureName);
  WGPUFuture (*adapterRequestDevice)(WGPUAdapter, const WGPUDeviceDescriptor*,
                                     WGPUCallbackInfo<WGPURequestDeviceCallback>);
  void (*deviceRelease)(WGPUDevice);
  void (*deviceDestroy)(WGPUDevice);
  WGPUQueue (*deviceGetQueue)(WGPUDevice);
  WGPUBuffer (*deviceCreateBuffer)(WGPUDevice, const WGPUBufferDescriptor*);
  WGPUShaderModule (*deviceCreateShaderModule)(WGPUDevice, const WGPUShaderModuleDescriptor*);
  WGPUComputePipeline (*deviceCreateComputePipeline)(WGPUDevice, const WGPUComputePipelineDescriptor*);
  WGPUBindGroup (*deviceCreateBindGroup)(WGPUDevice, const WGPUBindGroupDescriptor*);
  WGPUCommandEncoder (*deviceCreateCommandEncoder)(WGPUDevice, const WGPUCommandEncoderDescriptor*);
  void (*devicePushErrorScope)(WGPUDevice, WGPUErrorFilter);
  WGPUFuture (*devicePopErrorScope)(WGPUDevice, WGPUCallbackInfo<WGPUPopErrorScopeCallback>);
  void (*queueRelease)(WGPUQueue);
  void (*queueSubmit)(WGPUQueue, size_t, const WGPUCommandBuffer*);
  void (*queueWriteBuffer)(WGPUQueue, WGPUBuffer, uint64_t, const void*, size_t);
  void (*bufferRelease)(WGPUBuffer);
  void (*bufferDestroy)(WGPUBuffer);
  WGPUFuture (*bufferMapAsync)(WGPUBuffer, WGPUFlags, size_t, size_t, WGPUCallbackInfo<WGPUBufferMapCallback>);
  const void* (*bufferGetConstMappedRange)(WGPUBuffer, size_t, size_t);
  void (*bufferUnmap)(WGPUBuffer);
  void (*shaderModuleRelease)(WGPUShaderModule);
  void (*computePipelineRelease)(WGPUComputePipeline);
  WGPUBindGroupLayout (*computePipelineGetBindGroupLayout)(WGPUComputePipeline, uint32_t);
  void (*bindGroupLayoutRelease)(WGPUBindGroupLayout);
  void (*bindGroupRelease)(WGPUBindGroup);
  WGPUComputePassEncoder (*commandEncoderBeginComputePass)(WGPUCommandEncoder, const WGPUComputePassDescriptor*);
  void (*commandEncoderCopyBufferToBuffer)(WGPUCommandEncoder, WGPUBuffer, uint64_t, WGPUBuffer, uint64_t, uint64_t);
  WGPUCommandBuffer (*commandEncoderFinish)(WGPUCommandEncoder, const void*);
  void (*commandEncoderRelease)(WGPUCommandEncoder);
  void (*commandBufferRelease)(WGPUCommandBuffer);
  void (*computePassSetPipeline)(WGPUComputePassEncoder, WGPUComputePipeline);
  void (*computePassSetBindGroup)(WGPUComputePassEncoder, uint32_t, WGPUBindGroup, size_t, const uint32_t*);
  void (*computePassDispatchWorkgroups)(WGPUComputePassEncoder, uint32_t, uint32_t, uint32_t);
  void (*computePassEnd)(WGPUComputePassEncoder);
  void (*computePassRelease)(WGPUComputePassEncoder);
};

// Opens the library once per process; throws hearth::Error naming the path when it or a function is missing.
const DawnProcs& dawn_procs();
// Where the library is looked for (HEARTH_DAWN_LIB, else the setup-installed copy).
std::string dawn_library_path();

}  // namespace hearth::webgpu
