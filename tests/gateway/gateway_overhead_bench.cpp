// p50 overhead of the gateway over a direct Client call, in one process: the same non-streaming embed (one
// short input on an embedding fixture) through Client::embed and through POST /v1/embed on a keep-alive
// loopback connection, interleaved so both see the same machine state. The overhead is HTTP parsing, auth,
// validation, admission, the hand-off to a worker and back, and JSON encoding of the vector.
//   gateway_overhead_bench [embedding-model.gguf] [iterations]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "gateway/gateway.h"

namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

static double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(q * double(v.size())))];
}

int main(int argc, char** argv) {
  std::string model = argc > 1 ? argv[1] : HEARTH_FIXTURE_DIR "/embedding/bert-wpm-q8_0-cls.gguf";
  int iterations = argc > 2 ? std::atoi(argv[2]) : 2000;
  hearth::gateway::GatewayConfig c;
  c.listeners = {hearth::gateway::ListenerConfig{"127.0.0.1", 0}};
  hearth::LocalEndpointOptions o;
  o.threads = 1;
  c.targets = {{"embed", hearth::EndpointDescriptor::local("embed", model, o), 0, ""}};
  c.tokens = {{"bench", hearth::gateway::sha256_hex("bench-token"), {"*"}, 0, 0}};
  c.log_requests = false;
  std::ostringstream log;
  hearth::gateway::Gateway gw(c, log);
  gw.start();

  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), gw.ports()[0]));
  stream.socket().set_option(boost::asio::ip::tcp::no_delay(true));
  beast::flat_buffer buffer;
  http::request<http::string_body> req{http::verb::post, "/v1/embed", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer bench-token");
  req.set(http::field::content_type, "application/json");
  req.body() = R"({"target":"embed","inputs":["the quick brown fox"]})";
  req.prepare_payload();

  hearth::Client& client = gw.client();
  hearth::Endpoint ep = client.endpoint("embed");
  hearth::EmbedRequest e;
  e.inputs = {"the quick brown fox"};

  std::vector<double> direct, via_gateway;
  for (int i = 0; i < iterations + 50; ++i) {
    auto t0 = Clock::now();
    std::vector<std::vector<float>> vectors = client.embed(ep, e);
    auto t1 = Clock::now();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    auto t2 = Clock::now();
    if (res.result_int() != 200) {
      std::fprintf(stderr, "gateway answered %d: %s\n", res.result_int(), res.body().c_str());
      return 1;
    }
    if (i == 0) {  // the gateway must return the same vector the Client computed
      auto got = nlohmann::json::parse(res.body()).at("embeddings").at(0).get<std::vector<float>>();
      if (got != vectors[0]) {
        std::fprintf(stderr, "the gateway's vector differs from the Client's\n");
        return 1;
      }
    }
    if (i < 50) continue;  // warm-up
    direct.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    via_gateway.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  size_t dims = client.embed(ep, e).at(0).size();
  double d = percentile(direct, 0.5), g = percentile(via_gateway, 0.5);
  std::printf("non-streaming embed (1 input, %zu dims), %d iterations: p50 direct Client %.3f ms, through the gateway "
              "%.3f ms, overhead %.3f ms (p90 direct %.3f, gateway %.3f)\n",
              dims, iterations, d, g, g - d, percentile(direct, 0.9), percentile(via_gateway, 0.9));
  gw.stop();
  return 0;
}
