#include "backend/webgpu/backend_choice.h"

#include "backend/webgpu/webgpu_transformer.h"
#include "hearth/error.h"

namespace hearth::webgpu {

std::unique_ptr<Device> open_device_for(Backend backend, bool kv_f32, const ModelConfig& config,
                                        const ModelWeights& weights, int64_t n_ctx, int n_seq, std::string* why_cpu) {
  why_cpu->clear();
  if (backend == Backend::Cpu) return nullptr;
  if (kv_f32) {
    if (backend == Backend::WebGpu) throw Error("an f32 KV cache (kv_f32) is not available on the WebGPU backend (its KV cache is f16)");
    *why_cpu = "WebGPU keeps an f16 KV cache; an f32 one runs on the CPU";
    return nullptr;
  }
  if (backend == Backend::WebGpu) return Device::open();
  try {
    auto dev = Device::open();
    *why_cpu = WebGpuTransformer::unsupported_reason(config, weights, dev->info(), n_ctx, n_seq);
    if (why_cpu->empty()) return dev;
  } catch (const Error& e) {
    *why_cpu = e.what();
  }
  return nullptr;
}

}  // namespace hearth::webgpu
