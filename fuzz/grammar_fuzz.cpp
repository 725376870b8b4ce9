// libFuzzer harness for structured output: GBNF text and JSON schemas from the input must compile or throw
// hearth::Error; a compiled grammar must answer matches() on arbitrary text; the GBNF a schema turns into must
// itself parse. The first byte picks GBNF or schema; the input splits at the first NUL into grammar and text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "hearth/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool schema_mode = data[0] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view source = rest.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  try {
    std::shared_ptr<const hearth::Grammar> grammar;
    if (schema_mode) {
      const nlohmann::json schema = nlohmann::json::parse(source, nullptr, /*allow_exceptions=*/false);
      if (schema.is_discarded()) return 0;
      const std::string gbnf = hearth::Grammar::json_schema_to_gbnf(schema);
      try {
        grammar = hearth::Grammar::parse_gbnf(gbnf);
      } catch (const hearth::Error& e) {
        std::fprintf(stderr, "a schema compiled to GBNF that does not parse: %s\n%s\n", e.what(), gbnf.c_str());
        std::abort();
      }
    } else {
      grammar = hearth::Grammar::parse_gbnf(source);
    }
    (void)grammar->matches(text);
  } catch (const hearth::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grammar threw a non-hearth exception: %s\n", e.what());
    std::abort();
  }
  return 0;
}
