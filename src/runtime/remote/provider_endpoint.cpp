#include "runtime/remote/provider_endpoint.h"

#include <cmath>
#include <cstdlib>

#include "hearth/error.h"
#include "runtime/remote/http_post.h"
#include "runtime/remote/remote_request.h"
#include "runtime/remote/sse_parser.h"

namespace hearth::remote {

ProviderEndpoint::ProviderEndpoint(std::string name, ProviderEndpointOptions options)
    : name_(std::move(name)), base_(normalized_base_url(options.base_url, name_)), options_(std::move(options)) {
  if (options_.model.empty()) throw Error("endpoint '" + name_ + "': a provider endpoint needs a model name");
  api_key();  // fail at registration, not at the first request
}

std::string ProviderEndpoint::api_key() const {
  if (options_.api_key) {
    std::string key = options_.api_key();
    if (key.empty()) throw Error("endpoint '" + name_ + "': the API key callback returned nothing");
    return key;
  }
  if (options_.api_key_env.empty()) throw Error("endpoint '" + name_ + "': give api_key_env or an api_key callback");
  const char* key = std::getenv(options_.api_key_env.c_str());
  if (key == nullptr || *key == '\0')
    throw Error("endpoint '" + name_ + "': environment variable " + options_.api_key_env + " is not set");
  return key;
}

nlohmann::json ProviderEndpoint::common_fields(const RequestOptions& o) const {
  refuse_local_only(o, name_, /*allow_full_sampling=*/false);
  if (o.ignore_eos) throw Error("endpoint '" + name_ + "' speaks the OpenAI protocol, which has no ignore_eos");
  nlohmann::json body = {{"model", options_.model},
                         {"max_tokens", o.max_tokens},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}};
  if (!o.stop.empty()) body["stop"] = o.stop;
  if (o.sampling) {
    const SamplingParams& s = *o.sampling;
    body["temperature"] = s.temperature;
    if (s.top_p < 1) body["top_p"] = s.top_p;
    if (s.frequency_penalty != 0) body["frequency_penalty"] = s.frequency_penalty;
    if (s.presence_penalty != 0) body["presence_penalty"] = s.presence_penalty;
    body["seed"] = int64_t(s.seed & 0x7fffffffffffffffULL);
  }
  return body;
}

Run ProviderEndpoint::query(const QueryRequest& request) {
  nlohmann::json body = common_fields(request);
  if (!request.prompt_tokens.empty()) body["prompt"] = request.prompt_tokens;
  else body["prompt"] = request.prompt;
  merge_endpoint_options(body, request, name_);
  return stream("/completions", std::move(body), request, false);
}

Run ProviderEndpoint::chat(const ChatRequest& request) {
  nlohmann::json body = common_fields(request);
  body["messages"] = request.messages;
  merge_endpoint_options(body, request, name_);
  return stream("/chat/completions", std::move(body), request, true);
}

Run ProviderEndpoint::stream(const std::string& route, nlohmann::json body, const RequestOptions& options, bool chat) {
  std::string key = api_key();
  auto post = std::make_shared<HttpPost>(bearer_json_post(base_ + route, key, body, options_.connect_timeout_seconds,
                                                          options_.timeout_seconds, /*event_stream=*/true));
  return runs_.start(
      [this, post, key, chat](RunFeed& feed, const std::function<void()>& started) {
        post->cancel = &feed.cancel_flag();
        Response response;
        std::string failure;
        bool done = false, usage_seen = false;
        int64_t chunks = 0;
        SseParser parser([&](const std::string&, const std::string& data) {
          if (data == "[DONE]") {
            done = true;
            return;
          }
          auto j = nlohmann::json::parse(data, nullptr, false);
          if (j.is_discarded() || !j.is_object()) throw Error("endpoint '" + name_ + "': malformed event from the provider");
          if (j.contains("error")) {
            failure = remote_error(name_, 500, data, key);
            return;
          }
          if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty()) {
            const auto& choice = (*c)[0];
            std::string text;
            if (chat) {
              if (auto d = choice.find("delta"); d != choice.end() && d->is_object()) {
                if (auto t = d->find("content"); t != d->end() && t->is_string()) text = t->get<std::string>();
              }
            } else if (auto t = choice.find("text"); t != choice.end() && t->is_string()) {
              text = t->get<std::string>();
            }
            if (auto f = choice.find("finish_reason"); f != choice.end() && f->is_string())
              response.finish_reason = f->get<std::string>() == "length" ? "length" : "stop";
            if (!text.empty()) {
              ++chunks;
              response.text += text;
              feed.batch(TokenBatch{{}, std::move(text)});
            }
          }
          if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
            usage_seen = true;
            response.usage.prompt_tokens = u->value("prompt_tokens", int64_t(0));
            response.usage.completion_tokens = u->value("completion_tokens", int64_t(0));
            if (auto d = u->find("prompt_tokens_details"); d != u->end() && d->is_object())
              response.usage.cached_tokens = d->value("cached_tokens", int64_t(0));
          }
        });
        auto t0 = RuntimeClock::now();
        HttpPostResult r =
            post_event_stream(*post, [&](long s) { if (s >= 200 && s < 300) started(); }, parser, failure);
        if (r.cancelled && (r.status == 0 || (r.status >= 200 && r.status < 300))) {
          started();
          response.finish_reason = "cancelled";
          feed.finish(std::move(response));
          return;
        }
        if (r.status < 200 || r.status >= 300) throw Error(remote_error(name_, r.status, r.error_body, key));
        if (!failure.empty()) throw Error(scrub(failure, key));
        if (!done) throw Error("endpoint '" + name_ + "': the provider closed the stream before [DONE]");
        if (!usage_seen) response.usage.completion_tokens = chunks;  // a lower bound: chunks hold >= 1 token
        if (response.finish_reason.empty()) response.finish_reason = "stop";
        response.usage.total_seconds = std::chrono::duration<double>(RuntimeClock::now() - t0).count();
        feed.finish(std::move(response));
      },
      options);
}

std::vector<std::vector<float>> ProviderEndpoint::embed(const EmbedRequest& request) {
  std::string key = api_key();
  nlohmann::json body = {{"model", options_.model}, {"input", request.inputs}, {"encoding_format", "float"}};
  auto j = post_for_json(bearer_json_post(base_ + "/embeddings", key, body, options_.connect_timeout_seconds,
                                          options_.timeout_seconds, /*event_stream=*/false),
                         name_, key);
  if (j.is_discarded() || !j.contains("data") || !j["data"].is_array())
    throw Error("endpoint '" + name_ + "': the provider's embeddings response has no data array");
  std::vector<std::vector<float>> out(request.inputs.size());
  for (const auto& item : j["data"]) {
    size_t index = item.value("index", size_t(0));
    if (index >= out.size() || !item.contains("embedding") || !item["embedding"].is_array())
      throw Error("endpoint '" + name_ + "': malformed embeddings entry from the provider");
    out[index] = item["embedding"].get<std::vector<float>>();
  }
  for (auto& v : out) {
    if (v.empty()) throw Error("endpoint '" + name_ + "': the provider returned fewer embeddings than inputs");
    if (request.normalize) {
      double norm = 0;
      for (float x : v) norm += double(x) * x;
      norm = std::sqrt(norm);
      if (norm > 0)
        for (float& x : v) x = float(x / norm);
    }
  }
  return out;
}

}  // namespace hearth::remote
