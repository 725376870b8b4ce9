#pragma once
// The subset of the WebGPU C API (webgpu.h of the webgpu-native/webgpu-headers project, 2025 revision:
// WGPUStringView, *CallbackInfo, futures) that hearth's native device layer calls, declared here from
// the published API so hearth builds without Dawn's headers. Functions are looked up at run time
// (dawn_library.cpp), so hearth runs without a GPU stack and reports a clear error when none is found.
// Layouts are proven by the op tests that run on Dawn + SwiftShader.
#include <cstddef>
#include <cstdint>

// Plain structs and function-pointer types: the C ABI needs no extern "C" here (only the looked-up
// symbol names are C, and dlsym takes them as strings).

typedef uint64_t WGPUFlags;
typedef uint32_t WGPUBool;

struct WGPUStringView {
  const char* data;
  size_t length;
};
constexpr size_t kWgpuStrlen = SIZE_MAX;

typedef struct WGPUAdapterImpl* WGPUAdapter;
typedef struct WGPUBindGroupImpl* WGPUBindGroup;
typedef struct WGPUBindGroupLayoutImpl* WGPUBindGroupLayout;
typedef struct WGPUBufferImpl* WGPUBuffer;
typedef struct WGPUCommandBufferImpl* WGPUCommandBuffer;
typedef struct WGPUCommandEncoderImpl* WGPUCommandEncoder;
typedef struct WGPUComputePassEncoderImpl* WGPUComputePassEncoder;
typedef struct WGPUComputePipelineImpl* WGPUComputePipeline;
typedef struct WGPUDeviceImpl* WGPUDevice;
typedef struct WGPUInstanceImpl* WGPUInstance;
typedef struct WGPUPipelineLayoutImpl* WGPUPipelineLayout;
typedef struct WGPUQuerySetImpl* WGPUQuerySet;
typedef struct WGPUQueueImpl* WGPUQueue;
typedef struct WGPUShaderModuleImpl* WGPUShaderModule;

// Enumerations (values as published; only the members hearth uses).
enum WGPUCallbackMode : uint32_t { WGPUCallbackMode_WaitAnyOnly = 1, WGPUCallbackMode_AllowProcessEvents = 2 };
enum WGPUFeatureLevel : uint32_t { WGPUFeatureLevel_Core = 2 };
enum WGPUPowerPreference : uint32_t { WGPUPowerPreference_HighPerformance = 2 };
enum WGPUBackendType : uint32_t { WGPUBackendType_Undefined = 0, WGPUBackendType_Null = 1, WGPUBackendType_Vulkan = 6 };
enum WGPUAdapterType : uint32_t { WGPUAdapterType_Unknown = 4 };
enum WGPURequestAdapterStatus : uint32_t { WGPURequestAdapterStatus_Success = 1 };
enum WGPURequestDeviceStatus : uint32_t { WGPURequestDeviceStatus_Success = 1 };
enum WGPUMapAsyncStatus : uint32_t { WGPUMapAsyncStatus_Success = 1 };
enum WGPUPopErrorScopeStatus : uint32_t { WGPUPopErrorScopeStatus_Success = 1 };
enum WGPUStatus : uint32_t { WGPUStatus_Success = 1 };
enum WGPUErrorFilter : uint32_t { WGPUErrorFilter_Validation = 1, WGPUErrorFilter_OutOfMemory = 2 };
enum WGPUErrorType : uint32_t {
  WGPUErrorType_NoError = 1,
  WGPUErrorType_Validation = 2,
  WGPUErrorType_OutOfMemory = 3,
  WGPUErrorType_Internal = 4,
  WGPUErrorType_Unknown = 5
};
enum WGPUDeviceLostReason : uint32_t { WGPUDeviceLostReason_Destroyed = 2 };
enum WGPUSType : uint32_t { WGPUSType_ShaderSourceWGSL = 2, WGPUSType_DawnTogglesDescriptor = 0x0005000A };
enum WGPUFeatureName : uint32_t {
  WGPUFeatureName_TimestampQuery = 0x03,
  WGPUFeatureName_ShaderF16 = 0x0A,
  WGPUFeatureName_Subgroups = 0x12,
};

constexpr WGPUFlags WGPUBufferUsage_MapRead = 0x01;
constexpr WGPUFlags WGPUBufferUsage_CopySrc = 0x04;
constexpr WGPUFlags WGPUBufferUsage_CopyDst = 0x08;
constexpr WGPUFlags WGPUBufferUsage_Uniform = 0x40;
constexpr WGPUFlags WGPUBufferUsage_Storage = 0x80;
constexpr WGPUFlags WGPUMapMode_Read = 0x01;

struct WGPUChainedStruct {
  const WGPUChainedStruct* next;
  WGPUSType sType;
};

struct WGPUFuture {
  uint64_t id;
};

typedef void (*WGPURequestAdapterCallback)(WGPURequestAdapterStatus, WGPUAdapter, WGPUStringView, void*, void*);
typedef void (*WGPURequestDeviceCallback)(WGPURequestDeviceStatus, WGPUDevice, WGPUStringView, void*, void*);
typedef void (*WGPUBufferMapCallback)(WGPUMapAsyncStatus, WGPUStringView, void*, void*);
typedef void (*WGPUPopErrorScopeCallback)(WGPUPopErrorScopeStatus, WGPUErrorType, WGPUStringView, void*, void*);
typedef void (*WGPUDeviceLostCallback)(const WGPUDevice*, WGPUDeviceLostReason, WGPUStringView, void*, void*);
typedef void (*WGPUUncapturedErrorCallback)(const WGPUDevice*, WGPUErrorType, WGPUStringView, void*, void*);

