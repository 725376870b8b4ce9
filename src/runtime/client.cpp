#include "hearth/client.h"

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "hearth/error.h"
#if HEARTH_HAVE_GRAMMAR
#include "grammar/grammar.h"
#endif
#include "model/embedding_model.h"
#include "runtime/local_embedder.h"
#include "runtime/local_endpoint.h"
#include "runtime/remote_endpoint.h"
#include "runtime/run_state.h"

namespace hearth {

namespace {

std::atomic<uint64_t> g_next_run_id{1};

// Checks the fields a local endpoint reads; a bad one is named in the error.
void validate_local(const std::string& endpoint, const RequestOptions& r) {
  auto bad = [&](const std::string& why) { throw Error(fmt::format("endpoint '{}': {}", endpoint, why)); };
  if (r.max_tokens < 0) bad(fmt::format("max_tokens must be 0 or more, not {}", r.max_tokens));
  if (r.sampling) {
    const SamplingParams& p = *r.sampling;
    if (!std::isfinite(p.temperature)) bad("sampling.temperature must be a finite number");
    if (!(p.top_p >= 0.0f && p.top_p <= 1.0f)) bad(fmt::format("sampling.top_p must be in [0, 1], not {}", p.top_p));
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) bad(fmt::format("sampling.min_p must be in [0, 1], not {}", p.min_p));
    if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty))
      bad(fmt::format("sampling.repeat_penalty must be a positive number, not {}", p.repeat_penalty));
    if (p.penalty_last_n < -1) bad(fmt::format("sampling.penalty_last_n must be -1 (all) or more, not {}", p.penalty_last_n));
    if (!std::isfinite(p.frequency_penalty) || !std::isfinite(p.presence_penalty))
      bad("sampling.frequency_penalty and presence_penalty must be finite numbers");
  }
  if (r.stop.size() > 16) bad(fmt::format("stop: at most 16 stop strings, got {}", r.stop.size()));
  for (const auto& s : r.stop)
    if (s.size() > 256) bad(fmt::format("stop: a stop string of {} bytes (at most 256)", s.size()));
  if (r.context_key.size() > 1024) bad(fmt::format("context_key of {} bytes (at most 1024)", r.context_key.size()));
  if (!r.endpoint_options.is_object()) bad("endpoint_options must be a JSON object");
  if (!r.endpoint_options.empty())
    bad(fmt::format("endpoint_options: local endpoints take no endpoint-specific options (got {})",
                    r.endpoint_options.dump()));
  if (!r.grammar.empty() && !r.json_schema.is_null()) bad("grammar and json_schema: give one, not both");
#if !HEARTH_HAVE_GRAMMAR
  if (!r.grammar.empty()) bad("grammar: structured output is not available in this build yet");
  if (!r.json_schema.is_null()) bad("json_schema: structured output is not available in this build yet");
#endif
}

// The request's grammar, compiled for the endpoint's vocabulary (on the caller's thread, not the scheduler's).
std::shared_ptr<GrammarMatcher> grammar_for(const LocalEndpoint& ep, const RequestOptions& r) {
#if HEARTH_HAVE_GRAMMAR
  if (r.grammar.empty() && r.json_schema.is_null()) return nullptr;
  std::shared_ptr<const Grammar> g;
  try {
    g = r.grammar.empty() ? Grammar::from_json_schema(r.json_schema) : Grammar::parse_gbnf(r.grammar);
  } catch (const std::exception& e) {
    throw Error(fmt::format("endpoint '{}': {}: {}", ep.name(), r.grammar.empty() ? "json_schema" : "grammar", e.what()));
  }
  return std::make_shared<GrammarMatcher>(std::move(g), *ep.model().tokenizer);
#else
  return nullptr;
#endif
}

std::shared_ptr<RunState> make_run(const RequestOptions& r, std::vector<TokenId> prompt) {
  auto run = std::make_shared<RunState>();
  run->id = g_next_run_id.fetch_add(1);
  run->prompt = std::move(prompt);
  run->max_tokens = r.max_tokens;
  run->sampling = r.sampling.value_or(SamplingParams{});
  run->stop = r.stop;
  run->ignore_eos = r.ignore_eos;
  run->context_key = r.context_key;
  run->on_tokens = r.on_tokens;
  run->submitted = RuntimeClock::now();
  run->response.usage.prompt = r.prompt_source;
  return run;
}

std::vector<TokenId> query_tokens(const LocalEndpoint& ep, const QueryRequest& q) {
  if (!q.prompt_tokens.empty()) {
    if (!q.prompt.empty())
      throw Error(fmt::format("endpoint '{}': give prompt or prompt_tokens, not both", ep.name()));
    return q.prompt_tokens;   // ids are checked on submit
  }
  if (q.prompt.empty()) throw Error(fmt::format("endpoint '{}': prompt: the prompt is empty", ep.name()));
  return ep.model().tokenize_prompt(q.prompt);
}

