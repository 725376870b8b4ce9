// The gateway's shutdown, over loopback: stop() closes the listeners at once (before, the close was posted to
// the io_context just before stopping it and seldom ran, so the port kept accepting connections nobody
// served until the Gateway was destroyed), and ports() still names the ports it had.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "gateway/gateway.h"

namespace hearth::gateway {
namespace {

// True when a TCP connection to 127.0.0.1:port is accepted (by the kernel: a listening socket's backlog
// takes it even when no one calls accept).
bool accepts_connections(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

TEST(GatewayLifetime, StopClosesTheListenersAtOnce) {
  for (int round = 0; round < 10; ++round) {
    GatewayConfig c;
    c.listeners = {ListenerConfig{}, ListenerConfig{}};
    c.listeners[0].port = 0;
    c.listeners[1].port = 0;
    c.io_threads = 2;
    std::ostringstream log;
    Gateway gateway(c, log);
    gateway.start();
    const std::vector<uint16_t> ports = gateway.ports();
    ASSERT_EQ(ports.size(), 2u);
    for (uint16_t port : ports) ASSERT_TRUE(accepts_connections(port)) << "port " << port << " before stop()";
    gateway.stop();
    EXPECT_EQ(gateway.ports(), ports);
    for (uint16_t port : ports)
      EXPECT_FALSE(accepts_connections(port)) << "round " << round << ": port " << port << " still accepts after stop()";
    gateway.stop();  // idempotent, and the destructor stops again
  }
}

}  // namespace
}  // namespace hearth::gateway