// Every *CallbackInfo of the API has this shape (the uncaptured-error one lacks `mode`).
template <typename Callback>
struct WGPUCallbackInfo {
  const WGPUChainedStruct* nextInChain;
  WGPUCallbackMode mode;
  Callback callback;
  void* userdata1;
  void* userdata2;
};
struct WGPUUncapturedErrorCallbackInfo {
  const WGPUChainedStruct* nextInChain;
  WGPUUncapturedErrorCallback callback;
  void* userdata1;
  void* userdata2;
};

struct WGPURequestAdapterOptions {
  const WGPUChainedStruct* nextInChain;
  WGPUFeatureLevel featureLevel;
  WGPUPowerPreference powerPreference;
  WGPUBool forceFallbackAdapter;
  WGPUBackendType backendType;
  void* compatibleSurface;
};

struct WGPUAdapterInfo {
  void* nextInChain;
  WGPUStringView vendor;
  WGPUStringView architecture;
  WGPUStringView device;
  WGPUStringView description;
  WGPUBackendType backendType;
  WGPUAdapterType adapterType;
  uint32_t vendorID;
  uint32_t deviceID;
  // Room for fields a newer library appends (it only writes what its own header declares).
  uint64_t reserved[8];
};

struct WGPULimits {
  void* nextInChain;
  uint32_t maxTextureDimension1D;
  uint32_t maxTextureDimension2D;
  uint32_t maxTextureDimension3D;
  uint32_t maxTextureArrayLayers;
  uint32_t maxBindGroups;
  uint32_t maxBindGroupsPlusVertexBuffers;
  uint32_t maxBindingsPerBindGroup;
  uint32_t maxDynamicUniformBuffersPerPipelineLayout;
  uint32_t maxDynamicStorageBuffersPerPipelineLayout;
  uint32_t maxSampledTexturesPerShaderStage;
  uint32_t maxSamplersPerShaderStage;
  uint32_t maxStorageBuffersPerShaderStage;
  uint32_t maxStorageTexturesPerShaderStage;
  uint32_t maxUniformBuffersPerShaderStage;
  uint64_t maxUniformBufferBindingSize;
  uint64_t maxStorageBufferBindingSize;
  uint32_t minUniformBufferOffsetAlignment;
  uint32_t minStorageBufferOffsetAlignment;
  uint32_t maxVertexBuffers;
  uint64_t maxBufferSize;
  uint32_t maxVertexAttributes;
  uint32_t maxVertexBufferArrayStride;
  uint32_t maxInterStageShaderVariables;
  uint32_t maxColorAttachments;
  uint32_t maxColorAttachmentBytesPerSample;
  uint32_t maxComputeWorkgroupStorageSize;
  uint32_t maxComputeInvocationsPerWorkgroup;
  uint32_t maxComputeWorkgroupSizeX;
  uint32_t maxComputeWorkgroupSizeY;
  uint32_t maxComputeWorkgroupSizeZ;
  uint32_t maxComputeWorkgroupsPerDimension;
  uint32_t maxImmediateSize;
  uint64_t reserved[8];
};

struct WGPUQueueDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
};

// Dawn's extension: toggles by name, chained to the device descriptor.
struct WGPUDawnTogglesDescriptor {
  WGPUChainedStruct chain;
  size_t enabledToggleCount;
  const char* const* enabledToggles;
  size_t disabledToggleCount;
  const char* const* disabledToggles;
};

struct WGPUDeviceDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
  size_t requiredFeatureCount;
  const WGPUFeatureName* requiredFeatures;
  const WGPULimits* requiredLimits;
  WGPUQueueDescriptor defaultQueue;
  WGPUCallbackInfo<WGPUDeviceLostCallback> deviceLostCallbackInfo;
  WGPUUncapturedErrorCallbackInfo uncapturedErrorCallbackInfo;
};

struct WGPUBufferDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
  WGPUFlags usage;
  uint64_t size;
  WGPUBool mappedAtCreation;
};

struct WGPUShaderSourceWGSL {
  WGPUChainedStruct chain;
  WGPUStringView code;
};

struct WGPUShaderModuleDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
};

struct WGPUConstantEntry {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView key;
  double value;
};

struct WGPUComputeState {
  const WGPUChainedStruct* nextInChain;
  WGPUShaderModule module;
  WGPUStringView entryPoint;
  size_t constantCount;
  const WGPUConstantEntry* constants;
};

struct WGPUComputePipelineDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
  WGPUPipelineLayout layout;  // null: derived from the shader
  WGPUComputeState compute;
};

struct WGPUBindGroupEntry {
  const WGPUChainedStruct* nextInChain;
  uint32_t binding;
  WGPUBuffer buffer;
  uint64_t offset;
  uint64_t size;
  void* sampler;
  void* textureView;
};

struct WGPUBindGroupDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
  WGPUBindGroupLayout layout;
  size_t entryCount;
  const WGPUBindGroupEntry* entries;
};

struct WGPUCommandEncoderDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
};

struct WGPUComputePassTimestampWrites {
  WGPUQuerySet querySet;
  uint32_t beginningOfPassWriteIndex;
  uint32_t endOfPassWriteIndex;
};

struct WGPUComputePassDescriptor {
  const WGPUChainedStruct* nextInChain;
  WGPUStringView label;
  const WGPUComputePassTimestampWrites* timestampWrites;
};

struct WGPUFutureWaitInfo {
  WGPUFuture future;
  WGPUBool completed;
};

