#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "prompts_cli.h"
#include "hearth/error.h"

int main(int argc, char** argv) {
  CLI::App app{"hearth: run language models from GGUF files, locally"};
  app.require_subcommand(1);
  hearth::cli::add_run_command(app);
  hearth::cli::add_chat_command(app);
  hearth::cli::add_info_command(app);
  hearth::cli::add_tokenize_command(app);
  hearth::cli::add_serve_command(app);
  hearth::cli::add_prompts_commands(*app.add_subcommand("prompts", "manage prompts in a hearth registry"));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const hearth::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
