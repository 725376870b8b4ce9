// runtime-throughput-bench: aggregate decode throughput of N concurrent greedy streams through one local
// endpoint (the tick scheduler batches them into one forward pass per tick) against the same N requests
// run one after another through the same endpoint, printed as a ratio. Also the batch-1 figure.
// --backend webgpu measures the same on the GPU.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "hearth/client.h"
#include "hearth/error.h"

namespace {

using Clock = std::chrono::steady_clock;

hearth::QueryRequest request(int i, int tokens) {
  hearth::QueryRequest q;
  q.prompt = fmt::format("Stream number {} begins a story about", i);
  q.max_tokens = tokens;
  q.sampling = hearth::SamplingParams::greedy();
  q.ignore_eos = true;
  return q;
}

struct Figure {
  double seconds = 0;
  int64_t tokens = 0;
  double tps() const { return seconds > 0 ? double(tokens) / seconds : 0; }
};

Figure one_after_another(hearth::Client& client, const hearth::Endpoint& ep, int n, int tokens) {
  Figure f;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; i++) f.tokens += client.query(ep, request(i, tokens)).wait().usage.completion_tokens;
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return f;
}

Figure concurrent(hearth::Client& client, const hearth::Endpoint& ep, int n, int tokens) {
  Figure f;
  const auto t0 = Clock::now();
  std::vector<hearth::Run> runs;
  for (int i = 0; i < n; i++) runs.push_back(client.query(ep, request(i, tokens)));
  for (auto& r : runs) f.tokens += r.wait().usage.completion_tokens;
  f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model;
  std::string backend = "cpu";
  int threads = 2, tokens = 64;
  std::vector<int> streams = {1, 4, 16};
  CLI::App app{"aggregate decode tok/s of concurrent streams vs the same requests one after another"};
  app.add_option("-m,--model", model)->required();
  app.add_option("-t,--threads", threads);
  app.add_option("-n,--tokens", tokens, "tokens generated per stream");
  app.add_option("-s,--streams", streams, "stream counts to measure");
  app.add_option("-b,--backend", backend, "cpu, webgpu or auto");
  CLI11_PARSE(app, argc, argv);
  try {
    int max_streams = 1;
    for (int s : streams) max_streams = std::max(max_streams, s);
    hearth::LocalEndpointOptions o;
    o.threads = threads;
    o.ctx = 256;
    o.n_seq = max_streams;
    o.keep_resident = false;
    o.backend = hearth::parse_backend(backend);
    hearth::Client client;
    auto ep = client.add(hearth::EndpointDescriptor::local("bench", model, o));
    one_after_another(client, ep, 1, 8);   // warm-up: page in the weights

    const Figure base = one_after_another(client, ep, 1, tokens);
    std::printf("model %s, backend %s, %d threads, %d tokens per stream (prompt + decode, greedy)\n", model.c_str(),
                ep.backend().c_str(), threads, tokens);
    std::printf("batch-1: %.1f tok/s\n\n", base.tps());
    std::printf("| streams | one after another tok/s | concurrent tok/s | gain | vs batch-1 |\n");
    std::printf("|---:|---:|---:|---:|---:|\n");
    for (int n : streams) {
      const Figure seq = one_after_another(client, ep, n, tokens);
      const Figure con = concurrent(client, ep, n, tokens);
      std::printf("| %d | %.1f | %.1f | %.2fx | %.2fx |\n", n, seq.tps(), con.tps(), con.tps() / seq.tps(),
                  con.tps() / base.tps());
    }
    const auto st = ep.stats();
    std::printf("\nlargest tick: %d rows; %llu ticks, %.2f s busy\n", st.max_batch,
                static_cast<unsigned long long>(st.ticks), st.busy_seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
