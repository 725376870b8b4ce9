#include "tokenizer/vocab.h"

#include <algorithm>
#include <array>

#include "hearth/error.h"
#include "hearth/gguf.h"

namespace hearth {
namespace {

const GgufArray* find_array(const GgufFile& f, std::string_view key, GgufValueType elem_a,
                            std::optional<GgufValueType> elem_b = std::nullopt) {
  const GgufValue* v = f.find(key);
  if (!v) return nullptr;
  if (v->type != GgufValueType::ARRAY) {
    throw Error(std::string(key) + ": expected an array, found " + std::string(gguf_value_type_name(v->type)));
  }
  const GgufArray& a = v->as_array();
  if (a.element_type != elem_a && (!elem_b || a.element_type != *elem_b)) {
    throw Error(std::string(key) + ": expected an array of " + std::string(gguf_value_type_name(elem_a)) +
                ", found an array of " + std::string(gguf_value_type_name(a.element_type)));
  }
  return &a;
}

// Token texts llama.cpp treats as end-of-generation (and forces to control type).
constexpr std::array<std::string_view, 22> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["};
// Texts llama.cpp detects as EOT, EOM and fill-in-the-middle tokens; it forces them to control type too.
constexpr std::array<std::string_view, 11> kEotTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
    "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr std::array<std::string_view, 41> kForcedControlTexts = {
    "<|eom_id|>", "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>",
    "<|code_prefix|>", "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>",
    "▁<SUF>", "<|code_suffix|>", "<|suffix|>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
    "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
    "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>", "", "", "", "", ""};

template <size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view s) {
  return !s.empty() && std::find(a.begin(), a.end(), s) != a.end();
}

}  // namespace

int Vocab::rank(std::string_view left, std::string_view right) const {
  thread_local std::string key;
  key.assign(left);
  key += '\x01';
  key += right;
  auto it = merge_rank.find(key);
  return it == merge_rank.end() ? -1 : it->second;
}

TokenId Vocab::byte_token(uint8_t b) const {
  static const char* hex = "0123456789ABCDEF";
  const char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
  TokenId id = find(std::string_view(buf, 6));
  if (id >= 0) return id;
  const char raw = char(b);
  id = find(std::string_view(&raw, 1));
  return id >= 0 ? id : unk;
}

