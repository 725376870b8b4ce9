#pragma once
// The runtime's public API: a Client holds endpoints registered from descriptors, and every call names the
// endpoint it runs on (hearth never moves a request between endpoints by itself). A local endpoint runs a
// GGUF model on this machine with a tick scheduler that batches all active requests into one forward pass.
//
//   hearth::Client client;
//   auto ep = client.add(hearth::EndpointDescriptor::local("chat", "model.gguf"));
//   hearth::ChatRequest req;
//   req.messages = {{{"role", "user"}, {"content", "Hi"}}};
//   hearth::Run run = client.chat(ep, req);
//   while (auto batch = run.next()) std::cout << batch->text;
//   const hearth::Response& r = run.wait();
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/backend.h"
#include "hearth/runtime_metrics.h"
#include "hearth/sampling.h"
#include "hearth/tokenizer.h"

namespace hearth {

// A GGUF model run on this machine's CPU.
struct LocalEndpointOptions {
  std::string model_path;
  int threads = 0;                  // 0: all hardware threads
  int64_t ctx = 0;                  // positions per sequence; 0: min(the model's trained context, 4096)
  Backend backend = Backend::Cpu;   // auto: WebGPU when an adapter exists and the model fits, else the CPU
  int n_seq = 4;                    // physical KV sequences: concurrent requests plus resident contexts
  int64_t decode_budget = 0;        // decode rows per tick; 0: n_seq (every active stream, every tick)
  int64_t prefill_budget = 128;     // prompt tokens per tick, shared by the requests still prefilling
  int64_t max_queue = 64;           // requests waiting for a sequence; more are refused
  bool kv_f32 = false;              // f16 KV cache (default, as llama.cpp) or f32
  bool keep_resident = true;        // finished requests' KV stays for reuse by a later request
  // Prefix snapshots (Client::save_snapshot) are also written here, and the ones for this model are loaded
  // when the endpoint is added, so a restarted Client starts warm. Empty: snapshots live in memory only.
  std::string snapshot_dir;
  int max_snapshots = 8;            // the oldest is dropped beyond this
};

// Remote endpoints (src/runtime/remote/): a hearth gateway, or any OpenAI-compatible API, over HTTP(S).
struct GatewayEndpointOptions {
  std::string url;                  // a hearth gateway
  std::string target;               // the gateway's name for the model
  std::string token;
  double connect_timeout_seconds = 10;
  double timeout_seconds = 600;     // the whole request, streaming included; 0: none
};
struct ProviderEndpointOptions {
  std::string base_url;             // an OpenAI-compatible API
  std::string model;
  std::string api_key_env;          // environment variable holding the key
  std::function<std::string()> api_key;  // or a callback returning it
  double connect_timeout_seconds = 10;
  double timeout_seconds = 600;     // the whole request, streaming included; 0: none
};

struct EndpointDescriptor {
  std::string name;
  std::variant<LocalEndpointOptions, GatewayEndpointOptions, ProviderEndpointOptions> options;

