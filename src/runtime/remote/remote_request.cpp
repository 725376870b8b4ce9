#include "runtime/remote/remote_request.h"

#include "hearth/error.h"

namespace hearth::remote {

std::string normalized_base_url(const std::string& url, const std::string& name) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw Error("endpoint '" + name + "': URL must start with http:// or https://, got '" + url + "'");
  std::string out = url;
  while (!out.empty() && out.back() == '/') out.pop_back();
  size_t host_start = out.find("://") + 3;
  if (host_start >= out.size()) throw Error("endpoint '" + name + "': URL '" + url + "' has no host");
  return out;
}

void refuse_local_only(const RequestOptions& o, const std::string& name, bool allow_full_sampling) {
  if (!o.context_key.empty())
    throw Error("endpoint '" + name + "' is remote: context_key works on local endpoints only");
  if (!o.grammar.empty() || !o.json_schema.is_null())
    throw Error("endpoint '" + name + "' is remote: grammar and json_schema are enforced on local endpoints only");
  if (!o.sampling || allow_full_sampling) return;
  const SamplingParams d;
  const SamplingParams& s = *o.sampling;
  auto refuse = [&](const char* field) {
    throw Error("endpoint '" + name + "' speaks the OpenAI protocol: sampling." + field +
                " is a local sampling override (temperature, top_p, seed, frequency_penalty and presence_penalty "
                "are forwarded)");
  };
  if (s.top_k != d.top_k) refuse("top_k");
  if (s.min_p != d.min_p) refuse("min_p");
  if (s.repeat_penalty != d.repeat_penalty) refuse("repeat_penalty");
  if (s.penalty_last_n != d.penalty_last_n) refuse("penalty_last_n");
}

std::string scrub(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
    text.replace(at, secret.size(), "[redacted]");
  return text;
}

void merge_endpoint_options(nlohmann::json& body, const RequestOptions& o, const std::string& name) {
  if (o.endpoint_options.is_null()) return;
  if (!o.endpoint_options.is_object()) throw Error("endpoint '" + name + "': endpoint options must be a JSON object");
  for (const auto& [key, value] : o.endpoint_options.items()) {
    if (body.contains(key) || key == "model" || key == "prompt" || key == "messages" || key == "stream" || key == "target")
      throw Error("endpoint '" + name + "': endpoint option '" + key + "' would override a typed field");
    body[key] = value;
  }
}

std::string remote_error(const std::string& name, long status, const std::string& body, const std::string& secret) {
  std::string message;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) message = e["message"].get<std::string>();
    else if (e.is_string()) message = e.get<std::string>();
  }
  if (message.empty()) message = body.substr(0, 300);
  return scrub("endpoint '" + name + "': HTTP " + std::to_string(status) + ": " + message, secret);
}

HttpPost bearer_json_post(std::string url, const std::string& token, const nlohmann::json& body,
                          double connect_timeout_seconds, double timeout_seconds, bool event_stream) {
  HttpPost post;
  post.url = std::move(url);
  post.headers = {"Authorization: Bearer " + token, "Content-Type: application/json"};
  if (event_stream) post.headers.push_back("Accept: text/event-stream");
  post.body = body.dump();
  post.connect_timeout_seconds = connect_timeout_seconds;
  post.timeout_seconds = timeout_seconds;
  return post;
}

nlohmann::json post_for_json(const HttpPost& post, const std::string& name, const std::string& secret) {
  constexpr size_t kMaxBody = 512u << 20;
  std::string body;
  bool too_large = false;
  HttpPostResult r = http_post(post, nullptr, [&](std::string_view chunk) {
    if (chunk.size() > kMaxBody - body.size()) {
      too_large = true;
      return false;
    }
    body.append(chunk);
    return true;
  });
  if (too_large) throw Error("endpoint '" + name + "': the response is larger than 512 MiB");
  if (r.status < 200 || r.status >= 300) throw Error(remote_error(name, r.status, r.error_body, secret));
  return nlohmann::json::parse(body, nullptr, false);
}

HttpPostResult post_event_stream(const HttpPost& post, const std::function<void(long status)>& on_status,
                                 SseParser& parser, std::string& failure) {
  return http_post(post, on_status, [&](std::string_view chunk) {
    try {
      parser.feed(chunk);
      return true;
    } catch (const std::exception& e) {
      failure = e.what();
      return false;
    }
  });
}

}  // namespace hearth::remote
