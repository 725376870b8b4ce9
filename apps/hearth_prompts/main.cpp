// hearth-prompts: the prompt registry's command line on its own (the same as `hearth prompts`).
#include <CLI/CLI.hpp>

#include "prompts_cli.h"

int main(int argc, char** argv) {
  CLI::App app{"hearth-prompts: manage prompts in a hearth registry"};
  hearth::cli::add_prompts_commands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
