// hearth-generate-bench: prefill and decode throughput of one model, as JSON (the hearth side of
// bench/cpu_vs_llamacpp.mjs). The prompt is a fixed pseudo-random token sequence so llama.cpp gets the same.
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hearth/engine.h"
#include "hearth/error.h"

int main(int argc, char** argv) {
  std::string model;
  int threads = 2, prefill = 512, decode = 128, reps = 1;
  CLI::App app{"prefill/decode throughput of hearth on one GGUF"};
  app.add_option("-m,--model", model)->required();
  app.add_option("-t,--threads", threads);
  app.add_option("--prefill", prefill);
  app.add_option("--decode", decode);
  app.add_option("--reps", reps, "repetitions; the best is reported");
  app.add_option("--tokens", prefill);
  CLI11_PARSE(app, argc, argv);
  try {
    hearth::EngineOptions o;
    o.threads = threads;
    o.ctx = prefill + decode + 16;
    o.batch = 512;
    auto engine = hearth::Engine::load(model, o);
    // Same generator as the Node side: ids in [100, min(vocab, 30000)).
    std::vector<hearth::TokenId> prompt;
    uint32_t s = 12345;
    const uint32_t span = uint32_t(std::min<int64_t>(engine->info().n_vocab, 30000) - 100);
    for (int i = 0; i < prefill; i++) {
      s = s * 1103515245u + 12345u;
      prompt.push_back(hearth::TokenId(100 + (s >> 8) % span));
    }
    double best_prefill = 0, best_decode = 0;
    for (int r = 0; r < reps; r++) {
      engine->reset();
      hearth::GenerateOptions g;
      g.max_tokens = decode;
      g.sampling = hearth::SamplingParams::greedy();
      g.ignore_eos = true;
      auto res = engine->generate(prompt, g);
      best_prefill = std::max(best_prefill, res.prefill_tps());
      best_decode = std::max(best_decode, res.decode_tps());
    }
    nlohmann::json j = {{"engine", "hearth"}, {"model", model}, {"threads", threads},
                        {"simd", engine->info().simd}, {"prefill_tokens", prefill}, {"decode_tokens", decode},
                        {"prefill_tps", best_prefill}, {"decode_tps", best_decode}};
    fmt::print("{}\n", j.dump());
  } catch (const hearth::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
