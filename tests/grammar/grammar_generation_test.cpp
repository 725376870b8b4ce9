// Acceptance for structured output: a real fixture model (random weights, so unconstrained output is noise)
// samples 20 outputs per schema with temperature > 0 and different seeds, constrained by the grammar
// matcher; every output must parse as JSON and validate against its schema under ajv, an independent
// validator run through Node.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine/sampler.h"
#include "grammar/grammar.h"
#include "hearth/engine.h"

namespace {

using hearth::Grammar;
using hearth::GrammarMatcher;
using hearth::TokenId;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kSamples = 20;
constexpr int kMaxTokens = 400;

std::string fixture(const std::string& name) { return std::string(HEARTH_FIXTURE_DIR) + "/models/" + name; }

// Every string, array and number is bounded, so a random model finishes within kMaxTokens.
const json& profile_schema() {
  static const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1, "maxLength": 12},
      "age": {"type": "integer"},
      "email": {"type": "string", "pattern": "^[a-z]{1,8}@[a-z]{1,8}\\.(com|org)$"},
      "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 1, "maxItems": 3},
      "active": {"type": "boolean"},
      "born": {"type": "string", "format": "date"}
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": false})");
  return schema;
}

const json& shape_schema() {
  static const json schema = json::parse(R"({
    "$defs": {
      "point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"], "additionalProperties": false}
    },
    "type": "object",
    "properties": {
      "kind": {"const": "polygon"},
      "id": {"type": "string", "format": "uuid"},
      "points": {"type": "array", "items": {"$ref": "#/$defs/point"}, "minItems": 2, "maxItems": 4},
      "label": {"anyOf": [{"type": "string", "maxLength": 8}, {"type": "null"}]},
      "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "items": false,
               "minItems": 2},
      "at": {"type": "string", "format": "date-time"}
    },
    "required": ["kind", "id", "points", "label", "pair"],
    "additionalProperties": false})");
  return schema;
}

struct Generation {
  std::string text;
  bool complete = false;
  size_t tokens = 0;
  double mask_seconds = 0;
};

Generation generate(hearth::Engine& engine, const std::vector<TokenId>& prompt, std::shared_ptr<const Grammar> grammar,
                    uint64_t seed) {
  const hearth::Tokenizer& tok = engine.tokenizer();
  GrammarMatcher matcher(std::move(grammar), tok);
  hearth::SamplingParams params;
  params.temperature = 0.9f;
  params.seed = seed;
  const int64_t n_vocab = engine.info().n_vocab;
  hearth::Sampler sampler(params, size_t(n_vocab));
  std::vector<TokenId> history = prompt;
  Generation g;
  for (int n = 0; n < kMaxTokens; n++) {
    std::vector<float> logits = engine.evaluate(history);
    const auto t0 = Clock::now();
    matcher.mask_logits(logits.data(), n_vocab);
    g.mask_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    const TokenId next = sampler.sample(logits.data(), history);
    if (logits[size_t(next)] == -INFINITY) {
      ADD_FAILURE() << "the sampler picked masked token " << next << " after: " << g.text;
      return g;
    }
    if (!matcher.allows(next)) {
      ADD_FAILURE() << "mask allowed token " << next << " '" << tok.token_to_piece(next) << "' that accept() rejects after: " << g.text;
      return g;
    }
    matcher.accept(next);
    if (tok.is_end_of_generation(next)) break;
    history.push_back(next);
    g.text += tok.token_to_piece(next);
    g.tokens++;
    if (matcher.finished()) break;   // only an end-of-generation token could follow
  }
  g.complete = matcher.accepted();
  return g;
}

std::string run_command(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = pclose(p);
  return out;
}

TEST(GrammarGeneration, TwentySamplesPerSchemaValidateUnderAjv) {
  struct Case {
    std::string name;
    const json& schema;
    std::string model;
  };
  const std::vector<Case> cases = {{"profile", profile_schema(), "qwen3-bpe-q5_k_m.gguf"},
                                   {"shape", shape_schema(), "llama-spm-q8_0.gguf"}};
  json report = json::array();
  for (const auto& c : cases) {
    hearth::EngineOptions options;
    options.ctx = 1024;
    auto engine = hearth::Engine::load(fixture(c.model), options);
    auto grammar = Grammar::from_json_schema(c.schema);
    const auto prompt = engine->tokenize_prompt("Reply with one JSON object:\n");
    json outputs = json::array();
    size_t tokens = 0;
    double mask_seconds = 0;
    const auto t0 = Clock::now();
    for (int s = 0; s < kSamples; s++) {
      Generation g = generate(*engine, prompt, grammar, 1000 + uint64_t(s));
      EXPECT_TRUE(g.complete) << c.name << " seed " << s << " stopped incomplete after " << g.tokens
                              << " tokens: " << g.text;
      EXPECT_TRUE(grammar->matches(g.text)) << g.text;
      EXPECT_TRUE(json::accept(g.text)) << g.text;
      std::fprintf(stderr, "[ progress ] %s seed %d: %zu tokens\n", c.name.c_str(), s, g.tokens);
      tokens += g.tokens;
      mask_seconds += g.mask_seconds;
      outputs.push_back(g.text);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("[ figures  ] %s on %s (%lld-token vocabulary): %d samples, %zu tokens, %.1f s; mask %.2f ms/token\n",
                c.name.c_str(), c.model.c_str(), static_cast<long long>(engine->info().n_vocab), kSamples, tokens,
                seconds, tokens ? 1000.0 * mask_seconds / double(tokens) : 0.0);
    std::printf("[ sample   ] %s\n[ sample   ] %s\n", outputs[0].dump().c_str(), outputs[1].dump().c_str());
    // Distinct seeds must give distinct documents: the grammar constrains, it does not dictate.
    std::set<std::string> distinct;
    for (const auto& o : outputs) distinct.insert(o.get<std::string>());
    EXPECT_GE(distinct.size(), size_t(kSamples / 2)) << c.name;
    report.push_back({{"name", c.name}, {"schema", c.schema}, {"outputs", outputs}});
  }

  const auto path = std::filesystem::temp_directory_path() / ("hearth_grammar_samples_" + std::to_string(getpid()) + ".json");
  std::ofstream(path) << report.dump(2);
  int status = 0;
  const std::string script = std::string(HEARTH_SOURCE_DIR) + "/tests/grammar/validate_with_ajv.mjs";
  const std::string out = run_command("node '" + script + "' '" + path.string() + "' 2>&1", status);
  std::printf("[ ajv      ] %s", out.c_str());
  EXPECT_EQ(status, 0) << out;
  const std::string all = std::to_string(2 * kSamples);
  EXPECT_NE(out.find("valid " + all + "/" + all), std::string::npos) << out;
  std::filesystem::remove(path);
}

}  // namespace
