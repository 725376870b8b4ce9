// `hearth info` and `hearth tokenize`: inspect a GGUF file and its vocabulary without loading weights.
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "hearth/gguf.h"
#include "hearth/tokenizer.h"

namespace hearth::cli {
namespace {

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, u++;
  return u ? fmt::format("{:.2f} {}", v, units[u]) : fmt::format("{:.0f} {}", v, units[u]);
}

// One line per value; long arrays show their first items and their length.
std::string show_value(const GgufValue& v, size_t max_items = 8) {
  switch (v.type) {
    case GgufValueType::STRING: {
      std::string s = v.as_string();
      if (s.size() > 120) s = s.substr(0, 120) + fmt::format("… ({} bytes)", v.as_string().size());
      return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    case GgufValueType::ARRAY: {
      const auto& a = v.as_array();
      std::string s = "[";
      for (size_t i = 0; i < a.items.size() && i < max_items; i++) s += (i ? ", " : "") + show_value(a.items[i], 4);
      if (a.items.size() > max_items) s += fmt::format(", … {} items", a.items.size());
      return s + "]";
    }
    case GgufValueType::BOOL: return v.as_bool() ? "true" : "false";
    case GgufValueType::FLOAT32: case GgufValueType::FLOAT64: return fmt::format("{}", v.as_f64());
    case GgufValueType::INT8: case GgufValueType::INT16: case GgufValueType::INT32: case GgufValueType::INT64:
      return fmt::format("{}", v.as_i64());
    default: return fmt::format("{}", v.as_u64());
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "print a GGUF file's metadata, tensors and sizes");
  auto path = std::make_shared<std::string>();
  auto show_tensors = std::make_shared<bool>(true);
  cmd->add_option("model", *path, "GGUF file")->required();
  cmd->add_flag("--tensors,!--no-tensors", *show_tensors, "list every tensor (default on)");
  cmd->callback([path, show_tensors] {
    GgufFile f = GgufFile::open(*path);
    fmt::print("file: {} ({}), GGUF v{}, alignment {}\n", *path, human_bytes(f.file_size()), f.version(), f.alignment());
    fmt::print("metadata ({} keys):\n", f.metadata().size());
    for (const auto& [k, v] : f.metadata())
      fmt::print("  {:<44} {:<8} {}\n", k, gguf_value_type_name(v.type), show_value(v));
    uint64_t params = 0, bytes = 0;
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;
    for (const auto& t : f.tensors()) {
      params += t.n_elements();
      bytes += t.n_bytes();
      auto& e = by_type[std::string(tensor_type_name(t.type))];
      e.first++;
      e.second += t.n_bytes();
    }
    fmt::print("tensors: {}, {:.3f} M parameters, {}\n", f.tensors().size(), double(params) / 1e6, human_bytes(bytes));
    for (const auto& [type, e] : by_type) fmt::print("  {:<6} {:5} tensors {:>12}\n", type, e.first, human_bytes(e.second));
    if (*show_tensors) {
      for (const auto& t : f.tensors()) {
        std::string dims;
        for (size_t i = 0; i < t.dims.size(); i++) dims += (i ? " x " : "") + std::to_string(t.dims[i]);
        fmt::print("  {:<40} {:<6} {:<22} {:>12}\n", t.name, tensor_type_name(t.type), dims, human_bytes(t.n_bytes()));
      }
    }
  });
}

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "print the token ids of a text");
  auto path = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto no_special = std::make_shared<bool>(false);
  auto pieces = std::make_shared<bool>(false);
  cmd->add_option("-m,--model", *path, "GGUF model or vocabulary file (default: models/default.gguf)");
  cmd->add_option("text", *text, "text to tokenize")->required();
  cmd->add_flag("--no-special", *no_special, "no BOS/EOS, and special-token texts are plain text");
  cmd->add_flag("--pieces", *pieces, "print id and piece per line");
  cmd->callback([path, text, no_special, pieces] {
    GgufFile f = GgufFile::open(path->empty() ? default_model_path() : *path);
    auto tok = Tokenizer::from_gguf(f);
    auto ids = tok->encode(*text, !*no_special, !*no_special);
    if (*pieces) {
      for (auto id : ids)
        fmt::print("{:>7} {}\n", id, nlohmann::json(tok->token_to_piece(id, true)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
      fmt::print("{}\n", nlohmann::json(ids).dump());
    }
  });
}

}  // namespace hearth::cli
