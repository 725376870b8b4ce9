#include "gateway/metrics.h"

#include <fmt/format.h>

namespace hearth::gateway {

namespace {

// Label values are target and route names from the config; escape what Prometheus requires.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::request_done(const std::string& route, const std::string& target, int status, double seconds) {
  std::lock_guard lk(mu_);
  ++by_route_status_[{route, status}];
  if (target.empty()) return;
  auto it = targets_.find(target);
  if (it == targets_.end()) return;  // only configured targets get a series (names from requests are not trusted)
  ++it->second.requests;
  if (status >= 400) ++it->second.errors;
  it->second.request_seconds_sum += seconds;
}

void Metrics::prompt_used(const PromptUsage& p) {
  std::lock_guard lk(mu_);
  ++prompts_[{p.name, p.version, p.hash}];  // names and versions exist in the registry: bounded by its content
}

void Metrics::usage(const std::string& target, const Usage& u) {
  std::lock_guard lk(mu_);
  TargetTotals& t = targets_[target];
  t.prompt_tokens += uint64_t(u.prompt_tokens);
  t.completion_tokens += uint64_t(u.completion_tokens);
  t.cached_tokens += uint64_t(u.cached_tokens);
  t.decode_seconds += u.decode_seconds;
  if (u.ttft_seconds > 0) {
    t.ttft_seconds_sum += u.ttft_seconds;
    ++t.ttft_count;
  }
}

void Metrics::live_add(const LiveRequest& r) {
  std::lock_guard lk(mu_);
  live_[r.id] = r;
  targets_.try_emplace(r.target);
}

void Metrics::live_running(uint64_t id) {
  std::lock_guard lk(mu_);
  if (auto it = live_.find(id); it != live_.end()) it->second.running = true;
}

void Metrics::live_tokens(uint64_t id, int64_t n) {
  std::lock_guard lk(mu_);
  if (auto it = live_.find(id); it != live_.end()) it->second.completion_tokens += n;
}

void Metrics::live_remove(uint64_t id) {
  std::lock_guard lk(mu_);
  live_.erase(id);
}

std::vector<LiveRequest> Metrics::live() const {
  std::lock_guard lk(mu_);
  std::vector<LiveRequest> out;
  for (const auto& [id, r] : live_) out.push_back(r);
  return out;
}

std::map<std::string, TargetTotals> Metrics::targets() const {
  std::lock_guard lk(mu_);
  return targets_;
}

uint64_t Metrics::errors_total() const {
  std::lock_guard lk(mu_);
  uint64_t n = 0;
  for (const auto& [key, count] : by_route_status_)
    if (key.second >= 400) n += count;
  return n;
}

std::string Metrics::prometheus(int running, int queued) const {
  std::lock_guard lk(mu_);
  std::string out;
  out += "# HELP hearth_gateway_requests_total Requests answered, by route and HTTP status.\n";
  out += "# TYPE hearth_gateway_requests_total counter\n";
  for (const auto& [key, n] : by_route_status_)
    out += fmt::format("hearth_gateway_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", label(key.first), key.second, n);
  out += "# HELP hearth_gateway_running Requests holding a concurrency slot.\n# TYPE hearth_gateway_running gauge\n";
  out += fmt::format("hearth_gateway_running {}\n", running);
  out += "# HELP hearth_gateway_queued Requests waiting for a slot.\n# TYPE hearth_gateway_queued gauge\n";
  out += fmt::format("hearth_gateway_queued {}\n", queued);
  out += "# HELP hearth_gateway_connections Open client connections.\n# TYPE hearth_gateway_connections gauge\n";
  out += fmt::format("hearth_gateway_connections {}\n", connections_.load());
  out += "# TYPE hearth_gateway_rate_limited_total counter\n";
  out += fmt::format("hearth_gateway_rate_limited_total {}\n", rate_limited_.load());
  out += "# TYPE hearth_gateway_refused_total counter\n";
  out += fmt::format("hearth_gateway_refused_total {}\n", refused_.load());
  out += "# HELP hearth_gateway_disconnects_total Requests cancelled because the client went away.\n";
  out += "# TYPE hearth_gateway_disconnects_total counter\n";
  out += fmt::format("hearth_gateway_disconnects_total {}\n", disconnected_.load());
  auto series = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& [target, t] : targets_) out += fmt::format("{}{{target=\"{}\"}} {}\n", name, label(target), value(t));
  };
  series("hearth_gateway_target_requests_total", "counter", "Requests per target.", [](const TargetTotals& t) { return t.requests; });
  series("hearth_gateway_target_errors_total", "counter", "Requests per target answered with an error.", [](const TargetTotals& t) { return t.errors; });
  series("hearth_gateway_prompt_tokens_total", "counter", "Prompt tokens.", [](const TargetTotals& t) { return t.prompt_tokens; });
  series("hearth_gateway_completion_tokens_total", "counter", "Generated tokens.", [](const TargetTotals& t) { return t.completion_tokens; });
  series("hearth_gateway_cached_tokens_total", "counter", "Prompt tokens served from resident KV (cache hits).", [](const TargetTotals& t) { return t.cached_tokens; });
  series("hearth_gateway_decode_seconds_total", "counter", "Time spent decoding.", [](const TargetTotals& t) { return t.decode_seconds; });
  series("hearth_gateway_ttft_seconds_sum", "counter", "Sum of times to first token.", [](const TargetTotals& t) { return t.ttft_seconds_sum; });
  series("hearth_gateway_ttft_seconds_count", "counter", "Requests with a first token.", [](const TargetTotals& t) { return t.ttft_count; });
  series("hearth_gateway_request_seconds_sum", "counter", "Sum of request durations.", [](const TargetTotals& t) { return t.request_seconds_sum; });
  out += "# HELP hearth_gateway_prompt_requests_total Model requests rendered from a registry prompt, by version.\n"
         "# TYPE hearth_gateway_prompt_requests_total counter\n";
  for (const auto& [key, n] : prompts_) {
    const auto& [name, version, hash] = key;
    out += fmt::format("hearth_gateway_prompt_requests_total{{prompt=\"{}\",version=\"{}\",hash=\"{}\"}} {}\n",
                       label(name), version, label(hash), n);
  }
  return out;
}

}  // namespace hearth::gateway
