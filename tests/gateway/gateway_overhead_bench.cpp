// p50 overhead of the gateway over a direct Client call, in one process: the same 1-token query (local embed
// is not in the Client yet) through Client::query and through POST /v1/query on a keep-alive loopback
// connection, interleaved so both see the same machine state.
//   gateway_overhead_bench [model.gguf] [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gateway/gateway.h"

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

static double p50(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  std::string model = argc > 1 ? argv[1] : HEARTH_FIXTURE_DIR "/models/llama-spm-q8_0.gguf";
  int iterations = argc > 2 ? std::atoi(argv[2]) : 500;
  hearth::gateway::GatewayConfig c;
  c.listeners = {hearth::gateway::ListenerConfig{"127.0.0.1", 0}};
  hearth::LocalEndpointOptions o;
  o.threads = 1;
  o.n_seq = 1;
  o.ctx = 64;
  c.targets = {{"llama", hearth::EndpointDescriptor::local("llama", model, o), 0, ""}};
  c.tokens = {{"bench", hearth::gateway::sha256_hex("bench-token"), {"*"}, 0, 0}};
  c.log_requests = false;
  std::ostringstream log;
  hearth::gateway::Gateway gw(c, log);
  gw.start();

  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), gw.ports()[0]));
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, "/v1/query", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer bench-token");
  req.set(http::field::content_type, "application/json");
  req.body() = R"({"target":"llama","prompt_tokens":[1],"max_tokens":1,"sampling":{"temperature":0}})";
  req.prepare_payload();

  hearth::Client& client = gw.client();
  hearth::Endpoint ep = client.endpoint("llama");
  hearth::QueryRequest q;
  q.prompt_tokens = {1};
  q.max_tokens = 1;
  q.sampling = hearth::SamplingParams::greedy();

  std::vector<double> direct, via_gateway;
  for (int i = 0; i < iterations + 20; ++i) {
    auto t0 = Clock::now();
    hearth::Run run = client.query(ep, q);
    run.wait();
    auto t1 = Clock::now();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    auto t2 = Clock::now();
    if (res.result_int() != 200) {
      std::fprintf(stderr, "gateway answered %d: %s\n", res.result_int(), res.body().c_str());
      return 1;
    }
    if (i < 20) continue;  // warm-up
    direct.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    via_gateway.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  double d = p50(direct), g = p50(via_gateway);
  std::printf("1-token query, %d iterations: p50 direct Client %.3f ms, through the gateway %.3f ms, overhead %.3f ms\n",
              iterations, d, g, g - d);
  gw.stop();
  return 0;
}
