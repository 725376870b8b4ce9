#include "tokenizer/vocab_import.h"

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

using json = nlohmann::json;

// GGUF's tokenizer.ggml.token_type values, scoped: the Unicode flags (unicode.h) share some names.
namespace token_type {
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
}  // namespace token_type

bool looks_special(const std::string& t) {   // convert_hf_to_gguf.py does_token_look_special
  auto starts = [&](std::string_view p) { return t.size() >= p.size() && t.compare(0, p.size(), p) == 0; };
  auto ends = [&](std::string_view p) { return t.size() >= p.size() && t.compare(t.size() - p.size(), p.size(), p) == 0; };
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || (starts("<|") && ends("|>")) ||
         (starts("<｜") && ends("｜>")) || (starts("<unused") && ends(">"));
}

bool is_byte_piece(const std::string& t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

std::optional<std::string> token_content(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return std::nullopt;
  const json& e = cfg[key];
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("content") && e["content"].is_string()) return e["content"].get<std::string>();
  return std::nullopt;
}


// Minimal protobuf wire-format reader, every length checked against the buffer.
struct Proto {
  const uint8_t* p;
  const uint8_t* end;
  bool done() const { return p >= end; }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) throw Error("SentencePiece model: truncated varint");
      const uint8_t b = *p++;
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw Error("SentencePiece model: varint longer than 10 bytes");
  }
  Proto bytes() {
    const uint64_t n = varint();
    if (n > uint64_t(end - p)) throw Error("SentencePiece model: field length " + std::to_string(n) + " past the end");
    Proto sub{p, p + n};
    p += n;
    return sub;
  }
  float fixed32_float() {
    if (end - p < 4) throw Error("SentencePiece model: truncated float");
    float f;
    std::memcpy(&f, p, 4);
    p += 4;
    return f;
  }
  void skip(uint32_t wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1:
        if (end - p < 8) throw Error("SentencePiece model: truncated fixed64");
        p += 8;
        break;
      case 2: bytes(); break;
      case 5:
        if (end - p < 4) throw Error("SentencePiece model: truncated fixed32");
        p += 4;
        break;
      default: throw Error("SentencePiece model: unsupported wire type " + std::to_string(wire));
    }
  }
};

}  // namespace

