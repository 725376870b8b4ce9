#include "gateway/gateway.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>

#include "gateway/admin_page.h"
#include "gateway/admission.h"
#include "gateway/api_error.h"
#include "gateway/cors.h"
#include "gateway/metrics.h"
#include "gateway/model_exchange.h"
#include "gateway/model_request.h"
#include "gateway/rate_limiter.h"
#include "gateway/redactor.h"
#include "gateway/request_json.h"
#include "gateway/token_auth.h"
#include "hearth/error.h"
#include "prompts/prompt_content.h"
#include "prompts/prompt_store.h"
#include "prompts/registry_api.h"
#include "prompts/store_prompt_resolver.h"

namespace hearth::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using HttpRequest = http::request<http::string_body>;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;

// What the config says, with the derived lookup structures; swapped whole on reload.
struct Policy {
  GatewayConfig config;
  TokenAuth auth;
  TokenAuth admin;  // empty: admin routes disabled
  std::map<std::string, const TokenConfig*> token_by_name;
  Redactor redact;
  std::shared_ptr<const prompts::RegistryApi> registry;  // null: no prompt registry configured
};

// store: the prompt registry's, or null. The registry API gets the tokens that have prompt rights.
std::shared_ptr<const Policy> make_policy(GatewayConfig config, prompts::PromptStore* store) {
  auto p = std::make_shared<Policy>();
  p->config = std::move(config);
  TokenAuth prompt_auth;
  for (const TokenConfig& t : p->config.tokens) {
    p->auth.add_hashed(t.name, t.sha256_hex, Rights::Read);
    p->token_by_name[t.name] = &t;
    if (t.prompts != PromptAccess::None)
      prompt_auth.add_hashed(t.name, t.sha256_hex, t.prompts == PromptAccess::Write ? Rights::Write : Rights::Read);
  }
  if (store) p->registry = std::make_shared<const prompts::RegistryApi>(*store, std::move(prompt_auth));
  if (!p->config.admin_sha256_hex.empty()) p->admin.add_hashed("admin", p->config.admin_sha256_hex, Rights::Write);
  p->redact = Redactor(p->config.secrets);
  return p;
}

struct Target {
  TargetConfig config;
  Endpoint endpoint;
};

const char* kind_of(const EndpointDescriptor& d) {
  if (std::holds_alternative<LocalEndpointOptions>(d.options)) return "local";
  if (std::holds_alternative<GatewayEndpointOptions>(d.options)) return "gateway";
  return "provider";
}

bool same_descriptor(const EndpointDescriptor& a, const EndpointDescriptor& b) {
  if (a.options.index() != b.options.index()) return false;
  if (auto* x = std::get_if<LocalEndpointOptions>(&a.options)) {
    auto* y = std::get_if<LocalEndpointOptions>(&b.options);
    return x->model_path == y->model_path && x->threads == y->threads && x->ctx == y->ctx && x->n_seq == y->n_seq &&
           x->prefill_budget == y->prefill_budget && x->max_queue == y->max_queue && x->keep_resident == y->keep_resident &&
           x->backend == y->backend;
  }
  if (auto* x = std::get_if<GatewayEndpointOptions>(&a.options)) {
    auto* y = std::get_if<GatewayEndpointOptions>(&b.options);
    return x->url == y->url && x->target == y->target && x->token == y->token;
  }
  auto* x = std::get_if<ProviderEndpointOptions>(&a.options);
  auto* y = std::get_if<ProviderEndpointOptions>(&b.options);
  return x->base_url == y->base_url && x->model == y->model && x->api_key_env == y->api_key_env;
}

std::optional<Dialect> dialect_for(std::string_view path) {
  if (path == "/v1/chat/completions") return Dialect::OpenAIChat;
  if (path == "/v1/completions") return Dialect::OpenAICompletion;
  if (path == "/v1/embeddings") return Dialect::OpenAIEmbedding;
  if (path == "/v1/query") return Dialect::HearthQuery;
  if (path == "/v1/chat") return Dialect::HearthChat;
  if (path == "/v1/embed") return Dialect::HearthEmbed;
  return std::nullopt;
}

// The route name in metrics: paths come from clients, so only known routes get a series of their own.
std::string route_label(const std::string& path) {
  static const char* const kRoutes[] = {"/health", "/metrics", "/admin", "/v1/models", "/v1/chat/completions",
                                        "/v1/completions", "/v1/embeddings", "/v1/query", "/v1/chat", "/v1/embed"};
  for (const char* r : kRoutes)
    if (path == r) return path;
  if (prompts::RegistryApi::owns(path)) return "/v1/prompts";
  return "other";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding (and '+' as a space in query strings); a malformed escape is kept as it is.
std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 && hex_digit(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && in[i] == '+' ? ' ' : in[i];
    }
  }
  return out;
}

