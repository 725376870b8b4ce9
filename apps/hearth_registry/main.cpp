// hearth-registry: serves the prompt registry over HTTP.
//   hearth-registry --db prompts.db --listen 127.0.0.1:8088 --tokens tokens.toml
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "hearth/error.h"
#include "prompts/registry_server.h"

namespace {

hearth::prompts::RegistryServer* g_server = nullptr;

void on_signal(int) {
  if (g_server) g_server->stop();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hearth-registry: versioned prompt registry (REST under /v1/prompts)"};
  std::string db_path, listen = "127.0.0.1:8088", tokens_path;
  size_t max_body = size_t{1} << 20;
  bool log_requests = false;
  app.add_option("--db", db_path, "SQLite database file (created if missing)")->required();
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)");
  app.add_option("--tokens", tokens_path, "TOML file of bearer tokens ([[tokens]] name, sha256|token, rights)")
      ->required();
  app.add_option("--max-body", max_body, "largest request body accepted, bytes");
  app.add_flag("--log-requests", log_requests, "log method, path and status of each request to stderr");
  std::vector<std::string> cors_origins;
  app.add_option("--cors-origin", cors_origins,
                 "an origin whose pages may call the registry (the browser PromptResolver); repeat for more, * for any");
  CLI11_PARSE(app, argc, argv);

  try {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) throw hearth::Error("--listen must be HOST:PORT, got \"" + listen + "\"");
    std::string host = listen.substr(0, colon);
    int port = std::stoi(listen.substr(colon + 1));

    hearth::gateway::TokenAuth auth = hearth::gateway::TokenAuth::from_toml_file(tokens_path);
    hearth::prompts::PromptStore store(db_path);
    hearth::prompts::RegistryServer server(store, std::move(auth), {max_body, log_requests, cors_origins});
    int bound = server.bind(host, port);
    g_server = &server;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::printf("hearth-registry listening on %s:%d (db %s)\n", host.c_str(), bound, db_path.c_str());
    std::fflush(stdout);
    server.run();
    g_server = nullptr;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hearth-registry: %s\n", e.what());
    return 1;
  }
}
