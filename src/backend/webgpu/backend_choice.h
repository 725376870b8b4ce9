#pragma once
// Resolves Backend::{Cpu, WebGpu, Auto} for one model: the WebGPU device to run it on, or none (the CPU).
// Shared by the Engine and the runtime's local endpoints so both choose, and explain, the same way.
#include <cstdint>
#include <memory>
#include <string>

#include "backend/webgpu/device.h"
#include "hearth/backend.h"
#include "model/model_config.h"
#include "model/model_weights.h"

namespace hearth::webgpu {

// WebGpu: a device or a thrown hearth::Error (no adapter, kv_f32 asked for). Auto: a device when one exists
// and the model (n_seq sequences of n_ctx positions) fits its limits, else null with *why_cpu saying why.
std::unique_ptr<Device> open_device_for(Backend backend, bool kv_f32, const ModelConfig& config,
                                        const ModelWeights& weights, int64_t n_ctx, int n_seq, std::string* why_cpu);

}  // namespace hearth::webgpu