// The registry API's view of a request: decoded path and query parameters, headers by name.
prompts::ApiRequest registry_request(const HttpRequest& req) {
  prompts::ApiRequest ar;
  ar.method = std::string(req.method_string());
  std::string_view target(req.target().data(), req.target().size());
  size_t q = target.find('?');
  ar.path = percent_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      size_t eq = pair.find('=');
      if (!pair.empty())
        ar.query[percent_decode(pair.substr(0, eq), true)] =
            eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
  }
  ar.header = [&req](const std::string& name) {
    auto it = req.find(name);
    return it == req.end() ? std::string() : std::string(it->value());
  };
  ar.body = req.body();
  return ar;
}

asio::awaitable<prompts::ApiReply> call_registry(std::shared_ptr<const prompts::RegistryApi> api, prompts::ApiRequest request) {
  co_return api->handle(request);
}

// A simple (non-streamed) reply, built by a route and written by the connection.
struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  double retry_after_seconds = 0;
  bool close = false;
  std::vector<std::pair<std::string, std::string>> headers{};
  static Reply json(int status, const nlohmann::json& j) {
    return {status, "application/json", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  }
};

// How serve_model ended: the status it wrote, or an error it gave up with before writing anything.
struct ModelOutcome {
  std::string target;
  std::optional<PromptUsage> prompt;
  int status = 0;
  std::string error;
  int error_status = 503;
};

template <class Stream>
auto& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

}  // namespace

struct Gateway::Impl {
  std::ostream& log;
  std::mutex log_mu;
  Client client;
  const Clock::time_point started = Clock::now();

  std::mutex policy_mu;
  std::shared_ptr<const Policy> policy;
  std::mutex targets_mu;
  std::map<std::string, Target> targets;

  // The prompt registry (server.prompt_registry): opened once; its path changes only with a restart.
  std::unique_ptr<prompts::PromptStore> prompt_store;
  std::unique_ptr<prompts::StorePromptResolver> prompt_resolver;
  asio::thread_pool registry_pool{1};  // registry calls (SQLite, fsync on writes) stay off the io threads

  Admission admission;
  RateLimiter limiter;
  Metrics metrics;
  std::atomic<uint64_t> next_id{1};

  std::vector<tcp::acceptor> acceptors;
  std::vector<std::shared_ptr<ssl::context>> tls;
  std::vector<std::thread> io_threads;
  std::unique_ptr<asio::thread_pool> workers;
  int worker_count = 0;
  std::mutex live_mu;
  std::map<uint64_t, std::weak_ptr<Exchange>> live_exchanges;
  bool stopped = false;             // guarded by live_mu
  std::vector<uint16_t> bound_ports;  // kept: a closed acceptor no longer knows its port

  Impl(GatewayConfig config, std::ostream& log_stream)
      : log(log_stream), admission(config.max_concurrency, config.max_queue) {
    worker_count = config.max_concurrency;
    for (const TargetConfig& t : config.targets) add_target(t);
    if (!config.prompt_registry.empty()) {
      prompt_store = std::make_unique<prompts::PromptStore>(config.prompt_registry);
      prompt_resolver = std::make_unique<prompts::StorePromptResolver>(*prompt_store);
    }
    policy = make_policy(std::move(config), prompt_store.get());
  }

  std::shared_ptr<const Policy> current_policy() {
    std::lock_guard lk(policy_mu);
    return policy;
  }

  void write_log(const std::string& line) {
    std::string clean = current_policy() ? current_policy()->redact(line) : line;
    std::lock_guard lk(log_mu);
    log << clean << '\n' << std::flush;
  }

  void add_target(const TargetConfig& t) {
    Endpoint ep = client.add(t.descriptor);
    std::lock_guard lk(targets_mu);
    targets[t.name] = Target{t, ep};
  }

  std::optional<Target> find_target(const std::string& name) {
    std::lock_guard lk(targets_mu);
    auto it = targets.find(name);
    if (it == targets.end()) return std::nullopt;
    return it->second;
  }

  // --- authentication -------------------------------------------------------------------------------

  const TokenConfig& authenticate(const HttpRequest& req, const Policy& p) {
    auto header = req.find(http::field::authorization);
    if (header == req.end())
      throw ApiError(401, "missing bearer token: send Authorization: Bearer <token>");
    auto token = TokenAuth::bearer_token(std::string_view(header->value().data(), header->value().size()));
    if (!token) throw ApiError(401, "the Authorization header must use the Bearer scheme");
    auto who = p.auth.authenticate(*token);
    if (!who) throw ApiError(401, "invalid bearer token");
    return *p.token_by_name.at(who->name);
  }

  void authenticate_admin(const HttpRequest& req, const Policy& p) {
    if (p.admin.size() == 0) throw ApiError(404, "the admin routes are disabled (no admin token configured)");
    auto header = req.find(http::field::authorization);
    if (header == req.end()) throw ApiError(401, "missing admin bearer token");
    auto token = TokenAuth::bearer_token(std::string_view(header->value().data(), header->value().size()));
    if (!token || !p.admin.authenticate(*token)) throw ApiError(401, "invalid admin token");
  }

