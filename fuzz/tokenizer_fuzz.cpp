// libFuzzer harness for the tokenizers (SentencePiece, byte-level BPE, WordPiece) on real vocabularies from the
// fixture models: any byte string must encode without crashing, give ids inside the vocabulary, stream back as
// valid UTF-8, and — for lossless vocabularies and valid UTF-8 input (for SPM: without U+2581) — stream back
// exactly the input.
// The first input byte picks the vocabulary and whether special-token texts are parsed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/gguf.h"
#include "hearth/tokenizer.h"

namespace {

std::vector<std::unique_ptr<hearth::Tokenizer>>& tokenizers() {
  static std::vector<std::unique_ptr<hearth::Tokenizer>> t;
  return t;
}

[[noreturn]] void invariant_failed(const char* what, std::string_view input) {
  std::fprintf(stderr, "invariant failed: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Colon-separated GGUF paths; only their tokenizer metadata is used.
  const char* list = std::getenv("HEARTH_FUZZ_VOCABS");
  std::string paths = list ? list : HEARTH_FUZZ_DEFAULT_VOCABS;
  size_t start = 0;
  while (start < paths.size()) {
    size_t colon = paths.find(':', start);
    if (colon == std::string::npos) colon = paths.size();
    const std::string path = paths.substr(start, colon - start);
    start = colon + 1;
    if (path.empty()) continue;
    try {
      // Kept open for the whole run in case a tokenizer refers into the file's metadata.
      static std::vector<std::unique_ptr<hearth::GgufFile>> files;
      files.push_back(std::make_unique<hearth::GgufFile>(hearth::GgufFile::open(path)));
      tokenizers().push_back(hearth::Tokenizer::from_gguf(*files.back()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tokenizer_fuzz: cannot load %s: %s\n", path.c_str(), e.what());
    }
  }
  if (tokenizers().empty()) {
    std::fprintf(stderr, "tokenizer_fuzz: no vocabulary loaded (run scripts/make_fixtures.sh)\n");
    std::exit(1);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const hearth::Tokenizer& tok = *tokenizers()[data[0] % tokenizers().size()];
  const bool parse_special = (data[0] >> 7) & 1;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  const std::vector<hearth::TokenId> ids = tok.encode(text, /*add_special=*/true, parse_special);
  for (hearth::TokenId id : ids)
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) invariant_failed("token id outside the vocabulary", text);

  hearth::StreamingDetokenizer stream(tok);
  std::string streamed;
  for (hearth::TokenId id : ids) {
    std::string piece = stream.push(id);
    if (!valid_utf8(piece)) invariant_failed("streamed piece is not valid UTF-8", text);
    streamed += piece;
  }
  std::string tail = stream.flush();
  if (!valid_utf8(tail)) invariant_failed("flushed text is not valid UTF-8", text);

  // The streamed pieces are the raw round trip (decode() may also apply the vocabulary's clean-up of spaces
  // before punctuation, as llama.cpp does, so it is not lossless by design).
  // SentencePiece writes spaces as U+2581, so a literal U+2581 in the text comes back as a space (as in
  // SentencePiece itself and llama.cpp): such texts are outside SPM's round trip.
  const bool spm_space_mark = tok.model_name() == "llama" && text.find("\xE2\x96\x81") != std::string_view::npos;
  if (tok.is_lossless() && !parse_special && valid_utf8(text) && !spm_space_mark) {
    hearth::StreamingDetokenizer plain_stream(tok);
    std::string out;
    for (hearth::TokenId id : tok.encode(text, /*add_special=*/false, /*parse_special=*/false)) out += plain_stream.push(id);
    out += plain_stream.flush();
    if (out != text) invariant_failed("streamed detokenization of encode(x) != x", text);
  }
  return 0;
}
