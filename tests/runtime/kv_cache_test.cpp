// The KV-cache manager through the Client on a real fixture model: contextKey follow-ups reuse their
// prefix, LRU eviction, prefix copies between sequences and prefix snapshots (memory and disk) all give
// exactly the tokens of a cold run.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hearth/client.h"
#include "hearth/error.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;
using Tokens = std::vector<hearth::TokenId>;

namespace {

hearth::QueryRequest tokens_query(Tokens prompt, int max_tokens, std::string key = {}) {
  hearth::QueryRequest q = greedy_query("", max_tokens);
  q.prompt_tokens = std::move(prompt);
  q.context_key = std::move(key);
  return q;
}

Tokens concat(Tokens a, const Tokens& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("hearth_runtime_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST_F(RuntimeTest, ContextKeyFollowUpReusesThePrefixAndItsTtftIsUnderTenPercent) {
  auto o = small_options(/*n_seq=*/2, /*ctx=*/1280);
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
  const Tokens first = long_prompt(ep.tokenizer(), 1000, " the history of the conversation so far, turn after turn");
  const hearth::Response cold = client.query(ep, tokens_query(first, 8, "conversation")).wait();
  ASSERT_EQ(cold.tokens.size(), 8u);
  EXPECT_EQ(cold.usage.cached_tokens, 0);
  EXPECT_FALSE(cold.usage.context_hit);

  // The next turn: the whole history, the answer, and a few new tokens.
  const Tokens follow = concat(concat(first, cold.tokens), ep.tokenizer().encode(" and then?", false, false));
  const hearth::Response warm = client.query(ep, tokens_query(follow, 8, "conversation")).wait();
  EXPECT_TRUE(warm.usage.context_hit);
  EXPECT_EQ(warm.sequence, cold.sequence);
  // Everything but the answer's last token (sampled, never fed) was reused.
  EXPECT_EQ(warm.usage.cached_tokens, int64_t(first.size() + cold.tokens.size() - 1));
  EXPECT_EQ(ep.stats().context_hits, 1u);
  std::printf("1000-token context: cold TTFT %.1f ms, follow-up TTFT %.1f ms (%.1f%%)\n",
              cold.usage.ttft_seconds * 1e3, warm.usage.ttft_seconds * 1e3,
              100.0 * warm.usage.ttft_seconds / cold.usage.ttft_seconds);
  EXPECT_LE(warm.usage.ttft_seconds, 0.10 * cold.usage.ttft_seconds)
      << "warm TTFT " << warm.usage.ttft_seconds << " s vs cold " << cold.usage.ttft_seconds << " s";
  EXPECT_EQ(warm.tokens, engine_alone(follow, 8));
}

TEST_F(RuntimeTest, LeastRecentlyUsedContextIsEvictedAndRecomputedExactly) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/2)));
  const auto& tok = ep.tokenizer();
  const Tokens pa = tok.encode("Alice asks about the weather in Paris", true, true);
  const Tokens pb = tok.encode("Bob wants a recipe for bread", true, true);
  const Tokens pc = tok.encode("Carol is writing a poem about the sea", true, true);
  const auto ra = client.query(ep, tokens_query(pa, 6, "alice")).wait();
  const auto rb = client.query(ep, tokens_query(pb, 6, "bob")).wait();
  EXPECT_EQ(ep.stats().evictions, 0u);
  const auto rc = client.query(ep, tokens_query(pc, 6, "carol")).wait();   // both sequences hold contexts
  EXPECT_EQ(ep.stats().evictions, 1u);
  EXPECT_EQ(rc.sequence, ra.sequence);                                     // alice was the least recent

  // Alice comes back: her context is gone, so the follow-up is cold (evicting bob) and still exact.
  const Tokens follow = concat(concat(pa, ra.tokens), tok.encode(" Tomorrow?", false, false));
  const auto ra2 = client.query(ep, tokens_query(follow, 6, "alice")).wait();
  EXPECT_FALSE(ra2.usage.context_hit);
  EXPECT_LE(ra2.usage.cached_tokens, 1);   // at most the BOS every prompt shares
  EXPECT_EQ(ra2.sequence, rb.sequence);
  EXPECT_EQ(ep.stats().evictions, 2u);
  EXPECT_EQ(ra2.tokens, engine_alone(follow, 6));
  // Carol's context survived.
  const auto rc2 = client.query(ep, tokens_query(concat(pc, rc.tokens), 6, "carol")).wait();
  EXPECT_TRUE(rc2.usage.context_hit);
  EXPECT_EQ(rc2.tokens, engine_alone(concat(pc, rc.tokens), 6));
}

TEST_F(RuntimeTest, SharedPrefixIsCopiedFromAnotherSequence) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/3)));
  const Tokens system = long_prompt(ep.tokenizer(), 200, " You are a helpful assistant for a bakery.");
  const Tokens p1 = concat(system, ep.tokenizer().encode(" User one asks about rye.", false, false));
  const Tokens p2 = concat(system, ep.tokenizer().encode(" User two wants croissants.", false, false));
  client.query(ep, tokens_query(p1, 4, "one")).wait();
  const auto r2 = client.query(ep, tokens_query(p2, 6, "two")).wait();
  EXPECT_GE(r2.usage.cached_tokens, int64_t(system.size()));   // the system prompt (and " User")
  EXPECT_EQ(ep.stats().prefix_copies, 1u);
  EXPECT_EQ(r2.tokens, engine_alone(p2, 6));
}

