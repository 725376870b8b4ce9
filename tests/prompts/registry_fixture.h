#pragma once
// A real registry for tests: SQLite file in a temp dir, served on 127.0.0.1 on an ephemeral port.
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include "prompts/registry_server.h"

namespace hearth::prompts {

inline const std::string kWriterToken = "writer-secret-token";
inline const std::string kReaderToken = "reader-secret-token";

class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("hearth_registry_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    start_server();
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start_server() {
    store_ = std::make_unique<PromptStore>(dir_ / "prompts.db");
    gateway::TokenAuth auth;
    auth.add_plain("writer", kWriterToken, gateway::Rights::Write);
    auth.add_plain("reader", kReaderToken, gateway::Rights::Read);
    server_ = std::make_unique<RegistryServer>(*store_, std::move(auth), options_);
    port_ = server_->bind("127.0.0.1", 0);
    server_->start();
  }
  void stop_server() {
    server_.reset();
    store_.reset();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  httplib::Result get(const std::string& path, const std::string& token = kReaderToken,
                      httplib::Headers headers = {}) {
    httplib::Client c("127.0.0.1", port_);
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return c.Get(path, headers);
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body, const std::string& token = kWriterToken) {
    return post_raw(path, body.dump(), token);
  }
  httplib::Result post_raw(const std::string& path, const std::string& body, const std::string& token = kWriterToken) {
    httplib::Client c("127.0.0.1", port_);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return c.Post(path, headers, body, "application/json");
  }
  static nlohmann::json body(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

  // Pushes a version and returns its number.
  int64_t push(const std::string& name, const std::string& tmpl, const nlohmann::json& variables = nlohmann::json::object(),
               const std::string& message = "") {
    auto r = post("/v1/prompts/" + name + "/versions", {{"template", tmpl}, {"variables", variables}, {"message", message}});
    EXPECT_TRUE(r) << "no answer";
    if (!r) return 0;
    EXPECT_TRUE(r->status == 201 || r->status == 200) << r->body;
    return body(r).value("version", int64_t{0});
  }

  std::filesystem::path dir_;
  std::unique_ptr<PromptStore> store_;
  std::unique_ptr<RegistryServer> server_;
  RegistryServerOptions options_;  // set before SetUp() to serve with other options
  int port_ = 0;
};

}  // namespace hearth::prompts