void import_hf_tokenizer(const std::string& tokenizer_json, const std::string& config_json, std::string_view pre,
                         GgufWriter& out) {
  json tj;
  json cfg = json::object();
  try {
    tj = json::parse(tokenizer_json);
    if (!config_json.empty()) cfg = json::parse(config_json);
  } catch (const json::exception& e) {
    throw Error(std::string("tokenizer.json / tokenizer_config.json: ") + e.what());
  }
  if (!tj.contains("model") || !tj["model"].is_object()) throw Error("tokenizer.json has no model object");
  const json& model = tj["model"];
  const std::string type = model.value("type", "");
  if (type != "BPE") throw Error("tokenizer.json model type '" + type + "' is not supported (BPE only)");
  const bool byte_fallback = model.value("byte_fallback", false);

  // id -> text, from the model vocabulary and the added tokens
  std::map<int64_t, std::string> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) by_id[it.value().get<int64_t>()] = it.key();
  struct Added {
    std::string content;
    bool special;
  };
  std::unordered_map<int64_t, Added> added;
  if (tj.contains("added_tokens")) {
    for (const json& a : tj["added_tokens"]) {
      const int64_t id = a.at("id").get<int64_t>();
      added[id] = {a.at("content").get<std::string>(), a.value("special", false)};
      by_id[id] = a.at("content").get<std::string>();
    }
  }
  if (by_id.empty()) throw Error("tokenizer.json has an empty vocabulary");
  if (by_id.begin()->first < 0) throw Error("tokenizer.json has a negative token id");
  const int64_t n = by_id.rbegin()->first + 1;

  std::vector<std::string> merges;
  for (const json& m : model["merges"]) {
    if (m.is_string()) merges.push_back(m.get<std::string>());
    else if (m.is_array() && m.size() == 2) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    else throw Error("tokenizer.json: a merge is neither \"a b\" nor [a, b]");
  }

  std::vector<std::string> tokens(static_cast<size_t>(n));
  std::vector<int32_t> types(static_cast<size_t>(n), token_type::kUnused);
  std::vector<float> scores(static_cast<size_t>(n), 0.0f);
  const std::string unk_text = model.contains("unk_token") && model["unk_token"].is_string()
                                   ? model["unk_token"].get<std::string>() : "";
  for (int64_t i = 0; i < n; ++i) {
    auto it = by_id.find(i);
    if (it == by_id.end()) {
      tokens[i] = "[PAD" + std::to_string(i) + "]";
      continue;
    }
    std::string t = it->second;
    auto a = added.find(i);
    if (byte_fallback && is_byte_piece(t)) {
      types[i] = token_type::kByte;
    } else if (byte_fallback && !unk_text.empty() && t == unk_text) {
      types[i] = token_type::kUnknown;
    } else if (a != added.end() && (a->second.special || looks_special(t))) {
      types[i] = token_type::kControl;
    } else if (a != added.end()) {
      std::string s;
      for (size_t k = 0; k < t.size();) {   // "▁" -> " ": convert pre-normalizes user-defined spaces (Gemma)
        if (t.compare(k, 3, "\xE2\x96\x81") == 0) s += ' ', k += 3;
        else s += t[k++];
      }
      t = s;
      types[i] = token_type::kUserDefined;
    } else {
      types[i] = token_type::kNormal;
    }
    tokens[i] = t;
  }

  if (byte_fallback) {
    // SentencePiece-style: llama.cpp merges by score, so the score of each merged piece is minus the
    // rank of the merge that makes it (the first merge wins); pieces no merge makes rank last.
    std::unordered_map<std::string, int64_t> rank_of;
    for (size_t r = 0; r < merges.size(); ++r) {
      const size_t sp = merges[r].find(' ', 1);
      if (sp == std::string::npos) continue;
      rank_of.emplace(merges[r].substr(0, sp) + merges[r].substr(sp + 1), int64_t(r));
    }
    for (int64_t i = 0; i < n; ++i) {
      auto it = rank_of.find(by_id.count(i) ? by_id[i] : std::string());
      if (types[i] == token_type::kNormal) scores[i] = it != rank_of.end() ? -float(it->second) : -1e9f;
    }
    out.set("tokenizer.ggml.model", GgufValue::string("llama"));
    out.set("tokenizer.ggml.pre", GgufValue::string("default"));
  } else {
    out.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
    out.set("tokenizer.ggml.pre", GgufValue::string(std::string(pre)));
  }
  out.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  if (byte_fallback) out.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  out.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  if (!byte_fallback) out.set("tokenizer.ggml.merges", GgufValue::string_array(merges));

  // Special tokens, as gguf-py's SpecialVocab reads them.
  auto bos = token_content(cfg, "bos_token");
  auto eos = token_content(cfg, "eos_token");
  if (!bos) bos = token_content(cfg, "cls_token");
  if (!eos) eos = token_content(cfg, "sep_token");
  std::optional<bool> add_bos, add_eos;
  if (tj.contains("post_processor") && tj["post_processor"].is_object()) {
    const json& pp = tj["post_processor"];
    std::vector<json> procs = pp.contains("processors") ? pp["processors"].get<std::vector<json>>() : std::vector<json>{pp};
    for (const json& p : procs) {
      if (p.value("type", "") != "TemplateProcessing" || !p.contains("single")) continue;
      const json& single = p["single"];
      if (single.size() <= 1) continue;
      auto special_id = [](const json& item) -> std::optional<std::string> {
        if (item.contains("SpecialToken")) return item["SpecialToken"].value("id", "");
        return std::nullopt;
      };
      if (auto first = special_id(single.front())) {
        if (config_json.empty()) bos = *first;
        add_bos = bos && *first == *bos;
      }
      if (auto last = special_id(single.back())) {
        if (config_json.empty()) eos = *last;
        add_eos = eos && *last == *eos;
      }
    }
  }
  if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) add_bos = cfg["add_bos_token"].get<bool>();
  if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) add_eos = cfg["add_eos_token"].get<bool>();
  auto added_id = [&](const std::optional<std::string>& content) -> std::optional<int64_t> {
    if (!content) return std::nullopt;
    for (const json& a : tj.value("added_tokens", json::array()))
      if (a.value("content", "") == *content) return a.at("id").get<int64_t>();
    return std::nullopt;
  };
  auto set_id = [&](const char* key, std::optional<int64_t> id) {
    if (id && *id >= 0 && *id < n) out.set(key, GgufValue::u32(uint32_t(*id)));
  };
  set_id("tokenizer.ggml.bos_token_id", added_id(bos));
  set_id("tokenizer.ggml.eos_token_id", added_id(eos));
  set_id("tokenizer.ggml.unknown_token_id", added_id(token_content(cfg, "unk_token")));
  set_id("tokenizer.ggml.padding_token_id", added_id(token_content(cfg, "pad_token")));
  if (add_bos) out.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(*add_bos));
  if (add_eos) out.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(*add_eos));
  if (byte_fallback) {
    // a leading Prepend("▁") in the normalizer is SentencePiece's add_dummy_prefix
    bool prefix = false;
    if (tj.contains("normalizer") && tj["normalizer"].is_object()) {
      const json& nm = tj["normalizer"];
      std::vector<json> parts = nm.contains("normalizers") ? nm["normalizers"].get<std::vector<json>>() : std::vector<json>{nm};
      for (const json& p : parts)
        if (p.value("type", "") == "Prepend") prefix = true;
    }
    out.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(prefix));
  }
  if (cfg.contains("chat_template")) {
    const json& ct = cfg["chat_template"];
    if (ct.is_string()) {
      out.set("tokenizer.chat_template", GgufValue::string(ct.get<std::string>()));
    } else if (ct.is_array()) {
      for (const json& e : ct)
        if (e.value("name", "") == "default") out.set("tokenizer.chat_template", GgufValue::string(e.value("template", "")));
    }
  }
}

void import_spm_model(const std::string& path, GgufWriter& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open SentencePiece model " + path);
  const std::vector<uint8_t> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Proto top{buf.data(), buf.data() + buf.size()};
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  int64_t unk = 0, bos = 1, eos = 2, pad = -1;
  bool add_dummy_prefix = true;
  while (!top.done()) {
    const uint64_t key = top.varint();
    const uint32_t field = uint32_t(key >> 3), wire = uint32_t(key & 7);
    if (field == 1 && wire == 2) {   // SentencePiece
      Proto sp = top.bytes();
      std::string piece;
      float score = 0.0f;
      int32_t type = token_type::kNormal;
      while (!sp.done()) {
        const uint64_t k = sp.varint();
        const uint32_t fld = uint32_t(k >> 3), w = uint32_t(k & 7);
        if (fld == 1 && w == 2) {
          Proto s = sp.bytes();
          piece.assign(reinterpret_cast<const char*>(s.p), size_t(s.end - s.p));
        } else if (fld == 2 && w == 5) {
          score = sp.fixed32_float();
        } else if (fld == 3 && w == 0) {
          type = int32_t(sp.varint());
          if (type < 1 || type > 6) throw Error("SentencePiece model: piece type " + std::to_string(type) + " unknown");
        } else {
          sp.skip(w);
        }
      }
      tokens.push_back(piece);
      scores.push_back(score);
      types.push_back(type);
    } else if (field == 2 && wire == 2) {   // TrainerSpec
      Proto ts = top.bytes();
      while (!ts.done()) {
        const uint64_t k = ts.varint();
        const uint32_t fld = uint32_t(k >> 3), w = uint32_t(k & 7);
        if (w == 0 && fld >= 40 && fld <= 43) {
          const int64_t v = int64_t(int32_t(uint32_t(ts.varint())));
          (fld == 40 ? unk : fld == 41 ? bos : fld == 42 ? eos : pad) = v;
        } else {
          ts.skip(w);
        }
      }
    } else if (field == 3 && wire == 2) {   // NormalizerSpec
      Proto ns = top.bytes();
      while (!ns.done()) {
        const uint64_t k = ns.varint();
        const uint32_t fld = uint32_t(k >> 3), w = uint32_t(k & 7);
        if (fld == 3 && w == 0) add_dummy_prefix = ns.varint() != 0;
        else ns.skip(w);
      }
    } else {
      top.skip(wire);
    }
  }
  if (tokens.empty()) throw Error("SentencePiece model " + path + " has no pieces");
  out.set("tokenizer.ggml.model", GgufValue::string("llama"));
  out.set("tokenizer.ggml.pre", GgufValue::string("default"));
  out.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  out.set("tokenizer.ggml.scores", GgufValue::f32_array(scores));
  out.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  const int64_t n = int64_t(tokens.size());
  auto set_id = [&](const char* key, int64_t id) {
    if (id >= 0 && id < n) out.set(key, GgufValue::u32(uint32_t(id)));
  };
  set_id("tokenizer.ggml.bos_token_id", bos);
  set_id("tokenizer.ggml.eos_token_id", eos);
  set_id("tokenizer.ggml.unknown_token_id", unk);
  set_id("tokenizer.ggml.padding_token_id", pad);
  out.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(add_dummy_prefix));
}