TEST_F(RuntimeTest, SnapshotRestoresInMemoryAndFromDiskInANewClient) {
  const std::string dir = temp_dir("snapshots");
  Tokens prefix, prompt;
  std::vector<hearth::TokenId> expected;
  {
    auto o = small_options(/*n_seq=*/1);
    o.snapshot_dir = dir;
    Client client;
    auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
    prefix = long_prompt(ep.tokenizer(), 300, " The policy handbook, chapter one: opening hours and rules.");
    prompt = concat(prefix, ep.tokenizer().encode(" Question: when do you open?", false, false));
    expected = engine_alone(prompt, 8);
    hearth::QueryRequest pq;
    pq.prompt_tokens = prefix;
    const hearth::SnapshotInfo info = client.save_snapshot(ep, "handbook-v1", pq);
    EXPECT_EQ(info.n_tokens, 300);
    EXPECT_EQ(info.model_fingerprint.size(), 64u);
    EXPECT_TRUE(std::filesystem::exists(info.path)) << info.path;
    // Overwrite the only sequence with something unrelated, so the prefix can only come from the snapshot.
    client.query(ep, greedy_query("Something else entirely", 4)).wait();
    const auto r = client.query(ep, tokens_query(prompt, 8)).wait();
    EXPECT_EQ(r.usage.restored_tokens, 300);
    EXPECT_EQ(r.usage.cached_tokens, 300);
    EXPECT_EQ(r.tokens, expected);
    EXPECT_EQ(ep.stats().snapshot_restores, 1u);
  }
  // A restarted client starts warm from the directory.
  auto o = small_options(/*n_seq=*/1);
  o.snapshot_dir = dir;
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
  ASSERT_EQ(client.snapshots(ep).size(), 1u);
  EXPECT_EQ(client.snapshots(ep)[0].scope, "handbook-v1");
  const auto r = client.query(ep, tokens_query(prompt, 8)).wait();
  EXPECT_EQ(r.usage.restored_tokens, 300);
  EXPECT_EQ(r.tokens, expected);
  std::filesystem::remove_all(dir);
}

TEST_F(RuntimeTest, SnapshotFilesForAnotherModelOrCacheTypeOrDamagedAreRefused) {
  const std::string dir = temp_dir("mismatch");
  std::string path;
  {
    auto o = small_options(1);
    o.snapshot_dir = dir;
    Client client;
    auto ep = client.add(EndpointDescriptor::local("tiny", kModel, o));
    hearth::QueryRequest pq;
    pq.prompt = "A prefix worth keeping around for later";
    path = client.save_snapshot(ep, "scope", pq).path;
  }
  auto expect_refused = [&](Client& client, const hearth::Endpoint& ep, const std::string& file, const std::string& what) {
    try {
      client.load_snapshot(ep, file);
      ADD_FAILURE() << "loaded a snapshot that should be refused (" << what << ")";
    } catch (const hearth::Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  {
    Client client;   // another model of the same architecture
    auto ep = client.add(EndpointDescriptor::local(
        "f16", std::string(HEARTH_FIXTURE_DIR) + "/models/llama-spm-f16.gguf", small_options(1)));
    expect_refused(client, ep, path, "made for model");
  }
  {
    Client client;   // same model, f32 cache
    auto o = small_options(1);
    o.kv_f32 = true;
    auto ep = client.add(EndpointDescriptor::local("f32", kModel, o));
    expect_refused(client, ep, path, "KV type f16");
  }
  {
    // Truncated, then a flipped byte: the size check and the checksum catch them.
    const auto size = std::filesystem::file_size(path);
    const std::string cut = dir + "/cut.bin";
    std::filesystem::copy_file(path, cut);
    std::filesystem::resize_file(cut, size - 10);
    const std::string flipped = dir + "/flipped.bin";
    std::filesystem::copy_file(path, flipped);
    {
      std::fstream f(flipped, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(std::streamoff(size / 2));
      f.put('\x5a');
    }
    Client client;
    auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(1)));
    expect_refused(client, ep, cut, "truncated or damaged");
    expect_refused(client, ep, flipped, "checksum");
    expect_refused(client, ep, dir + "/missing.hkv", "missing.hkv");
    // A damaged file of this model in the snapshot directory stops the endpoint from starting silently cold.
    std::filesystem::copy_file(cut, dir + "/zz-damaged.hkv");
    auto o = small_options(1);
    o.snapshot_dir = dir;
    try {
      client.add(EndpointDescriptor::local("warm", kModel, o));
      ADD_FAILURE() << "an endpoint started with a damaged snapshot in its directory";
    } catch (const hearth::Error& e) {
      EXPECT_NE(std::string(e.what()).find("zz-damaged.hkv"), std::string::npos) << e.what();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
