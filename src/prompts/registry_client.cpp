#include "prompts/registry_client.h"

#include <httplib.h>

#include "hearth/error.h"

namespace hearth::prompts {

nlohmann::json RegistryReply::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error&) {
    throw Error("registry answered HTTP " + std::to_string(status) + " with a body that is not JSON");
  }
}

std::string RegistryReply::error_message() const {
  if (status == 0) return "registry unreachable: " + transport_error;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    std::string message = j.at("error").at("message").get<std::string>();
    return "registry: HTTP " + std::to_string(status) + ": " + message;
  } catch (const std::exception&) {
    return "registry: HTTP " + std::to_string(status);
  }
}

std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  return out;
}

RegistryClient::RegistryClient(const std::string& url, std::string token, std::chrono::milliseconds timeout)
    : token_(std::move(token)) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  client_ = std::make_unique<httplib::Client>(base);
  if (!client_->is_valid()) throw Error("invalid registry URL \"" + url + "\" (expected http://host:port)");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
  client_->set_connection_timeout(seconds.count(), micros.count());
  client_->set_read_timeout(seconds.count(), micros.count());
  client_->set_write_timeout(seconds.count(), micros.count());
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);
}

RegistryClient::~RegistryClient() = default;

namespace {

RegistryReply to_reply(const httplib::Result& r) {
  RegistryReply reply;
  if (!r) {
    reply.transport_error = httplib::to_string(r.error());
    return reply;
  }
  reply.status = r->status;
  reply.body = r->body;
  reply.etag = r->get_header_value("ETag");
  reply.version_header = r->get_header_value("X-Prompt-Version");
  return reply;
}

}  // namespace

RegistryReply RegistryClient::get(const std::string& path, const std::string& if_none_match) {
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  if (!if_none_match.empty()) headers.emplace("If-None-Match", if_none_match);
  return to_reply(client_->Get(path, headers));
}

RegistryReply RegistryClient::post(const std::string& path, const nlohmann::json& body) {
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  return to_reply(client_->Post(path, headers, body.dump(), "application/json"));
}

nlohmann::json RegistryClient::get_json(const std::string& path) {
  RegistryReply r = get(path);
  if (r.status < 200 || r.status >= 300) throw Error(r.error_message());
  return r.json();
}

nlohmann::json RegistryClient::post_json(const std::string& path, const nlohmann::json& body) {
  RegistryReply r = post(path, body);
  if (r.status < 200 || r.status >= 300) throw Error(r.error_message());
  return r.json();
}

}  // namespace hearth::prompts
