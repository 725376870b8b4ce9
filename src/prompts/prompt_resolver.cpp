// PromptResolver: prompt:// references resolved against the registry, with a cache that revalidates by
// ETag after its TTL and falls back to the last-known-good copy (marked stale) when the registry is down.
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "hearth/chat_template.h"
#include "hearth/error.h"
#include "hearth/prompts.h"
#include "prompts/prompt_content.h"
#include "prompts/prompt_ref.h"
#include "prompts/registry_client.h"
#include "prompts/sha256.h"
#include "runtime/usage_json.h"

namespace hearth {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

nlohmann::json ResolvedPrompt::usage() const {
  return prompt_usage_to_json(PromptUsage{name, version, hash, stage, stale});
}

namespace {

using prompts::parse_prompt_ref;

ResolvedPrompt from_response(const json& j) {
  ResolvedPrompt p;
  p.name = j.at("name").get<std::string>();
  p.version = j.at("version").get<int64_t>();
  p.hash = j.at("hash").get<std::string>();
  const json& stage = j.at("resolved").at("stage");
  p.stage = stage.is_string() ? stage.get<std::string>() : "";
  p.content = prompts::content_from_json(j);
  if (prompts::content_hash(p.content) != p.hash)
    throw Error("registry sent " + p.name + "@" + std::to_string(p.version) + " with content that does not match its hash");
  return p;
}

}  // namespace

struct PromptResolver::Impl {
  struct Entry {
    ResolvedPrompt prompt;
    std::string etag;
    Clock::time_point fresh_until{};   // served without asking until then
    Clock::time_point retry_after{};   // after a failed revalidation, don't ask again until then
    bool stale = false;
  };

  PromptResolverOptions options;
  std::mutex mutex;
  prompts::RegistryClient client;
  std::map<std::string, Entry> cache;
  mutable std::mutex compiled_mutex;
  mutable std::map<std::string, std::shared_ptr<JinjaTemplate>> compiled;  // by content hash

  explicit Impl(PromptResolverOptions o)
      : options(std::move(o)), client(options.registry_url, options.token, options.timeout) {
    if (!options.cache_dir.empty()) std::filesystem::create_directories(options.cache_dir);
  }

  std::filesystem::path disk_path(const std::string& key) const {
    return options.cache_dir / (prompts::sha256_hex(key).substr(0, 32) + ".json");
  }

  void save(const std::string& key, const std::string& etag, const std::string& body) {
    if (options.cache_dir.empty()) return;
    std::filesystem::path path = disk_path(key);
    std::filesystem::path tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << json{{"key", key}, {"etag", etag}, {"response", json::parse(body)}}.dump();
      if (!out) return;  // the cache is an optimization; a full disk must not fail the request
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
  }

  std::optional<Entry> load(const std::string& key) const {
    if (options.cache_dir.empty()) return std::nullopt;
    std::ifstream in(disk_path(key), std::ios::binary);
    if (!in) return std::nullopt;
    try {
      std::stringstream ss;
      ss << in.rdbuf();
      json j = json::parse(ss.str());
      if (j.at("key") != key) return std::nullopt;
      return Entry{from_response(j.at("response")), j.at("etag").get<std::string>(), {}, {}, false};
    } catch (const std::exception&) {
      return std::nullopt;  // a damaged cache file is the same as none
    }
  }
};

PromptResolver::PromptResolver(PromptResolverOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
PromptResolver::~PromptResolver() = default;

ResolvedPrompt PromptResolver::resolve(std::string_view ref_text, std::string_view caller) {
  prompts::PromptRef ref = parse_prompt_ref(ref_text);
  std::string selector = ref.version > 0 ? std::to_string(ref.version) : ref.stage;
  std::string key = ref.name + "@" + selector + "#" + std::string(caller);
  std::string path = "/v1/prompts/" + ref.name + "?" +
                     (ref.version > 0 ? "version=" + selector : "stage=" + prompts::url_encode(ref.stage));
  if (!caller.empty()) path += "&caller=" + prompts::url_encode(std::string(caller));

  std::lock_guard lock(impl_->mutex);
  const Clock::time_point now = Clock::now();
  auto it = impl_->cache.find(key);
  if (it == impl_->cache.end()) {
    if (auto from_disk = impl_->load(key)) it = impl_->cache.emplace(key, std::move(*from_disk)).first;
  }
  Impl::Entry* entry = it == impl_->cache.end() ? nullptr : &it->second;
  auto serve = [](Impl::Entry& e, bool stale) {
    e.stale = stale;
    ResolvedPrompt p = e.prompt;
    p.stale = stale;
    return p;
  };
  if (entry && !entry->stale && now < entry->fresh_until) return serve(*entry, false);
  if (entry && entry->stale && now < entry->retry_after) return serve(*entry, true);

  prompts::RegistryReply reply = impl_->client.get(path, entry ? entry->etag : std::string());
  if (reply.status == 304 && entry && reply.version_header != std::to_string(entry->prompt.version))
    reply = impl_->client.get(path);  // same content under a different version number: fetch the record
  if (reply.status == 304 && entry) {
    entry->fresh_until = now + impl_->options.ttl;
    return serve(*entry, false);
  }
  if (reply.status == 200) {
    Impl::Entry fresh{from_response(reply.json()), reply.etag, now + impl_->options.ttl, {}, false};
    impl_->save(key, reply.etag, reply.body);
    Impl::Entry& stored = impl_->cache[key] = std::move(fresh);
    return serve(stored, false);
  }
  if (reply.status == 0 || reply.status >= 500) {
    if (entry) {
      // Last-known-good; try the registry again after a short pause rather than on every call.
      entry->retry_after = now + std::min<Clock::duration>(impl_->options.ttl, std::chrono::seconds(5));
      return serve(*entry, true);
    }
    throw Error(std::string(ref_text) + ": " + reply.error_message() + ", and no cached copy");
  }
  throw Error(std::string(ref_text) + ": " + reply.error_message());
}

std::string PromptResolver::render(const ResolvedPrompt& prompt, const json& variables) const {
  json context = bind_prompt_variables(prompt.content.variables, variables);
  std::shared_ptr<JinjaTemplate> tmpl;
  {
    std::lock_guard lock(impl_->compiled_mutex);
    auto& slot = impl_->compiled[prompt.hash];
    if (!slot) slot = std::make_shared<JinjaTemplate>(prompt.content.template_text);
    tmpl = slot;
  }
  return tmpl->render(context);
}

RenderedPrompt PromptResolver::resolve_and_render(std::string_view ref, const json& variables, std::string_view caller) {
  ResolvedPrompt p = resolve(ref, caller);
  std::string text = render(p, variables);
  return {std::move(p), std::move(text)};
}

}  // namespace hearth
