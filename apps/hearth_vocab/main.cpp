// hearth-vocab: writes a vocabulary-only GGUF (tokenizer metadata, no tensors) from a Hugging Face
// tokenizer.json, a SentencePiece .model or a WordPiece vocabulary, so tokenizers can be tested
// against llama.cpp without model weights.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "hearth/error.h"
#include "hearth/gguf.h"
#include "tokenizer/vocab_import.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw hearth::Error("cannot open " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int usage() {
  std::fprintf(stderr,
               "usage: hearth-vocab --hf tokenizer.json [--config tokenizer_config.json] [--pre NAME] -o out.gguf\n"
               "       hearth-vocab --spm tokenizer.model -o out.gguf\n"
               "       hearth-vocab --wordpiece vocab.txt|vocab.json -o out.gguf\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string hf, config, spm, wordpiece, pre = "default", output, name;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw hearth::Error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--hf") hf = next();
      else if (a == "--config") config = next();
      else if (a == "--pre") pre = next();
      else if (a == "--spm") spm = next();
      else if (a == "--wordpiece") wordpiece = next();
      else if (a == "--name") name = next();
      else if (a == "-o") output = next();
      else return usage();
    } catch (const hearth::Error& e) {
      std::fprintf(stderr, "hearth-vocab: %s\n", e.what());
      return usage();
    }
  }
  if (output.empty() || (hf.empty() + spm.empty() + wordpiece.empty()) != 2) return usage();
  try {
    const auto t0 = std::chrono::steady_clock::now();
    hearth::GgufWriter w;
    hearth::write_vocab_only_hparams(w, name.empty() ? "vocab" : name);
    if (!hf.empty()) {
      hearth::import_hf_tokenizer(read_file(hf), config.empty() ? "" : read_file(config), pre, w);
    } else if (!spm.empty()) {
      hearth::import_spm_model(spm, w);
    } else {
      const std::string text = read_file(wordpiece);
      std::vector<std::string> tokens;
      if (!text.empty() && text[0] == '[') {
        tokens = nlohmann::json::parse(text).get<std::vector<std::string>>();
      } else {
        std::istringstream ss(text);
        for (std::string line; std::getline(ss, line);) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          tokens.push_back(line);
        }
      }
      hearth::import_wordpiece_vocab(tokens, w);
    }
    w.write(output);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("hearth-vocab: wrote %s in %.0f ms\n", output.c_str(), ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hearth-vocab: %s\n", e.what());
    return 1;
  }
  return 0;
}
