#include "backend/webgpu/kernel_source.h"

#include <set>
#include <sstream>

#include "hearth/error.h"

namespace hearth::webgpu {

namespace {

const char* find_file(const std::string& name) {
  for (const auto& f : embedded_kernel_files())
    if (name == f.name) return f.text;
  throw Error("WebGPU: no embedded kernel file " + name);
}

std::string substitute(std::string text, const KernelVars& vars, const std::string& where) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) break;
    size_t close = text.find("}}", open);
    if (close == std::string::npos) throw Error("WebGPU: unterminated {{ in " + where);
    std::string key = text.substr(open + 2, close - open - 2);
    auto it = vars.find(key);
    if (it == vars.end()) throw Error("WebGPU: kernel " + where + " needs a value for {{" + key + "}}");
    out.append(text, i, open - i);
    out += it->second;
    i = close + 2;
  }
  out.append(text, i, std::string::npos);
  return out;
}

void expand(const std::string& file, const KernelVars& vars, std::set<std::string>& seen, std::string& out) {
  if (!seen.insert(file).second) return;  // each file once, like an include guard
  std::istringstream in(substitute(find_file(file), vars, file));
  std::string line;
  while (std::getline(in, line)) {
    const std::string directive = "#include \"";
    if (line.rfind(directive, 0) == 0) {
      size_t end = line.find('"', directive.size());
      if (end == std::string::npos) throw Error("WebGPU: malformed #include in " + file);
      expand(line.substr(directive.size(), end - directive.size()), vars, seen, out);
      continue;
    }
    out += line;
    out += '\n';
  }
}

}  // namespace

std::string kernel_source(const std::string& file, const KernelVars& vars) {
  std::set<std::string> seen;
  std::string out;
  expand(file, vars, seen, out);
  return out;
}

}  // namespace hearth::webgpu
