// `hearth run` and `hearth chat`: generation from the command line.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "hearth/engine.h"
#include "hearth/error.h"

namespace hearth::cli {
namespace {

struct CommonOptions {
  std::string model;
  int threads = 0;
  int64_t ctx = 0;
  int32_t max_tokens = 128;
  float temperature = 0.8f;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0xC0FFEE;
  std::vector<std::string> stop;
  bool kv_f32 = false;
  std::string backend = "cpu";
};

void add_common(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("-m,--model", o.model, "GGUF model file (default: models/default.gguf)");
  cmd.add_option("-n,--max-tokens", o.max_tokens, "most tokens to generate")->check(CLI::Range(0, 1 << 24));
  cmd.add_option("--temp", o.temperature, "sampling temperature; 0 = greedy")->check(CLI::Range(0.0, 100.0));
  cmd.add_option("--top-k", o.top_k, "keep the k most likely tokens; 0 = off");
  cmd.add_option("--top-p", o.top_p, "nucleus sampling; 1 = off")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--min-p", o.min_p, "drop tokens below min-p × the top probability; 0 = off")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--repeat-penalty", o.repeat_penalty, "penalty for recent tokens; 1 = off");
  cmd.add_option("--frequency-penalty", o.frequency_penalty, "OpenAI-style frequency penalty");
  cmd.add_option("--presence-penalty", o.presence_penalty, "OpenAI-style presence penalty");
  cmd.add_option("--seed", o.seed, "random seed");
  cmd.add_option("--stop", o.stop, "stop string (repeatable)");
  cmd.add_option("-c,--ctx", o.ctx, "context length (default: min(model's, 4096))")->check(CLI::Range(int64_t(1), int64_t(1) << 22));
  cmd.add_option("-t,--threads", o.threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  cmd.add_flag("--kv-f32", o.kv_f32, "keep the KV cache in f32 instead of f16");
  cmd.add_option("--backend", o.backend, "cpu, webgpu (Dawn), or auto (WebGPU when an adapter exists and the model fits)")
      ->check(CLI::IsMember({"cpu", "webgpu", "auto"}));
}

std::unique_ptr<Engine> load_engine(const CommonOptions& o, bool show_progress) {
  EngineOptions eo;
  eo.threads = o.threads;
  eo.ctx = o.ctx;
  eo.kv_f32 = o.kv_f32;
  eo.backend = parse_backend(o.backend);
  const std::string path = o.model.empty() ? default_model_path() : o.model;
  if (show_progress && isatty(STDERR_FILENO)) {
    eo.on_progress = [](double f) {
      const int width = 30, filled = int(f * width + 0.5);
      fmt::print(stderr, "\rloading [{}{}] {:3.0f}%", std::string(size_t(filled), '#'),
                 std::string(size_t(width - filled), ' '), f * 100);
      if (f >= 1.0) fmt::print(stderr, "\r\033[K");
    };
  }
  return Engine::load(path, eo);
}

GenerateOptions generate_options(const CommonOptions& o) {
  GenerateOptions g;
  g.max_tokens = o.max_tokens;
  g.stop = o.stop;
  SamplingParams& s = g.sampling;
  s.temperature = o.temperature;
  s.top_k = o.top_k;
  s.top_p = o.top_p;
  s.min_p = o.min_p;
  s.repeat_penalty = o.repeat_penalty;
  s.frequency_penalty = o.frequency_penalty;
  s.presence_penalty = o.presence_penalty;
  s.seed = o.seed;
  return g;
}

void print_timings(const GenerateResult& r, const ModelInfo& info) {
  const std::string where = info.backend == "webgpu" ? "webgpu: " + info.gpu : "cpu";
  fmt::print(stderr, "\n[prefill {} tokens, {:.1f} tok/s | decode {} tokens, {:.1f} tok/s | {} | {}]\n",
             r.prompt_tokens - r.cached_tokens, r.prefill_tps(), r.tokens.size(), r.decode_tps(), r.finish_reason,
             where);
  if (!info.backend_note.empty()) fmt::print(stderr, "[--backend auto chose the CPU: {}]\n", info.backend_note);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "generate a continuation of a prompt (no chat template)");
  auto o = std::make_shared<CommonOptions>();
  auto prompt = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  add_common(*cmd, *o);
  cmd->add_option("prompt", *prompt, "prompt text")->required();
  cmd->add_flag("--json", *json, "print one JSON object at the end (tokens, text, timings) instead of streaming");
  cmd->callback([o, prompt, json] {
    auto engine = load_engine(*o, !*json);
    auto tokens = engine->tokenize_prompt(*prompt);
    GenerateResult r;
    if (*json) {
      r = engine->generate(tokens, generate_options(*o));
      nlohmann::json j = {
          {"model", engine->info().path},
          {"prompt_tokens", tokens},
          {"tokens", r.tokens},
          {"text", r.text},
          {"finish_reason", r.finish_reason},
          {"prefill_tokens_per_second", r.prefill_tps()},
          {"decode_tokens_per_second", r.decode_tps()},
          {"threads", engine->info().threads},
          {"simd", engine->info().simd},
          {"backend", engine->info().backend},
          {"gpu", engine->info().gpu},
      };
      fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
    }
    fmt::print("{}", *prompt);
    std::fflush(stdout);
    r = engine->generate(tokens, generate_options(*o), [](const std::string& piece) {
      fmt::print("{}", piece);
      std::fflush(stdout);
      return true;
    });
    print_timings(r, engine->info());
  });
}

void add_chat_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat", "interactive chat with the model's template (/reset, /exit)");
  auto o = std::make_shared<CommonOptions>();
  auto system = std::make_shared<std::string>();
  add_common(*cmd, *o);
  o->max_tokens = 512;
  cmd->add_option("-s,--system", *system, "system message");
  cmd->callback([o, system] {
    auto engine = load_engine(*o, true);
    nlohmann::json messages = nlohmann::json::array();
    if (!system->empty()) messages.push_back({{"role", "system"}, {"content", *system}});
    const bool tty = isatty(STDIN_FILENO);
    fmt::print(stderr, "{} ({}, {} threads). /reset clears the history, /exit quits.\n", engine->info().name,
               engine->info().arch, engine->info().threads);
    std::string line;
    while (true) {
      if (tty) fmt::print("> ");
      std::fflush(stdout);
      if (!std::getline(std::cin, line)) break;
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        messages = nlohmann::json::array();
        if (!system->empty()) messages.push_back({{"role", "system"}, {"content", *system}});
        continue;
      }
      if (line.empty()) continue;
      messages.push_back({{"role", "user"}, {"content", line}});
      // The template renders special tokens as text, so they are parsed back as tokens here.
      auto prompt = engine->tokenizer().encode(engine->apply_chat_template(messages, true), false, true);
      GenerateResult r = engine->generate(prompt, generate_options(*o), [](const std::string& piece) {
        fmt::print("{}", piece);
        std::fflush(stdout);
        return true;
      });
      messages.push_back({{"role", "assistant"}, {"content", r.text}});
      print_timings(r, engine->info());
    }
  });
}

}  // namespace hearth::cli