  static EndpointDescriptor local(std::string name, std::string model_path, LocalEndpointOptions o = {}) {
    o.model_path = std::move(model_path);
    return {std::move(name), std::move(o)};
  }
};

// Tokens produced by one tick for one request, and the text that became final with them.
struct TokenBatch {
  std::vector<TokenId> tokens;
  std::string text;
};

// The registry prompt (prompt://name@stage or @version, see hearth/prompts.h) a request's text was rendered
// from. Set it on the request and the Client copies it into the response's usage, so an outcome can be traced
// to the prompt version that drove it.
struct PromptUsage {
  std::string name;
  int64_t version = 0;
  std::string hash;                 // sha256 of the version's content
  std::string stage;                // empty when referenced by version number
  bool stale = false;               // served from a cache while the registry was unreachable
};

// Fields shared by query and chat. contextKey and sampling overrides are local-only.
struct RequestOptions {
  int32_t max_tokens = 128;
  std::optional<SamplingParams> sampling;   // default: SamplingParams{}
  std::vector<std::string> stop;            // generation ends before the first occurrence of any of these
  bool ignore_eos = false;
  // Names a conversation: its KV sequence stays resident after the request, and the next request with the
  // same key computes only the tokens after the longest common prefix.
  std::string context_key;
  // Streamed token batches, called on the scheduler thread as each tick produces them; keep it short.
  // Run::next() returns the same batches whether or not this is set.
  std::function<void(const TokenBatch&)> on_tokens;
  // Structured output (local endpoints): a GBNF grammar, or a JSON schema turned into one. At most one.
  std::string grammar;
  nlohmann::json json_schema;               // null: none
  // Options passed through to a remote endpoint's protocol as they are; they may not set the typed
  // fields (model, prompt, messages, stream). Local endpoints accept none.
  nlohmann::json endpoint_options = nlohmann::json::object();
  std::optional<PromptUsage> prompt_source;  // recorded as Usage::prompt
};

struct QueryRequest : RequestOptions {
  std::string prompt;                       // raw text: BOS per the vocabulary, special tokens parsed
  std::vector<TokenId> prompt_tokens;       // used instead of prompt when non-empty
};

struct ChatRequest : RequestOptions {
  nlohmann::json messages = nlohmann::json::array();   // [{role, content}], rendered by the model's template
};

struct EmbedRequest {
  std::vector<std::string> inputs;
  bool normalize = true;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;       // prompt tokens whose keys/values were reused (cache hits)
  int64_t restored_tokens = 0;     // of cached_tokens, those copied from a prefix snapshot
  bool context_hit = false;        // the contextKey found its own sequence resident
  double queue_seconds = 0;        // submitted → given a sequence
  double ttft_seconds = 0;         // submitted → first token sampled
  double decode_seconds = 0;       // first token → last token
  double total_seconds = 0;        // submitted → finished
  std::optional<PromptUsage> prompt;   // the request's prompt_source
  double decode_tps() const {
    return decode_seconds > 0 && completion_tokens > 1 ? double(completion_tokens - 1) / decode_seconds : 0;
  }
};

struct Response {
  uint64_t id = 0;
  std::vector<TokenId> tokens;     // generated tokens (stop strings' tokens included, EOS excluded)
  std::string text;                // generated text, cut before a stop string
  std::string finish_reason;       // "stop" (EOS or stop string), "length", "cancelled", "error"
  std::string error;               // set when finish_reason is "error"
  Usage usage;
  int sequence = -1;               // the physical KV sequence it ran on
  std::vector<uint64_t> token_ticks;   // the scheduler tick that produced each token
};

// A prefix whose keys/values an endpoint keeps (see Client::save_snapshot).
struct SnapshotInfo {
  std::string scope;
  std::string model_fingerprint;   // sha-256 over the GGUF header, tensor infos and sampled weight bytes
  int64_t n_tokens = 0;
  std::string path;                // the file it was written to or read from; empty when in memory only
};

struct RunState;
class RemoteEndpoint;

// One request in flight: pull its token batches, wait for the response, or cancel it. Copies share state.
class Run {
 public:
  explicit Run(std::shared_ptr<RunState> state);
  uint64_t id() const;
  // Blocks until the next token batch; nullopt once the run has finished and every batch was taken.
  std::optional<TokenBatch> next();
  // Blocks until the run finishes; throws hearth::Error when it failed. On a temporary Run
  // (`client.query(ep, q).wait()`) the response is returned by value, so it outlives the handle.
  const Response& wait() &;
  Response wait() &&;
  bool done() const;
  // Ends the run at the next tick; its sequence is freed for the next request at once.
  void cancel();

 private:
  std::shared_ptr<RunState> state_;
};

class LocalEndpoint;
class LocalEmbedder;

// A registered endpoint; cheap to copy.
class Endpoint {
 public:
  const std::string& name() const { return name_; }
  bool is_local() const { return local_ != nullptr || embedder_ != nullptr; }
  // A local encoder model (BERT family): embed only, query and chat are refused.
  bool embed_only() const { return local_ == nullptr && embedder_ != nullptr; }
  bool is_remote() const { return remote_ != nullptr; }
  // Where a local endpoint's forward pass runs ("cpu" or "webgpu"; auto resolved at add()), "remote" otherwise.
  std::string backend() const;
  // The scheduler's aggregate counters and its most recent ticks (oldest first, at most `limit`).
  EndpointStats stats() const;
  std::vector<TickMetrics> recent_ticks(size_t limit = 4096) const;
  // The local model's tokenizer (throws on remote endpoints).
  const Tokenizer& tokenizer() const;

 private:
  friend class Client;
  std::string name_;
  std::shared_ptr<LocalEndpoint> local_;
  std::shared_ptr<RemoteEndpoint> remote_;
  std::shared_ptr<LocalEmbedder> embedder_;   // local: set at once for encoders, loaded lazily for decoders
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Loads a local endpoint's model and starts its scheduler, or creates a gateway/provider endpoint
  // (which does not contact the remote side yet). Throws hearth::Error for a bad descriptor or a name
  // already registered.
  Endpoint add(const EndpointDescriptor& descriptor);
  Endpoint endpoint(const std::string& name) const;

  // Throws hearth::Error at once when the request cannot be admitted (queue full, prompt too long,
  // bad field); otherwise the run proceeds on the endpoint's scheduler thread.
  Run query(const Endpoint& endpoint, const QueryRequest& request);
  Run chat(const Endpoint& endpoint, const ChatRequest& request);
  std::vector<std::vector<float>> embed(const Endpoint& endpoint, const EmbedRequest& request);

  // Local endpoints: computes the keys/values of `prefix` (prompt or prompt_tokens, tokenized as a query)
  // and keeps them as the snapshot `scope` (replacing one of that name). A later request whose prompt
  // starts with those tokens restores them into its sequence instead of computing them. With
  // snapshot_dir set the snapshot is written there too. Blocks until it is computed.
  SnapshotInfo save_snapshot(const Endpoint& endpoint, const std::string& scope, const QueryRequest& prefix);
  // Reads a snapshot file written by save_snapshot; throws hearth::Error when it was made for another
  // model, KV type or layer count, or is damaged.
  SnapshotInfo load_snapshot(const Endpoint& endpoint, const std::string& path);
  std::vector<SnapshotInfo> snapshots(const Endpoint& endpoint) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth
