// Structured output through the scheduler: 20 JSON-schema constrained samples (temperature > 0, different
// seeds, batched together) all parse and validate; a GBNF grammar limits output to its sentences.
#include <set>

#include "hearth/client.h"
#include "hearth/error.h"
#include "runtime_fixture.h"

using namespace runtime_test;
using hearth::Client;
using hearth::EndpointDescriptor;
using nlohmann::json;

namespace {

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The schema's rules, checked by hand (independently of the grammar that enforced them).
std::string violation(const json& v) {
  if (!v.is_object()) return "not an object";
  for (const auto& [k, _] : v.items())
    if (k != "name" && k != "age" && k != "tags" && k != "active") return "unexpected key " + k;
  if (!v.contains("name") || !v["name"].is_string()) return "name missing or not a string";
  const size_t len = code_points(v["name"].get<std::string>());
  if (len < 1 || len > 12) return "name length " + std::to_string(len);
  if (!v.contains("age") || !v["age"].is_number_integer()) return "age missing or not an integer";
  if (!v.contains("tags") || !v["tags"].is_array()) return "tags missing or not an array";
  if (v["tags"].empty() || v["tags"].size() > 3) return "tags size " + std::to_string(v["tags"].size());
  for (const auto& t : v["tags"])
    if (t != "red" && t != "green" && t != "blue") return "tag " + t.dump();
  if (v.contains("active") && !v["active"].is_boolean()) return "active not a boolean";
  return "";
}

TEST_F(RuntimeTest, JsonSchemaOutputParsesAndValidatesForTwentySamples) {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1, "maxLength": 12},
      "age": {"type": "integer"},
      "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 1, "maxItems": 3},
      "active": {"type": "boolean"}
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": false})");
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options(/*n_seq=*/4)));
  std::vector<hearth::Run> runs;
  for (int i = 0; i < 20; i++) {
    hearth::QueryRequest q;
    q.prompt = "A person as JSON:";
    q.max_tokens = 300;
    hearth::SamplingParams p;
    p.temperature = 0.9f;
    p.seed = 1000 + uint64_t(i);
    q.sampling = p;
    q.json_schema = schema;
    runs.push_back(client.query(ep, q));
  }
  std::set<std::string> distinct;
  for (auto& run : runs) {
    const hearth::Response& r = run.wait();
    EXPECT_EQ(r.finish_reason, "stop") << r.text;
    json v;
    try {
      v = json::parse(r.text);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.text;
      continue;
    }
    EXPECT_EQ(violation(v), "") << r.text;
    distinct.insert(r.text);
  }
  EXPECT_GT(distinct.size(), 10u);   // sampling really varied; the grammar did not force one answer
}

TEST_F(RuntimeTest, GbnfGrammarLimitsOutputToItsSentences) {
  Client client;
  auto ep = client.add(EndpointDescriptor::local("tiny", kModel, small_options()));
  for (uint64_t seed = 1; seed <= 4; seed++) {
    hearth::QueryRequest q;
    q.prompt = "Answer:";
    q.max_tokens = 16;
    hearth::SamplingParams p;
    p.seed = seed;
    q.sampling = p;
    q.grammar = R"(root ::= "yes" | "no" | "maybe later")";
    const hearth::Response& r = client.query(ep, q).wait();
    EXPECT_TRUE(r.text == "yes" || r.text == "no" || r.text == "maybe later") << r.text;
    EXPECT_EQ(r.finish_reason, "stop");
  }
  hearth::QueryRequest bad = greedy_query("Answer:", 4);
  bad.grammar = "root ::= undefined_rule";
  try {
    client.query(ep, bad);
    FAIL() << "an invalid grammar was accepted";
  } catch (const hearth::Error& e) {
    EXPECT_NE(std::string(e.what()).find("grammar"), std::string::npos) << e.what();
  }
  bad.json_schema = json::object();
  EXPECT_THROW(client.query(ep, bad), hearth::Error);   // both given
}

}  // namespace
