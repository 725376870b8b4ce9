#pragma once
// Subcommands of the `hearth` executable; each registers its options on the CLI11 app.
#include <CLI/CLI.hpp>

namespace hearth::cli {

void add_run_command(CLI::App& app);       // hearth run "prompt"
void add_chat_command(CLI::App& app);      // hearth chat
void add_info_command(CLI::App& app);      // hearth info MODEL
void add_tokenize_command(CLI::App& app);  // hearth tokenize -m MODEL "text"
void add_serve_command(CLI::App& app);     // hearth serve --config gateway.toml

// The model used when -m is not given: $HEARTH_MODEL, else models/default.gguf in the repository.
std::string default_model_path();

}  // namespace hearth::cli
