#include "runtime/remote/gateway_endpoint.h"

#include "hearth/error.h"
#include "runtime/remote/http_post.h"
#include "runtime/remote/remote_request.h"
#include "runtime/remote/sse_parser.h"
#include "runtime/usage_json.h"

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
  auto post = std::make_shared<HttpPost>(bearer_json_post(base_ + route, options_.token, body, options_.connect_timeout_seconds,
                                                          options_.timeout_seconds, /*event_stream=*/true));
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
            response.usage = hearth_usage_from_json(j.value("usage", nlohmann::json::object()));
            done = true;
          } else if (event == "error") {
            failure = remote_error(name_, 500, data, options_.token);
          }
        });
        long status = 0;
        HttpPostResult r = post_event_stream(
            *post, [&](long s) { status = s; if (s >= 200 && s < 300) started(); }, parser, failure);
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
  nlohmann::json body = {{"target", options_.target}, {"inputs", request.inputs}, {"normalize", request.normalize}};
  auto j = post_for_json(bearer_json_post(base_ + "/v1/embed", options_.token, body, options_.connect_timeout_seconds,
                                          options_.timeout_seconds, /*event_stream=*/false),
                         name_, options_.token);
  if (j.is_discarded() || !j.contains("embeddings") || !j["embeddings"].is_array())
    throw Error("endpoint '" + name_ + "': the gateway's embed response has no embeddings array");
  try {
    return j["embeddings"].get<std::vector<std::vector<float>>>();
  } catch (const nlohmann::json::exception&) {
    throw Error("endpoint '" + name_ + "': the gateway's embeddings are not arrays of numbers");
  }
}

}  // namespace hearth::remote