void import_wordpiece_vocab(const std::vector<std::string>& vocab, GgufWriter& out) {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  // vocab.txt marks continuations with "##"; a vocabulary without any is already in ▁ form
  bool raw = false;
  for (const std::string& t : vocab) raw = raw || t.rfind("##", 0) == 0;
  for (const std::string& t : vocab) {
    const bool bracketed = t.size() >= 2 && t.front() == '[' && t.back() == ']';
    if (bracketed || !raw) tokens.push_back(t);
    else if (t.rfind("##", 0) == 0) tokens.push_back(t.substr(2));
    else tokens.push_back("\xE2\x96\x81" + t);
    types.push_back(bracketed ? token_type::kControl : token_type::kNormal);
  }
  out.set("tokenizer.ggml.model", GgufValue::string("bert"));
  out.set("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  out.set("tokenizer.ggml.token_type", GgufValue::i32_array(types));
  std::unordered_map<std::string, int64_t> id;
  for (size_t i = 0; i < tokens.size(); ++i) id.emplace(tokens[i], int64_t(i));
  auto set_id = [&](const char* key, const char* text) {
    auto it = id.find(text);
    if (it != id.end()) out.set(key, GgufValue::u32(uint32_t(it->second)));
  };
  set_id("tokenizer.ggml.bos_token_id", "[CLS]");
  set_id("tokenizer.ggml.seperator_token_id", "[SEP]");
  set_id("tokenizer.ggml.unknown_token_id", "[UNK]");
  set_id("tokenizer.ggml.padding_token_id", "[PAD]");
}

void write_vocab_only_hparams(GgufWriter& out, const std::string& name) {
  // The smallest llama hyper-parameters llama.cpp accepts, so the file loads as a vocab-only model.
  out.set("general.architecture", GgufValue::string("llama"));
  out.set("general.name", GgufValue::string(name));
  out.set("llama.context_length", GgufValue::u32(4096));
  out.set("llama.embedding_length", GgufValue::u32(64));
  out.set("llama.block_count", GgufValue::u32(1));
  out.set("llama.feed_forward_length", GgufValue::u32(128));
  out.set("llama.attention.head_count", GgufValue::u32(1));
  out.set("llama.attention.head_count_kv", GgufValue::u32(1));
  out.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
}

}  // namespace hearth
