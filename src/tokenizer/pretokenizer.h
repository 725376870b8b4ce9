#pragma once
// Pre-tokenizers for byte-level BPE: llama.cpp's regexes per `tokenizer.ggml.pre`, written by hand as
// matchers over code points. Each stage splits every fragment the previous stage produced; text a stage
// does not match stays a fragment of its own, as std::regex splitting in llama.cpp leaves it.
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

enum class PreTokenizer { Default, Llama3, Qwen2, Gpt2, Smollm, DeepseekLlm, Deepseek3 };

struct PreTokenizerInfo {
  PreTokenizer type = PreTokenizer::Default;
  bool ignore_merges = false;   // a word already in the vocabulary is one token
  bool add_bos = false;         // llama.cpp's default before tokenizer.ggml.add_bos_token
  bool clean_spaces = true;     // clean_up_tokenization_spaces on decode
};

// Throws hearth::Error for a name llama.cpp would reject or hearth does not implement.
PreTokenizerInfo pre_tokenizer_from_name(std::string_view name);

// Words of `text`, each byte-encoded (GPT-2 byte-to-unicode) when byte_encode is set.
std::vector<std::string> pre_tokenize(std::string_view text, PreTokenizer type, bool byte_encode = true);

}  // namespace hearth
