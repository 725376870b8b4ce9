// Client::embed on local endpoints against llama.cpp's recorded embeddings (tests/data/embedding, written by
// tools/reference/record_embeddings.mjs): a BERT encoder endpoint (embed only) and a decoder endpoint with
// last-token pooling, which still generates.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hearth/client.h"
#include "hearth/error.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;
using nlohmann::json;

namespace {

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); i++) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// Embeds every recorded text in one call and compares with llama.cpp.
void expect_matches_reference(Client& client, const hearth::Endpoint& ep, const std::string& name) {
  std::ifstream in(std::string(HEARTH_SOURCE_DIR) + "/tests/data/embedding/" + name + ".json");
  ASSERT_TRUE(in) << name;
  const json ref = json::parse(in);
  hearth::EmbedRequest req;
  for (const auto& c : ref["cases"]) req.inputs.push_back(c["text"].get<std::string>());
  req.normalize = true;
  const auto vectors = client.embed(ep, req);
  ASSERT_EQ(vectors.size(), req.inputs.size());
  for (size_t i = 0; i < vectors.size(); i++) {
    const auto want = ref["cases"][i]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(vectors[i].size(), want.size());
    EXPECT_GE(cosine(vectors[i], want), 0.999) << name << ": " << req.inputs[i];
    double norm = 0;
    for (float x : vectors[i]) norm += double(x) * x;
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
}

TEST_F(RuntimeTest, EncoderEndpointEmbedsLikeLlamaCppAndRefusesGeneration) {
  const std::string model = std::string(HEARTH_FIXTURE_DIR) + "/embedding/bert-wpm-f16.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "run scripts/make_fixtures.sh";
  Client client;
  auto ep = client.add(EndpointDescriptor::local("bert", model, small_options()));
  EXPECT_TRUE(ep.is_local());
  EXPECT_TRUE(ep.embed_only());
  expect_matches_reference(client, ep, "bert-wpm-f16");
  try {
    client.query(ep, greedy_query("Hello", 4));
    FAIL() << "an encoder endpoint accepted a query";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("embed only"), std::string::npos) << e.what();
  }
  hearth::EmbedRequest empty;
  EXPECT_THROW(client.embed(ep, empty), hearth::Error);
}

TEST_F(RuntimeTest, DecoderEndpointEmbedsWithLastTokenPoolingAndStillGenerates) {
  const std::string model = std::string(HEARTH_FIXTURE_DIR) + "/embedding/qwen3-bpe-embed-q8_0.gguf";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "run scripts/make_fixtures.sh";
  Client client;
  auto ep = client.add(EndpointDescriptor::local("qwen3-embed", model, small_options()));
  EXPECT_FALSE(ep.embed_only());
  expect_matches_reference(client, ep, "qwen3-bpe-embed-q8_0");
  EXPECT_EQ(client.query(ep, greedy_query("Hello", 4)).wait().tokens.size(), 4u);
}

TEST_F(RuntimeTest, DecoderWithoutDeclaredPoolingEmbedsItsLastToken) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options()));
  hearth::EmbedRequest req;
  req.inputs = {"hello", "a longer sentence to embed"};
  const auto v = client.embed(ep, req);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].size(), 256u);   // n_embd of the fixture
  EXPECT_LT(cosine(v[0], v[1]), 0.9999);
  EXPECT_EQ(client.embed(ep, req), v);   // deterministic
  req.inputs.clear();
  try {
    client.embed(ep, req);
    FAIL() << "an empty request was embedded";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("endpoint 'tiny': embed: inputs is empty"), std::string::npos) << e.what();
  }
}

}  // namespace
