// hearth serve --config gateway.toml: the gateway in the foreground. SIGHUP reloads the config (open streams
// keep going); SIGINT/SIGTERM stop it.
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "gateway/gateway.h"
#include "hearth/error.h"

namespace hearth::cli {

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "serve targets over HTTP: OpenAI-compatible and hearth routes");
  auto config_path = std::make_shared<std::string>();
  auto check_only = std::make_shared<bool>(false);
  cmd->add_option("--config", *config_path, "gateway.toml")->required();
  cmd->add_flag("--check", *check_only, "validate the config and exit");
  cmd->callback([config_path, check_only] {
    gateway::GatewayConfig config = gateway::load_gateway_config(*config_path);
    if (*check_only) {
      fmt::print("{}: {} listener(s), {} target(s), {} token(s)\n", *config_path, config.listeners.size(),
                 config.targets.size(), config.tokens.size());
      return;
    }
    // Signals are taken by this thread alone (sigwait), so every thread started after this inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    gateway::Gateway server(std::move(config), std::cerr);
    server.start();
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig != SIGHUP) break;
      try {
        server.reload(gateway::load_gateway_config(*config_path));
      } catch (const Error& e) {
        std::cerr << "reload failed, keeping the running configuration: " << e.what() << '\n' << std::flush;
      }
    }
    std::cerr << "stopping\n" << std::flush;
    server.stop();
  });
}

}  // namespace hearth::cli
