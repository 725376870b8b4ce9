#include <cstdlib>
#include <filesystem>

#include "commands.h"
#include "hearth/error.h"

namespace hearth::cli {

std::string default_model_path() {
  if (const char* env = std::getenv("HEARTH_MODEL"); env && *env) return env;
  namespace fs = std::filesystem;
  for (fs::path p : {fs::path("models/default.gguf"), fs::path(HEARTH_SOURCE_DIR) / "models/default.gguf"})
    if (fs::exists(p)) return p.string();
  throw Error("no model given (-m) and models/default.gguf does not exist; run scripts/setup.sh or pass -m MODEL.gguf");
}

}  // namespace hearth::cli
