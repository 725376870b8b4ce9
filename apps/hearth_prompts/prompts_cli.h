#pragma once
// The prompt registry's command line — push prompt files, inspect, diff, promote, roll back — registered on a
// CLI11 app: `hearth prompts ...` and the standalone `hearth-prompts ...` share it.
//   hearth prompts --registry http://127.0.0.1:8088 --token-env HEARTH_REGISTRY_TOKEN push prompts/
#include <CLI/CLI.hpp>

namespace hearth::cli {

void add_prompts_commands(CLI::App& app);

}  // namespace hearth::cli
