#include "runtime/remote/gateway_endpoint.h"

#include "hearth/error.h"
#include "runtime/remote/http_post.h"
#include "runtime/remote/remote_request.h"
#include "runtime/remote/sse_parser.h"

namespace hearth::remote {

GatewayEndpoint::GatewayEndpoint(std::string name, GatewayEndpointOptions options)
    : name_(std::move(name)), base_(normalized_base_url(options.url, name_)), options_(std::move(options)) {
  if (options_.target.empty()) throw Error("endpoint '" + name_ + "': a gateway endpoint needs the gateway's target name");
  if (options_.token.empty()) throw Error("endpoint '" + name_ + "': a gateway endpoint needs a token");
}

nlohmann::json GatewayEndpoint::common_fields(const RequestOptions& o) const {
  refuse_local_only(o, name_, /*allow_full_sampling=*/true);
  nlohmann::json body = {{"target", options_.target}, {"max_tokens", o.max_tokens}, {"stream", true}};
  if (!o.stop.empty()) body["stop"] = o.stop;
  if (o.ignore_eos) body["ignore_eos"] = true;
  if (o.sampling) {
    const SamplingParams& s = *o.sampling;
    body["sampling"] = {{"temperature", s.temperature},       {"top_k", s.top_k},
                        {"top_p", s.top_p},                   {"min_p", s.min_p},
                        {"repeat_penalty", s.repeat_penalty}, {"penalty_last_n", s.penalty_last_n},
                        {"frequency_penalty", s.frequency_penalty}, {"presence_penalty", s.presence_penalty},
                        {"seed", s.seed}};
  }
  return body;
}

Run GatewayEndpoint::query(const QueryRequest& request) {
  nlohmann::json body = common_fields(request);
  if (!request.prompt_tokens.empty()) body["prompt_tokens"] = request.prompt_tokens;
  else body["prompt"] = request.prompt;
  // The gateway validates them itself (typed fields may not be restated there either).
  if (request.endpoint_options.is_object() && !request.endpoint_options.empty()) body["options"] = request.endpoint_options;
  return stream("/v1/query", std::move(body), request);
}

Run GatewayEndpoint::chat(const ChatRequest& request) {
  nlohmann::json body = common_fields(request);
  body["messages"] = request.messages;
  // The gateway validates them itself (typed fields may not be restated there either).
  if (request.endpoint_options.is_object() && !request.endpoint_options.empty()) body["options"] = request.endpoint_options;
  return stream("/v1/chat", std::move(body), request);
}

Run GatewayEndpoint::stream(const std::string& route, nlohmann::json body, const RequestOptions& options) {
  auto post = std::make_shared<HttpPost>();
  post->url = base_ + route;
  post->headers = {"Authorization: Bearer " + options_.token, "Content-Type: application/json",
                   "Accept: text/event-stream"};
  post->body = body.dump();
  post->connect_timeout_seconds = options_.connect_timeout_seconds;
  post->timeout_seconds = options_.timeout_seconds;
  return runs_.start(
      [this, post](RunFeed& feed, const std::function<void()>& started) {
        post->cancel = &feed.cancel_flag();
        Response response;
        std::string failure;
        bool done = false;
        SseParser parser([&](const std::string& event, const std::string& data) {
          auto j = nlohmann::json::parse(data, nullptr, false);
          if (j.is_discarded() || !j.is_object()) throw Error("endpoint '" + name_ + "': malformed event from the gateway");
          if (event == "tokens") {
            TokenBatch b;
            b.tokens = j.value("tokens", std::vector<TokenId>{});
            b.text = j.value("text", std::string());
            response.tokens.insert(response.tokens.end(), b.tokens.begin(), b.tokens.end());
            response.text += b.text;
            feed.batch(std::move(b));
          } else if (event == "done") {
            response.finish_reason = j.value("finish_reason", std::string("stop"));
            const auto& u = j.value("usage", nlohmann::json::object());
            response.usage.prompt_tokens = u.value("prompt_tokens", int64_t(0));
            response.usage.completion_tokens = u.value("completion_tokens", int64_t(0));
            response.usage.cached_tokens = u.value("cached_tokens", int64_t(0));
            response.usage.queue_seconds = u.value("queue_seconds", 0.0);
            response.usage.ttft_seconds = u.value("ttft_seconds", 0.0);
            response.usage.decode_seconds = u.value("decode_seconds", 0.0);
            response.usage.total_seconds = u.value("total_seconds", 0.0);
            if (auto p = u.find("prompt"); p != u.end() && p->is_object()) {
              PromptUsage prompt;
              prompt.name = p->value("name", std::string());
              prompt.version = p->value("version", int64_t(0));
              prompt.hash = p->value("hash", std::string());
              if (auto stage = p->find("stage"); stage != p->end() && stage->is_string()) prompt.stage = *stage;
              prompt.stale = p->value("stale", false);
              response.usage.prompt = std::move(prompt);
            }
            done = true;
          } else if (event == "error") {
            failure = remote_error(name_, 500, data, options_.token);
          }
        });
        long status = 0;
        HttpPostResult r = http_post(
            *post, [&](long s) { status = s; if (s >= 200 && s < 300) started(); },
            [&](std::string_view chunk) {
              // Nothing may throw through libcurl: stop the transfer and report after it.
              try {
                parser.feed(chunk);
                return true;
              } catch (const std::exception& e) {
                failure = e.what();
                return false;
              }
            });
        if (r.status < 200 || r.status >= 300) {
          if (r.cancelled && status == 0) {
            started();
            response.finish_reason = "cancelled";
            feed.finish(std::move(response));
            return;
          }
          throw Error(remote_error(name_, r.status, r.error_body, options_.token));
        }
        if (r.cancelled) response.finish_reason = "cancelled";
        else if (!failure.empty()) throw Error(failure);
        else if (!done) throw Error("endpoint '" + name_ + "': the gateway closed the stream before its done event");
        feed.finish(std::move(response));
      },
      options);
}

std::vector<std::vector<float>> GatewayEndpoint::embed(const EmbedRequest& request) {
  HttpPost post;
  post.url = base_ + "/v1/embed";
  post.headers = {"Authorization: Bearer " + options_.token, "Content-Type: application/json"};
  post.body = nlohmann::json{{"target", options_.target}, {"inputs", request.inputs}, {"normalize", request.normalize}}.dump();
  post.connect_timeout_seconds = options_.connect_timeout_seconds;
  post.timeout_seconds = options_.timeout_seconds;
  std::string body;
  HttpPostResult r = http_post(post, nullptr, [&](std::string_view chunk) {
    body.append(chunk);
    return body.size() < (512u << 20);
  });
  if (r.status < 200 || r.status >= 300) throw Error(remote_error(name_, r.status, r.error_body, options_.token));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("embeddings") || !j["embeddings"].is_array())
    throw Error("endpoint '" + name_ + "': the gateway's embed response has no embeddings array");
  try {
    return j["embeddings"].get<std::vector<std::vector<float>>>();
  } catch (const nlohmann::json::exception&) {
    throw Error("endpoint '" + name_ + "': the gateway's embeddings are not arrays of numbers");
  }
}

}  // namespace hearth::remote