LocalEndpoint& local_of(const Endpoint& e, const std::shared_ptr<LocalEndpoint>& local, const char* what) {
  if (!local) {
    if (e.embed_only())
      throw Error(fmt::format("endpoint '{}': {} is not available: its model is an embedding encoder (embed only)",
                              e.name(), what));
    throw Error(fmt::format("endpoint '{}': {} needs a local endpoint", e.name(), what));
  }
  return *local;
}

}  // namespace

EndpointStats Endpoint::stats() const { return local_ ? local_->stats() : EndpointStats{}; }

std::string Endpoint::backend() const {
  if (local_) return local_->backend();
  return embedder_ ? "cpu" : "remote";
}

std::vector<TickMetrics> Endpoint::recent_ticks(size_t limit) const {
  return local_ ? local_->recent_ticks(limit) : std::vector<TickMetrics>{};
}

const Tokenizer& Endpoint::tokenizer() const {
  if (local_) return *local_->model().tokenizer;
  if (embedder_) return embedder_->tokenizer();
  throw Error(fmt::format("endpoint '{}': a remote endpoint has no local tokenizer", name_));
}

struct Client::Impl {
  mutable std::mutex mu;
  std::map<std::string, Endpoint> endpoints;
};

Client::Client() : impl_(std::make_unique<Impl>()) {}
Client::~Client() = default;

Endpoint Client::add(const EndpointDescriptor& d) {
  if (d.name.empty()) throw Error("an endpoint needs a name");
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->endpoints.count(d.name)) throw Error(fmt::format("endpoint '{}' is already registered", d.name));
  }
  Endpoint e;
  e.name_ = d.name;
  if (const auto* local = std::get_if<LocalEndpointOptions>(&d.options)) {
    if (local->model_path.empty()) throw Error(fmt::format("endpoint '{}': model_path is empty", d.name));
    const bool encoder = EmbeddingModel::is_encoder(local->model_path);
    e.embedder_ = std::make_shared<LocalEmbedder>(d.name, local->model_path, local->threads, /*load_now=*/encoder);
    if (!encoder) e.local_ = std::make_shared<LocalEndpoint>(d.name, *local);
  } else {
    e.remote_ = RemoteEndpoint::create(d);
  }
  std::lock_guard lk(impl_->mu);
  if (!impl_->endpoints.emplace(d.name, e).second)
    throw Error(fmt::format("endpoint '{}' is already registered", d.name));
  return e;
}

Endpoint Client::endpoint(const std::string& name) const {
  std::lock_guard lk(impl_->mu);
  auto it = impl_->endpoints.find(name);
  if (it == impl_->endpoints.end()) throw Error(fmt::format("no endpoint named '{}'", name));
  return it->second;
}

Run Client::query(const Endpoint& e, const QueryRequest& request) {
  if (e.remote_) return e.remote_->query(request);
  LocalEndpoint& ep = local_of(e, e.local_, "query");
  validate_local(e.name(), request);
  auto run = make_run(request, query_tokens(ep, request));
  run->grammar = grammar_for(ep, request);
  ep.submit(run);
  return Run(run);
}

Run Client::chat(const Endpoint& e, const ChatRequest& request) {
  if (e.remote_) return e.remote_->chat(request);
  LocalEndpoint& ep = local_of(e, e.local_, "chat");
  validate_local(e.name(), request);
  auto run = make_run(request, ep.model().tokenize_chat(request.messages));
  run->grammar = grammar_for(ep, request);
  ep.submit(run);
  return Run(run);
}

std::vector<std::vector<float>> Client::embed(const Endpoint& e, const EmbedRequest& request) {
  if (e.remote_) return e.remote_->embed(request);
  if (!e.embedder_) throw Error(fmt::format("endpoint '{}': embed needs a local or remote endpoint", e.name()));
  return e.embedder_->embed(request);
}

SnapshotInfo Client::save_snapshot(const Endpoint& e, const std::string& scope, const QueryRequest& prefix) {
  LocalEndpoint& ep = local_of(e, e.local_, "save_snapshot");
  if (scope.empty()) throw Error(fmt::format("endpoint '{}': a snapshot needs a scope name", e.name()));
  QueryRequest q = prefix;
  q.max_tokens = 0;
  q.sampling = SamplingParams::greedy();
  validate_local(e.name(), q);
  auto run = make_run(q, query_tokens(ep, q));
  run->snapshot_scope = scope;
  ep.submit(run);
  Run handle(run);
  const Response& r = handle.wait();
  if (r.finish_reason != "length")
    throw Error(fmt::format("endpoint '{}': snapshot '{}' was not saved ({})", e.name(), scope, r.finish_reason));
  return run->snapshot;
}

SnapshotInfo Client::load_snapshot(const Endpoint& e, const std::string& path) {
  return local_of(e, e.local_, "load_snapshot").load_snapshot(path);
}

std::vector<SnapshotInfo> Client::snapshots(const Endpoint& e) const {
  return local_of(e, e.local_, "snapshots").snapshots();
}

}  // namespace hearth
