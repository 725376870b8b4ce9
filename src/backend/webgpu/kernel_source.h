#pragma once
// WGSL kernels embedded at build time (kernels/*.wgsl) and the small templating step that specializes
// them: `#include "file.wgsl"` lines are replaced by that file (once per kernel), and `{{NAME}}` by the
// value given for NAME (weight format, activation format, workgroup size, tile size). Anything left
// unreplaced is an error, so a typo cannot silently produce a different kernel.
#include <map>
#include <string>
#include <vector>

namespace hearth::webgpu {

struct EmbeddedKernelFile {
  const char* name;
  const char* text;
};
const std::vector<EmbeddedKernelFile>& embedded_kernel_files();

using KernelVars = std::map<std::string, std::string>;

// The full WGSL of kernel `file` with includes expanded and variables substituted.
std::string kernel_source(const std::string& file, const KernelVars& vars = {});

}  // namespace hearth::webgpu
