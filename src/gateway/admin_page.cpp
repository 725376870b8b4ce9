#include "gateway/admin_page.h"

#include <chrono>

#include <fmt/format.h>

namespace hearth::gateway {

namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string render_admin_page(const AdminSnapshot& s) {
  std::string out = R"(<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>hearth gateway</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:2em}
td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
h1{font-size:20px}h2{font-size:16px}</style></head><body><h1>hearth gateway</h1>
)";
  out += fmt::format("<p>up {:.0f} s · running {} / {} · queued {} / {} · errors {}</p>\n", s.uptime_seconds, s.running,
                     s.max_running, s.queued, s.max_queue, s.errors);
  out += "<h2>Targets</h2><table><tr><th>target</th><th>kind</th><th>running</th><th>limit</th><th>requests</th>"
         "<th>errors</th><th>prompt tok</th><th>generated tok</th><th>decode tok/s</th><th>mean TTFT ms</th>"
         "<th>cache hits (tok)</th><th>context hits</th><th>evictions</th></tr>\n";
  for (const AdminTarget& t : s.targets) {
    double tps = t.totals.decode_seconds > 0 ? double(t.totals.completion_tokens) / t.totals.decode_seconds : 0;
    double ttft = t.totals.ttft_count ? 1000 * t.totals.ttft_seconds_sum / double(t.totals.ttft_count) : 0;
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>"
        "<td>{:.1f}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape(t.name), t.kind, t.running, t.max_concurrency ? std::to_string(t.max_concurrency) : "-",
        t.totals.requests, t.totals.errors, t.totals.prompt_tokens, t.totals.completion_tokens, tps, ttft,
        t.has_stats ? t.stats.cached_tokens : t.totals.cached_tokens, t.has_stats ? std::to_string(t.stats.context_hits) : "-",
        t.has_stats ? std::to_string(t.stats.evictions) : "-");
  }
  out += "</table><h2>Live requests</h2><table><tr><th>id</th><th>route</th><th>target</th><th>caller</th>"
         "<th>state</th><th>tokens</th><th>age s</th></tr>\n";
  auto now = std::chrono::steady_clock::now();
  for (const LiveRequest& r : s.live) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td></tr>\n",
                       r.id, html_escape(r.route), html_escape(r.target), html_escape(r.caller),
                       r.running ? "running" : "queued", r.completion_tokens,
                       std::chrono::duration<double>(now - r.since).count());
  }
  out += "</table></body></html>\n";
  return out;
}

}  // namespace hearth::gateway