Vocab load_vocab(const GgufFile& f) {
  Vocab v;
  const GgufValue* model = f.find("tokenizer.ggml.model");
  if (!model) throw Error("missing metadata key tokenizer.ggml.model: the file has no tokenizer");
  v.model = model->as_string();
  if (v.model == "llama") {
    v.kind = VocabKind::Spm;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_space_prefix = true, v.add_bos = true;
  } else if (v.model == "bert") {
    v.kind = VocabKind::Wpm;
    v.bos = 101, v.unk = 100, v.sep = 102, v.pad = 0;
    v.add_bos = true, v.add_sep = true, v.clean_spaces = true;
  } else if (v.model == "gpt2") {
    v.kind = VocabKind::Bpe;
    v.bos = 11, v.eos = 11;
    v.pre = f.get_string("tokenizer.ggml.pre", "");
    v.pre_info = pre_tokenizer_from_name(v.pre);
    v.add_bos = v.pre_info.add_bos;
    v.clean_spaces = v.pre_info.clean_spaces;
  } else {
    throw Error("tokenizer.ggml.model '" + v.model + "' is not supported (expected llama, gpt2 or bert)");
  }
  v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);

  const GgufArray* tokens = find_array(f, "tokenizer.ggml.tokens", GgufValueType::STRING);
  if (!tokens) throw Error("missing metadata key tokenizer.ggml.tokens: the vocabulary is empty");
  const size_t n = tokens->items.size();
  if (n == 0) throw Error("tokenizer.ggml.tokens is empty");
  if (n > size_t(INT32_MAX)) throw Error("tokenizer.ggml.tokens: too many tokens");
  const GgufArray* scores = find_array(f, "tokenizer.ggml.scores", GgufValueType::FLOAT32, GgufValueType::INT32);
  const GgufArray* types = find_array(f, "tokenizer.ggml.token_type", GgufValueType::INT32);
  if (scores && scores->items.size() != n) {
    throw Error("tokenizer.ggml.scores has " + std::to_string(scores->items.size()) + " entries for " +
                std::to_string(n) + " tokens");
  }
  if (types && types->items.size() != n) {
    throw Error("tokenizer.ggml.token_type has " + std::to_string(types->items.size()) + " entries for " +
                std::to_string(n) + " tokens");
  }

  v.tokens.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& t = v.tokens[i];
    t.text = tokens->items[i].as_string();
    if (t.text.empty()) t.text = "[EMPTY_" + std::to_string(i) + "]";
    if (scores) t.score = float(scores->items[i].as_f64());
    if (types) {
      switch (types->items[i].as_i64()) {
        case 1: t.attr = kAttrNormal; break;
        case 2: t.attr = kAttrUnknown; break;
        case 3: t.attr = kAttrControl; break;
        case 4: t.attr = kAttrUserDefined; break;
        case 5: t.attr = kAttrUnused; break;
        case 6: t.attr = kAttrByte; break;
        default: t.attr = 0; break;   // undefined
      }
    }
    v.max_token_len = std::max(v.max_token_len, t.text.size());
  }
  v.by_text.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = v.by_text.emplace(v.tokens[i].text, TokenId(i));
    if (!inserted) {
      throw Error("tokenizer.ggml.tokens: duplicate token '" + v.tokens[i].text + "' has ids " +
                  std::to_string(it->second) + " and " + std::to_string(i));
    }
  }

  if (v.kind == VocabKind::Bpe) {
    const GgufArray* merges = find_array(f, "tokenizer.ggml.merges", GgufValueType::STRING);
    if (!merges) throw Error("missing metadata key tokenizer.ggml.merges: a gpt2 (BPE) vocabulary needs merges");
    v.merge_rank.reserve(merges->items.size() * 2);
    for (size_t i = 0; i < merges->items.size(); ++i) {
      const std::string& m = merges->items[i].as_string();
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) throw Error("tokenizer.ggml.merges[" + std::to_string(i) + "] '" + m + "' has no space");
      const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
      if (v.find(left) < 0 || v.find(right) < 0) {
        throw Error("tokenizer.ggml.merges[" + std::to_string(i) + "] '" + m + "' names a token not in the vocabulary");
      }
      std::string key(left);
      key += '\x01';
      key += right;
      v.merge_rank.emplace(std::move(key), int(i));
    }
  }

  auto read_id = [&](const char* key, TokenId& id) {
    if (id >= 0 && size_t(id) >= n) id = -1;   // a default that does not fit this vocabulary
    const GgufValue* val = f.find(key);
    if (!val) return;
    const int64_t x = val->as_i64();
    if (x < 0 || uint64_t(x) >= n) {
      throw Error(std::string(key) + " = " + std::to_string(x) + " is outside the vocabulary of " + std::to_string(n) +
                  " tokens");
    }
    id = TokenId(x);
  };
  read_id("tokenizer.ggml.bos_token_id", v.bos);
  read_id("tokenizer.ggml.eos_token_id", v.eos);
  read_id("tokenizer.ggml.eot_token_id", v.eot);
  read_id("tokenizer.ggml.eom_token_id", v.eom);
  read_id("tokenizer.ggml.unknown_token_id", v.unk);
  read_id("tokenizer.ggml.seperator_token_id", v.sep);
  read_id("tokenizer.ggml.padding_token_id", v.pad);
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  v.add_sep = f.get_bool("tokenizer.ggml.add_sep_token", v.add_sep);
  if (v.add_bos && v.bos < 0) throw Error("tokenizer.ggml.add_bos_token is true, but there is no BOS token");
  if (v.add_eos && v.eos < 0) throw Error("tokenizer.ggml.add_eos_token is true, but there is no EOS token");

  // Texts llama.cpp recognises as end-of-turn, fill-in-the-middle or end-of-generation become control
  // tokens, which changes how text containing them is split.
  for (size_t i = 0; i < n; ++i) {
    auto& t = v.tokens[i];
    const bool eog = contains(kEogTexts, t.text);
    if (eog || contains(kForcedControlTexts, t.text)) t.attr |= kAttrControl;
    if (v.eot < 0 && contains(kEotTexts, t.text)) v.eot = TokenId(i);
    if (v.eom < 0 && t.text == "<|eom_id|>") v.eom = TokenId(i);
    if (eog) v.eog.push_back(TokenId(i));
  }
  for (TokenId id : {v.eos, v.eot, v.eom})
    if (id >= 0 && std::find(v.eog.begin(), v.eog.end(), id) == v.eog.end()) v.eog.push_back(id);

  for (size_t i = 0; i < n; ++i)
    if (v.tokens[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special_by_length.push_back(TokenId(i));
  std::stable_sort(v.special_by_length.begin(), v.special_by_length.end(),
                   [&](TokenId a, TokenId b) { return v.tokens[a].text.size() > v.tokens[b].text.size(); });
  return v;
}

}  // namespace hearth
