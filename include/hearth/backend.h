#pragma once
#include <string>

namespace hearth {

// Where the forward pass runs. Auto: WebGPU when an adapter exists and the model fits its limits, else
// the CPU. WebGPU needs Dawn's library (scripts/setup.sh installs it; HEARTH_DAWN_LIB overrides the path).
enum class Backend { Cpu, WebGpu, Auto };
// "cpu", "webgpu", "auto"; throws hearth::Error on anything else.
Backend parse_backend(const std::string& name);

}  // namespace hearth
