// Crash safety: SIGKILL the real hearth-registry process in the middle of a burst of writes, restart it on
// the same database, and check that every acknowledged version is there, complete and with a valid hash.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "prompts/prompt_content.h"

namespace hearth::prompts {
namespace {

using nlohmann::json;

const std::string kToken = "durability-writer";

struct Child {
  pid_t pid = -1;
  int port = 0;
};

// Starts hearth-registry on an ephemeral port and reads the port from its first line of output.
Child start_registry(const std::filesystem::path& db, const std::filesystem::path& tokens) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(HEARTH_REGISTRY_BIN, HEARTH_REGISTRY_BIN, "--db", db.c_str(), "--listen", "127.0.0.1:0", "--tokens",
          tokens.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  size_t colon = line.find("127.0.0.1:");
  if (colon == std::string::npos) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    throw std::runtime_error("hearth-registry did not start: \"" + line + "\"");
  }
  return {pid, std::stoi(line.substr(colon + 10))};
}

struct Ack {
  std::string name;
  int64_t version;
  std::string tmpl;
  std::string hash;
};

TEST(RegistryDurability, AcknowledgedWritesSurviveSigkill) {
  auto dir = std::filesystem::temp_directory_path() / ("hearth_durability_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokens.toml") << "[[tokens]]\nname = \"burst\"\ntoken = \"" << kToken << "\"\nrights = \"write\"\n";
  Child server = start_registry(dir / "prompts.db", dir / "tokens.toml");

  constexpr int kThreads = 4, kWritesPerThread = 250, kNames = 6, kKillAfterAcks = 400;
  std::mutex acks_mutex;
  std::vector<Ack> acks;
  std::atomic<int> acked{0}, failed{0};
  std::vector<std::thread> writers;
  auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", server.port);
      client.set_keep_alive(true);
      client.set_read_timeout(5, 0);
      httplib::Headers auth = {{"Authorization", "Bearer " + kToken}};
      for (int i = 0; i < kWritesPerThread; ++i) {
        // Threads share names, so version numbers are contended; contents are all distinct.
        std::string name = "burst-" + std::to_string((t + i) % kNames);
        std::string tmpl = "writer " + std::to_string(t) + " write " + std::to_string(i) + ": {{ x }}\n" +
                           std::string(static_cast<size_t>(i % 50) * 20, 'p');
        json body = {{"template", tmpl}, {"variables", {{"x", {{"type", "string"}, {"default", "d"}}}}},
                     {"message", "burst"}};
        auto r = client.Post("/v1/prompts/" + name + "/versions", auth, body.dump(), "application/json");
        if (!r || r->status != 201) {
          ++failed;
          if (!r) return;  // server is gone
          continue;
        }
        json j = json::parse(r->body);
        std::lock_guard lock(acks_mutex);
        acks.push_back({name, j["version"].get<int64_t>(), tmpl, j["hash"].get<std::string>()});
        ++acked;
      }
    });
  }
  while (acked.load() < kKillAfterAcks && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  ASSERT_EQ(kill(server.pid, SIGKILL), 0);
  int killed_at = acked.load();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& w : writers) w.join();
  int status = 0;
  waitpid(server.pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  std::printf("burst: %d writes acknowledged before SIGKILL (%d by the time writers stopped) in %.2f s, %.0f writes/s\n",
              killed_at, acked.load(), seconds, killed_at / seconds);
  ASSERT_GE(acked.load(), kKillAfterAcks);
  ASSERT_LT(acked.load(), kThreads * kWritesPerThread) << "the kill must land in the middle of the burst";

  Child again = start_registry(dir / "prompts.db", dir / "tokens.toml");
  httplib::Client client("127.0.0.1", again.port);
  httplib::Headers auth = {{"Authorization", "Bearer " + kToken}};
  for (const Ack& a : acks) {
    auto r = client.Get("/v1/prompts/" + a.name + "?version=" + std::to_string(a.version), auth);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << a.name << "@" << a.version << ": " << r->body;
    json j = json::parse(r->body);
    ASSERT_EQ(j["template"], a.tmpl) << a.name << "@" << a.version;
    ASSERT_EQ(j["hash"], a.hash);
    ASSERT_EQ(content_hash(content_from_json(j)), a.hash);
  }
  // Nothing half-written: every stored version (acknowledged or not) is complete, numbered 1..n without
  // gaps, and its hash verifies.
  int stored = 0;
  for (int n = 0; n < kNames; ++n) {
    std::string name = "burst-" + std::to_string(n);
    auto r = client.Get("/v1/prompts/" + name + "/versions", auth);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json history = json::parse(r->body)["data"];
    for (size_t i = 0; i < history.size(); ++i) {
      ASSERT_EQ(history[i]["version"], static_cast<int64_t>(i + 1));
      ASSERT_EQ(content_hash(content_from_json(history[i])), history[i]["hash"].get<std::string>());
      ASSERT_NE(history[i]["template"].get<std::string>().find("write "), std::string::npos);
    }
    stored += static_cast<int>(history.size());
  }
  EXPECT_GE(stored, acked.load());
  std::printf("after restart: %d versions stored, %d acknowledged, all hashes verify\n", stored, acked.load());
  kill(again.pid, SIGTERM);
  waitpid(again.pid, &status, 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth::prompts
