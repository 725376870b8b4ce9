#pragma once
// The registry as a server of its own: RegistryApi (/v1/prompts) over cpp-httplib's thread-pool server.
// The gateway mounts the same RegistryApi on its own listener.
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "prompts/registry_api.h"

namespace httplib {
class Server;
}

namespace hearth::prompts {

struct RegistryServerOptions {
  size_t max_body_bytes = size_t{1} << 20;
  bool log_requests = false;  // method, path, status, ms to stderr (never headers or bodies)
  std::vector<std::string> cors_origins;  // pages allowed to call from other origins; "*": any
};

class RegistryServer {
 public:
  RegistryServer(PromptStore& store, gateway::TokenAuth auth, RegistryServerOptions options = {});
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // Binds (port 0: an ephemeral one) and returns the port. Throws hearth::Error when it cannot bind.
  int bind(const std::string& host, int port);
  void run();    // serves until stop(); blocks
  void start();  // run() on a background thread
  void stop();

 private:
  void add_routes();

  RegistryApi api_;
  RegistryServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace hearth::prompts