  // --- simple routes --------------------------------------------------------------------------------

  Reply models(const TokenConfig& caller) {
    nlohmann::json data = nlohmann::json::array();
    std::lock_guard lk(targets_mu);
    for (const auto& [name, t] : targets) {
      if (!caller.allows(name)) continue;
      data.push_back({{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", kind_of(t.config.descriptor)}});
    }
    return Reply::json(200, {{"object", "list"}, {"data", data}});
  }

  std::string prometheus() {
    std::string out = metrics.prometheus(admission.running(), admission.queued());
    std::lock_guard lk(targets_mu);
    out += "# HELP hearth_endpoint_cached_tokens_total Prompt tokens served from resident KV, per local target.\n"
           "# TYPE hearth_endpoint_cached_tokens_total counter\n";
    std::string ticks = "# TYPE hearth_endpoint_ticks_total counter\n";
    std::string busy = "# TYPE hearth_endpoint_busy_seconds_total counter\n";
    std::string requests = "# HELP hearth_endpoint_requests_total The Client's requests per local target, by outcome.\n"
                           "# TYPE hearth_endpoint_requests_total counter\n";
    for (const auto& [name, t] : targets) {
      if (!t.endpoint.is_local()) continue;
      EndpointStats s = t.endpoint.stats();
      out += fmt::format("hearth_endpoint_cached_tokens_total{{target=\"{}\"}} {}\n", name, s.cached_tokens);
      ticks += fmt::format("hearth_endpoint_ticks_total{{target=\"{}\"}} {}\n", name, s.ticks);
      busy += fmt::format("hearth_endpoint_busy_seconds_total{{target=\"{}\"}} {}\n", name, s.busy_seconds);
      for (auto [state, n] : {std::pair{"admitted", s.requests_admitted}, {"finished", s.requests_finished},
                              {"cancelled", s.requests_cancelled}, {"refused", s.requests_refused}})
        requests += fmt::format("hearth_endpoint_requests_total{{target=\"{}\",state=\"{}\"}} {}\n", name, state, n);
    }
    return out + ticks + busy + requests;
  }

  std::string admin_page(const Policy& p) {
    AdminSnapshot s;
    s.uptime_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    s.running = admission.running();
    s.queued = admission.queued();
    s.max_running = p.config.max_concurrency;
    s.max_queue = p.config.max_queue;
    s.errors = metrics.errors_total();
    s.live = metrics.live();
    auto totals = metrics.targets();
    std::lock_guard lk(targets_mu);
    for (const auto& [name, t] : targets) {
      AdminTarget a;
      a.name = name;
      a.kind = kind_of(t.config.descriptor);
      a.running = admission.running(name);
      a.max_concurrency = t.config.max_concurrency;
      if (auto it = totals.find(name); it != totals.end()) a.totals = it->second;
      if (t.endpoint.is_local()) {
        a.has_stats = true;
        a.stats = t.endpoint.stats();
      }
      s.targets.push_back(std::move(a));
    }
    return render_admin_page(s);
  }

  // --- prompt registry --------------------------------------------------------------------------------

  // Resolves the request's prompt:// reference (an A/B split keyed by the request's user, else the token's
  // name, so one end user always gets the same version), renders it with its variables in place of the
  // reference, and marks the request with the version it used. Runs on the registry thread (SQLite waits for
  // a write's fsync) while the connection's coroutine, which owns `mr`, is suspended.
  PromptUsage render_prompt(ModelRequest& mr, const TokenConfig& caller) {
    const bool chat = operation_of(mr.dialect) == Operation::Chat;
    const std::string field = chat ? "messages[" + std::to_string(mr.prompt_message) + "].content" : "prompt";
    if (!prompt_resolver)
      throw ApiError(400, "this gateway has no prompt registry (server.prompt_registry), so " + mr.prompt_ref +
                              " cannot be resolved", field);
    if (caller.prompts == PromptAccess::None)
      throw ApiError(403, "token '" + caller.name + "' may not read prompts from the registry (give it prompts = \"read\")");
    RenderedPrompt rendered;
    try {
      rendered = prompt_resolver->resolve_and_render(mr.prompt_ref, mr.prompt_variables,
                                                     mr.user.empty() ? caller.name : caller.name + "/" + mr.user);
    } catch (const prompts::PromptError& e) {
      if (e.status() >= 500) throw ApiError(500, mr.prompt_ref + ": " + e.what());
      throw ApiError(400, mr.prompt_ref + ": " + e.what(), field);
    } catch (const Error& e) {
      throw ApiError(400, mr.prompt_ref + ": " + e.what(), field);
    }
    PromptUsage used{rendered.prompt.name, rendered.prompt.version, rendered.prompt.hash, rendered.prompt.stage, false};
    if (chat) mr.chat.messages[size_t(mr.prompt_message)]["content"] = std::move(rendered.text);
    else mr.query.prompt = std::move(rendered.text);
    mr.options().prompt_source = used;
    return used;
  }

  static asio::awaitable<PromptUsage> render_prompt_on_pool(Impl* self, ModelRequest* mr, const TokenConfig* caller) {
    co_return self->render_prompt(*mr, *caller);
  }

  // /v1/prompts/...: the registry's own API, behind the gateway's tokens (a token without prompt rights: 403).
  asio::awaitable<Reply> registry_route(const HttpRequest& req, std::shared_ptr<const Policy> pol) {
    if (!pol->registry) throw ApiError(404, "this gateway has no prompt registry (set server.prompt_registry)");
    const TokenConfig& caller = authenticate(req, *pol);
    if (caller.prompts == PromptAccess::None)
      throw ApiError(403, "token '" + caller.name + "' has no prompt registry rights (prompts = \"read\" or \"write\")");
    prompts::ApiReply r = co_await asio::co_spawn(registry_pool.get_executor(),
                                                  call_registry(pol->registry, registry_request(req)), asio::use_awaitable);
    Reply reply{r.status, r.content_type, std::move(r.body)};
    reply.headers = std::move(r.headers);
    co_return reply;
  }

  // --- model requests: the worker side --------------------------------------------------------------

  void run_job(const std::shared_ptr<Exchange>& ex) {
    const std::string target = ex->request.target;
    struct SlotGuard {
      Impl* self;
      const std::string& target;
      ~SlotGuard() { self->admission.release(target); }
    } guard{this, target};
    {
      std::lock_guard lk(ex->mu);
      ex->admitted = true;
      if (ex->cancelled) return;
    }
    metrics.live_running(ex->id);
    ex->notify(ex);
    bool started = false;
    try {
      const ModelRequest& r = ex->request;
      if (operation_of(r.dialect) == Operation::Embed) {
        auto vectors = client.embed(ex->endpoint, r.embed);
        int64_t prompt_tokens = 0;
        if (ex->endpoint.is_local())
          for (const std::string& input : r.embed.inputs)
            prompt_tokens += int64_t(ex->endpoint.tokenizer().encode(input, true, false).size());
        std::string body = ex->format.embeddings(vectors, prompt_tokens).dump();
        Usage u;
        u.prompt_tokens = prompt_tokens;
        limiter.charge_tokens(ex->caller, double(prompt_tokens), ex->tokens_per_minute);
        metrics.usage(target, u);
        std::lock_guard lk(ex->mu);
        ex->status = 200;
        ex->pending = std::move(body);
        ex->finished = true;
      } else {
        Run run = operation_of(r.dialect) == Operation::Chat ? client.chat(ex->endpoint, r.chat)
                                                             : client.query(ex->endpoint, r.query);
        started = true;
        {
          std::lock_guard lk(ex->mu);
          ex->run = run;
          if (ex->cancelled) run.cancel();
          ex->status = 200;
          if (r.stream) ex->pending += ex->format.stream_start();
        }
        ex->notify(ex);
        if (r.stream) {
          while (auto batch = run.next()) {
            std::string event = ex->format.stream_batch(*batch);
            metrics.live_tokens(ex->id, int64_t(batch->tokens.size()));
            if (event.empty()) continue;
            {
              std::lock_guard lk(ex->mu);
              ex->pending += event;
            }
            ex->notify(ex);
          }
        }
        const Response& response = run.wait();
        limiter.charge_tokens(ex->caller, double(response.usage.prompt_tokens + response.usage.completion_tokens),
                              ex->tokens_per_minute);
        metrics.usage(target, response.usage);
        std::string tail = r.stream ? ex->format.stream_end(response) : ex->format.complete(response).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::lock_guard lk(ex->mu);
        ex->pending += tail;
        ex->finished = true;
      }
    } catch (const std::exception& e) {
      std::string message = current_policy()->redact(e.what());
      std::lock_guard lk(ex->mu);
      if (ex->status == 0 || (!started && !ex->request.stream)) {
        // The Client refused before running: a bad field for this endpoint, or its own queue is full.
        bool busy = message.find("queue") != std::string::npos;
        ex->status = busy ? 503 : 400;
        ex->pending = ApiError::body_for(ex->status, message).dump();
      } else if (ex->request.stream) {
        ex->pending += ex->format.stream_error(500, message);
      } else {
        ex->status = 500;
        ex->pending = ApiError::body_for(500, message).dump();
      }
      ex->finished = true;
    }
    ex->notify(ex);
  }

  // --- model requests: the connection side ----------------------------------------------------------

  template <class Stream>
  static asio::awaitable<void> watch_disconnect(Stream& stream, beast::flat_buffer& buffer, std::shared_ptr<Exchange> ex) {
    beast::error_code ec;
    size_t n = co_await stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) buffer.commit(n);  // a pipelined request: keep its bytes for the next read
    {
      std::lock_guard lk(ex->mu);
      ex->watch_done = true;
      if (ec && ec != asio::error::operation_aborted) ex->client_gone = true;
    }
    ex->wake.cancel();
  }

  template <class Stream>
  asio::awaitable<bool> serve_model(Stream& stream, beast::flat_buffer& buffer, const HttpRequest& req,
                                    std::shared_ptr<const Policy> pol, Dialect dialect, const std::string& origin,
                                    ModelOutcome& out) {
    const Policy& p = *pol;
    const TokenConfig& caller = authenticate(req, p);
    ModelRequest mr = parse_model_request(dialect, parse_request_json(req.body()));
    out.target = mr.target;
    std::optional<Target> target = find_target(mr.target);
    if (!target) throw ApiError(400, "unknown target '" + mr.target + "'", is_openai(dialect) ? "model" : "target");
    if (!caller.allows(mr.target))
      throw ApiError(403, "token '" + caller.name + "' may not use target '" + mr.target + "'");
    if (double wait = limiter.try_acquire(caller.name, caller.requests_per_minute, caller.tokens_per_minute); wait > 0) {
      metrics.rate_limited();
      throw ApiError(429, fmt::format("rate limit for token '{}' reached; retry in {:.0f} s", caller.name, std::ceil(wait)),
                     "", wait);
    }

    if (!mr.prompt_ref.empty())
      out.prompt = co_await asio::co_spawn(registry_pool.get_executor(), render_prompt_on_pool(this, &mr, &caller),
                                           asio::use_awaitable);

    uint64_t id = next_id.fetch_add(1);
    auto ex = std::make_shared<Exchange>(co_await asio::this_coro::executor, std::move(mr), id);
    ex->endpoint = target->endpoint;
    ex->caller = caller.name;
    ex->tokens_per_minute = caller.tokens_per_minute;
    metrics.live_add(LiveRequest{id, std::string(req.target()), ex->request.target, caller.name, false, 0, Clock::now()});
    {
      std::lock_guard lk(live_mu);
      live_exchanges[id] = ex;
      if (stopped) ex->cancel();  // stop() cancelled the others already
    }
    struct LiveGuard {
      Impl* self;
      uint64_t id;
      ~LiveGuard() {
        self->metrics.live_remove(id);
        std::lock_guard lk(self->live_mu);
        self->live_exchanges.erase(id);
      }
    } live_guard{this, id};

    auto result = admission.enter(id, ex->request.target, target->config.max_concurrency, [this, ex] {
      asio::post(*workers, [this, ex] { run_job(ex); });
    });
    if (result == Admission::Result::Refused) {
      metrics.refused();
      throw ApiError(503, fmt::format("the gateway is at capacity ({} running, {} queued); retry later",
                                      admission.running(), admission.queued()),
                     "", 1);
    }

    const bool stream_mode = ex->request.stream;
    const auto queue_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(p.config.queue_timeout_seconds));
    const auto request_deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(p.config.request_timeout_seconds));
    {
      std::lock_guard lk(ex->mu);
      ex->watch_done = false;
    }
    asio::co_spawn(co_await asio::this_coro::executor, watch_disconnect(stream, buffer, ex), asio::detached);

    bool headers_sent = false, complete = false, gone = false;
    std::optional<http::response<http::empty_body>> sse_head;
    std::optional<http::response_serializer<http::empty_body>> sse_serializer;
    beast::error_code ec;
    for (;;) {
      std::string chunk;
      int status;
      bool finished, admitted;
      {
        std::lock_guard lk(ex->mu);
        chunk.swap(ex->pending);
        status = ex->status;
        finished = ex->finished;
        admitted = ex->admitted;
        gone = ex->client_gone;
        ex->wake_posted = false;
      }
      if (gone) break;
      if (!headers_sent && status != 0) {
        if (status != 200 || !stream_mode) {
          if (finished) {  // a whole body (or an error before streaming began)
            http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
            res.set(http::field::content_type, "application/json");
            add_cors(res, origin, p);
            res.keep_alive(req.keep_alive());
            res.body() = std::move(chunk);
            res.prepare_payload();
            out.status = status;
            co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) gone = true;
            complete = true;
            break;
          }
        } else {
          sse_head.emplace(http::status::ok, req.version());
          sse_head->set(http::field::content_type, "text/event-stream");
          sse_head->set(http::field::cache_control, "no-cache");
          sse_head->set("X-Accel-Buffering", "no");
          add_cors(*sse_head, origin, p);
          sse_head->keep_alive(req.keep_alive());
          sse_head->chunked(true);
          sse_serializer.emplace(*sse_head);
          out.status = 200;
          co_await http::async_write_header(stream, *sse_serializer, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) {
            gone = true;
            break;
          }
          headers_sent = true;
        }
      }
      if (headers_sent && !chunk.empty()) {
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(chunk)), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          gone = true;
          break;
        }
      }
      if (headers_sent && finished) {
        co_await asio::async_write(stream, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) gone = true;
        complete = true;
        break;
      }
      auto now = Clock::now();
      if (!admitted && now >= queue_deadline) {
        if (admission.leave(id)) {
          ex->cancel();
          out.error = fmt::format("waited {:.0f} s in the queue without a free slot; retry later",
                                             p.config.queue_timeout_seconds);
          break;
        }
      }
      if (now >= request_deadline) {
        ex->cancel();
        if (!headers_sent) {
          out.error = fmt::format("request timed out after {:.0f} s", p.config.request_timeout_seconds);
          out.error_status = 504;
          break;
        }
        std::string event = ex->format.stream_error(504, "request timed out after " +
                                                             fmt::format("{:.0f}", p.config.request_timeout_seconds) + " s");
        co_await asio::async_write(stream, http::make_chunk(asio::buffer(event)), asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) co_await asio::async_write(stream, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
        complete = !ec;
        gone = !!ec;
        break;
      }
      {
        // A wake-up posted while this coroutine was writing found no wait to cancel: drain again instead of
        // sleeping until the deadline.
        std::lock_guard lk(ex->mu);
        if (ex->wake_posted || ex->client_gone) continue;
      }
      ex->wake.expires_at(admitted ? request_deadline : std::min(queue_deadline, request_deadline));
      co_await ex->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }

    if (!complete) {
      ex->cancel();
      admission.leave(id);
      if (gone) metrics.disconnected();
    }
    // Stop the disconnect watcher before the stream is used again (or destroyed).
    bool watching;
    {
      std::lock_guard lk(ex->mu);
      watching = !ex->watch_done;
    }
    if (watching) {
      beast::error_code ignored;
      lowest(stream).socket().cancel(ignored);
      for (;;) {
        {
          std::lock_guard lk(ex->mu);
          if (ex->watch_done) break;
        }
        ex->wake.expires_after(std::chrono::seconds(5));
        co_await ex->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (gone) co_return false;
    co_return complete && req.keep_alive();
  }

  template <class Body>
  void add_cors(http::response<Body>& res, const std::string& origin, const Policy& p) {
    for (const auto& [name, value] : cors_headers(p.config.cors_origins, origin)) res.set(name, value);
  }

  // --- one request ----------------------------------------------------------------------------------

  template <class Stream>
  asio::awaitable<bool> handle(Stream& stream, beast::flat_buffer& buffer, HttpRequest& req,
                               std::shared_ptr<const Policy> pol) {
    const auto t0 = Clock::now();
    std::string path(req.target());
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    std::string origin(req[http::field::origin]);
    std::string target;
    std::optional<PromptUsage> prompt;
    Reply reply;
    try {
      if (req.method() == http::verb::options) {
        reply = {204, "text/plain", ""};
      } else if (path == "/health") {
        reply = Reply::json(200, {{"status", "ok"}});
      } else if (path == "/metrics") {
        authenticate_admin(req, *pol);
        reply = {200, "text/plain; version=0.0.4", prometheus()};
      } else if (path == "/admin") {
        authenticate_admin(req, *pol);
        reply = {200, "text/html; charset=utf-8", admin_page(*pol)};
      } else if (path == "/v1/models") {
        if (req.method() != http::verb::get) throw ApiError(405, "use GET for /v1/models");
        reply = models(authenticate(req, *pol));
      } else if (prompts::RegistryApi::owns(path)) {
        reply = co_await registry_route(req, pol);
      } else if (auto dialect = dialect_for(path)) {
        if (req.method() != http::verb::post) throw ApiError(405, "use POST for " + path);
        ModelOutcome outcome;
        bool keep = co_await serve_model(stream, buffer, req, pol, *dialect, origin, outcome);
        target = outcome.target;
        prompt = outcome.prompt;
        if (outcome.error.empty()) {
          finish_log(req, path, target, outcome.status, t0, *pol, prompt);
          co_return keep;
        }
        throw ApiError(outcome.error_status, outcome.error, "", outcome.error_status == 503 ? 1 : 0);
      } else {
        throw ApiError(404, "no route " + path);
      }
    } catch (const ApiError& e) {
      reply = Reply::json(e.status, nlohmann::json::parse(pol->redact(e.body().dump())));
      reply.retry_after_seconds = e.retry_after_seconds;
    } catch (const std::exception& e) {
      reply = Reply::json(500, ApiError::body_for(500, pol->redact(e.what())));
    }
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::content_type, reply.content_type);
    if (reply.retry_after_seconds > 0)
      res.set(http::field::retry_after, std::to_string(int64_t(std::ceil(reply.retry_after_seconds))));
    for (const auto& [name, value] : reply.headers) res.set(name, value);
    if (reply.status == 204)
      for (const auto& [name, value] : cors_preflight_headers()) res.set(name, value);
    add_cors(res, origin, *pol);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(reply.body);
    res.prepare_payload();
    beast::error_code ec;
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    finish_log(req, path, target, reply.status, t0, *pol, prompt);
    co_return !ec && req.keep_alive();
  }

  void finish_log(const HttpRequest& req, const std::string& path, const std::string& target, int status,
                  Clock::time_point t0, const Policy& p, const std::optional<PromptUsage>& prompt) {
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    bool known_target = !target.empty() && find_target(target).has_value();
    metrics.request_done(route_label(path), known_target ? target : "", status, seconds);
    if (prompt) metrics.prompt_used(*prompt);
    if (p.config.log_requests) {
      std::string used = prompt ? fmt::format(" prompt={}@{} hash={}", prompt->name, prompt->version, prompt->hash) : "";
      write_log(fmt::format("{} {} {} target={}{} {:.1f}ms", std::string(req.method_string()), route_label(path), status,
                            known_target ? target : "-", used, seconds * 1000));
    }
  }

  // --- connections ----------------------------------------------------------------------------------

  template <class Stream>
  asio::awaitable<void> serve_connection(Stream& stream) {
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      auto pol = current_policy();
      const GatewayConfig& c = pol->config;
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(c.max_request_bytes);
      lowest(stream).expires_after(std::chrono::milliseconds(
          int64_t(1000 * (first ? c.header_timeout_seconds : c.idle_timeout_seconds))));
      first = false;
      beast::error_code ec;
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      // Beast itself refuses a declared Content-Length over body_limit as the header ends (the header is
      // parsed by then): that is the 413 before the body is read, not a broken connection.
      bool too_large = ec == http::error::body_limit;
      if (ec && !too_large) break;
      if (!too_large) {  // content_length() needs a complete header: not after Beast's refusal above
        auto declared = parser.content_length();
        too_large = declared && *declared > c.max_request_bytes;
      }
      if (!too_large) {
        lowest(stream).expires_after(std::chrono::milliseconds(int64_t(1000 * c.header_timeout_seconds)));
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        too_large = ec == http::error::body_limit;
        if (ec && !too_large) break;
      }
      if (too_large) {
        co_await reply_too_large(stream, parser.get(), c);
        break;
      }
      lowest(stream).expires_never();
      HttpRequest req = parser.release();
      // A keep-alive connection may have waited for this request across a reload: answer it with the policy
      // of now (new tokens work at once, removed ones stop at once), not the one read before the wait.
      bool keep = co_await handle(stream, buffer, req, current_policy());
      if (!keep) break;
    }
  }

  template <class Stream>
  asio::awaitable<void> reply_too_large(Stream& stream, const HttpRequest& req, const GatewayConfig& c) {
    auto body = ApiError::body_for(413, fmt::format("request body larger than the limit of {} bytes", c.max_request_bytes));
    http::response<http::string_body> res{http::status::payload_too_large, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(false);
    res.body() = body.dump();
    res.prepare_payload();
    beast::error_code ec;
    lowest(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    std::string path(req.target().substr(0, req.target().find('?')));
    metrics.request_done(route_label(path), "", 413, 0);
    if (current_policy()->config.log_requests) write_log(fmt::format("{} {} 413", std::string(req.method_string()), route_label(path)));
    // Read (and drop) a bounded amount of what the client is still sending, so closing does not reset the
    // connection before it has read the 413.
    lowest(stream).expires_after(std::chrono::seconds(1));
    std::array<char, 16384> sink;
    size_t drained = 0;
    while (!ec && drained < (4u << 20)) {
      size_t n = co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      drained += n;
    }
  }

  asio::awaitable<void> plain_session(tcp::socket socket) {
    metrics.connection(1);
    beast::tcp_stream stream(std::move(socket));
    co_await serve_connection(stream);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    metrics.connection(-1);
  }

  asio::awaitable<void> tls_session(tcp::socket socket, std::shared_ptr<ssl::context> ctx) {
    metrics.connection(1);
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *ctx);
    beast::error_code ec;
    lowest(stream).expires_after(std::chrono::milliseconds(int64_t(1000 * current_policy()->config.header_timeout_seconds)));
    co_await stream.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await serve_connection(stream);
      lowest(stream).expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
    metrics.connection(-1);
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<ssl::context> ctx) {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(ioc), asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: back off instead of spinning.
        write_log("accept failed: " + ec.message());
        asio::steady_timer t(ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      if (ctx) asio::co_spawn(executor, tls_session(std::move(socket), ctx), asio::detached);
      else asio::co_spawn(executor, plain_session(std::move(socket)), asio::detached);
    }
  }

  void start() {
    // 1,000 concurrent streams need more descriptors than the usual soft limit of 1,024.
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    auto pol = current_policy();
    workers = std::make_unique<asio::thread_pool>(worker_count);
    for (const ListenerConfig& l : pol->config.listeners) {
      std::shared_ptr<ssl::context> ctx;
      if (l.tls()) {
        ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        try {
          ctx->use_certificate_chain_file(l.tls_cert);
          ctx->use_private_key_file(l.tls_key, ssl::context::pem);
        } catch (const std::exception& e) {
          throw Error("listener " + l.address + ":" + std::to_string(l.port) + ": cannot load TLS certificate/key: " + e.what());
        }
      }
      tcp::acceptor acceptor(ioc);
      beast::error_code ec;
      auto address = asio::ip::make_address(l.address == "localhost" ? "127.0.0.1" : l.address, ec);
      if (ec) throw Error("listener address '" + l.address + "' is not an IP address");
      tcp::endpoint ep(address, l.port);
      acceptor.open(ep.protocol(), ec);
      if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor.bind(ep, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) throw Error("cannot listen on " + l.address + ":" + std::to_string(l.port) + ": " + ec.message());
      bound_ports.push_back(acceptor.local_endpoint().port());
      acceptors.push_back(std::move(acceptor));
      tls.push_back(ctx);
    }
    for (size_t i = 0; i < acceptors.size(); ++i)
      asio::co_spawn(ioc, accept_loop(acceptors[i], tls[i]), asio::detached);
    for (int i = 0; i < pol->config.io_threads; ++i) io_threads.emplace_back([this] { ioc.run(); });
    for (size_t i = 0; i < acceptors.size(); ++i)
      write_log(fmt::format("listening on {}://{}:{}", tls[i] ? "https" : "http",
                            acceptors[i].local_endpoint().address().to_string(), acceptors[i].local_endpoint().port()));
  }

  void stop() {
    {
      // Under live_mu: a request that registers after this sees `stopped` and is cancelled there, so no
      // worker starts a run that workers->join() below would then wait out.
      std::lock_guard lk(live_mu);
      if (stopped) return;
      stopped = true;
      for (auto& [id, weak] : live_exchanges)
        if (auto ex = weak.lock()) ex->cancel();
    }
    ioc.stop();
    for (auto& t : io_threads) t.join();
    io_threads.clear();
    // No thread runs the io_context now, so the listeners can be closed from here. (A close posted to it just
    // before ioc.stop() seldom ran: the ports kept accepting connections nobody served until destruction.)
    for (auto& a : acceptors) {
      beast::error_code ec;
      a.close(ec);
    }
    if (workers) workers->join();
    registry_pool.join();
  }

  void reload(GatewayConfig config) {
    std::vector<std::string> notes;
    for (const TargetConfig& t : config.targets) {
      std::optional<Target> existing = find_target(t.name);
      if (!existing) {
        add_target(t);
        notes.push_back("added target " + t.name);
      } else if (!same_descriptor(existing->config.descriptor, t.descriptor)) {
        notes.push_back("target " + t.name + " changed its endpoint settings: restart to apply them");
      } else {
        std::lock_guard lk(targets_mu);
        targets[t.name].config = t;  // limits apply at once
      }
    }
    {
      std::lock_guard lk(targets_mu);
      for (auto it = targets.begin(); it != targets.end();) {
        if (config.target(it->first) == nullptr) {
          notes.push_back("removed target " + it->first);
          it = targets.erase(it);  // its running requests hold their own Endpoint copy
        } else {
          ++it;
        }
      }
    }
    if (config.listeners.size() != current_policy()->config.listeners.size())
      notes.push_back("listener changes need a restart");
    if (config.prompt_registry != current_policy()->config.prompt_registry) {
      notes.push_back("a changed server.prompt_registry needs a restart");
      config.prompt_registry = current_policy()->config.prompt_registry;
    }
    if (config.max_concurrency > worker_count) {
      notes.push_back(fmt::format("max_concurrency {} exceeds the {} workers started with; using {}", config.max_concurrency,
                                  worker_count, worker_count));
      config.max_concurrency = worker_count;
    }
    admission.set_limits(config.max_concurrency, config.max_queue);
    {
      std::lock_guard lk(policy_mu);
      policy = make_policy(std::move(config), prompt_store.get());
    }
    write_log("configuration reloaded");
    for (const std::string& n : notes) write_log("reload: " + n);
  }

  ~Impl() {
    stop();
    acceptors.clear();  // they use the io_context's reactor, destroyed next
  }

  // Declared last so it is destroyed first: its destructor destroys the coroutine frames still suspended in it,
  // whose guards touch the members above (live_exchanges, metrics, admission). Destroyed after them, it crashed
  // at shutdown whenever a response was still being written.
  asio::io_context ioc;
};


Gateway::Gateway(GatewayConfig config, std::ostream& log) : impl_(std::make_unique<Impl>(std::move(config), log)) {}

Gateway::~Gateway() { stop(); }

void Gateway::start() { impl_->start(); }

std::vector<uint16_t> Gateway::ports() const { return impl_->bound_ports; }

void Gateway::reload(GatewayConfig config) { impl_->reload(std::move(config)); }

void Gateway::stop() { impl_->stop(); }

Client& Gateway::client() { return impl_->client; }

}  // namespace hearth::gateway
