#include "prompts/registry_server.h"

#include <cctype>
#include <chrono>
#include <cstdio>

#include <httplib.h>

#include "gateway/cors.h"
#include "hearth/error.h"

namespace hearth::prompts {

namespace {

void send(httplib::Response& res, const ApiReply& reply) {
  res.status = reply.status;
  for (const auto& [k, v] : reply.headers) res.set_header(k, v);
  if (reply.status != 304) res.set_content(reply.body, reply.content_type);
}

ApiRequest to_api(const httplib::Request& req) {
  ApiRequest a;
  a.method = req.method;
  a.path = req.path;  // httplib has decoded it
  for (const auto& [k, v] : req.params) a.query.emplace(k, v);
  a.header = [&req](const std::string& name) { return req.get_header_value(name); };
  a.body = req.body;
  return a;
}

}  // namespace

RegistryServer::RegistryServer(PromptStore& store, gateway::TokenAuth auth, RegistryServerOptions options)
    : api_(store, std::move(auth)), options_(options), server_(std::make_unique<httplib::Server>()) {
  add_routes();
}

RegistryServer::~RegistryServer() { stop(); }

int RegistryServer::bind(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw Error("cannot listen on " + host + ":" + std::to_string(port) + " (address in use?)");
  return bound;
}

void RegistryServer::run() { server_->listen_after_bind(); }

void RegistryServer::start() {
  thread_ = std::thread([this] { run(); });
  // stop() is a no-op until the accept loop runs; wait for it so a quick stop() cannot be lost.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void RegistryServer::stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void RegistryServer::add_routes() {
  using httplib::Request;
  using httplib::Response;
  httplib::Server& s = *server_;
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_tcp_nodelay(true);  // small JSON answers: don't wait on Nagle + delayed ACK
  s.set_keep_alive_max_count(1000);
  s.set_keep_alive_timeout(2);  // idle connections; also bounds how long stop() waits for them
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);

  s.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413)
      send(res, RegistryApi::error_reply(413, "body_too_large", "request body is larger than the registry accepts"));
    else if (res.status == 404)
      send(res, RegistryApi::error_reply(404, "not_found", "no such endpoint"));
    else
      send(res, RegistryApi::error_reply(res.status, "http_error", "request failed with HTTP " + std::to_string(res.status)));
    return httplib::Server::HandlerResponse::Handled;
  }));
  if (options_.log_requests)
    s.set_logger([](const Request& req, const Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });

  // Every answer (errors included) carries the CORS headers for an allowed Origin; a preflight is answered
  // here, before any token check (browsers send it without one).
  s.set_post_routing_handler([this](const Request& req, Response& res) {
    for (const auto& [name, value] : gateway::cors_headers(options_.cors_origins, req.get_header_value("Origin")))
      res.set_header(name, value);
  });
  auto handler = [this](const Request& req, Response& res) { send(res, api_.handle(to_api(req))); };
  const std::string pattern = "/v1/prompts(/.*)?";
  s.Options(pattern, [](const Request&, Response& res) {
    res.status = 204;
    for (const auto& [name, value] : gateway::cors_preflight_headers()) res.set_header(name, value);
  });
  s.Get(pattern, handler);
  s.Post(pattern, handler);
  s.Put(pattern, handler);
  s.Delete(pattern, handler);
  s.Patch(pattern, handler);
}

}  // namespace hearth::prompts
