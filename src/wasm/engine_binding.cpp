// The engine as the browser's worker sees it (embind). Every method takes and returns JSON text so the
// boundary stays small, and catches every C++ exception: a wasm exception reaching JavaScript carries no
// message, so errors come back as {"error": "..."} for the worker to raise as a JavaScript Error.
#include <emscripten.h>
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/cpu/kernels.h"
#include "hearth/engine.h"
#include "hearth/error.h"
#include "model/embedding_model.h"

namespace hearth::wasm {

namespace {

using nlohmann::json;
using emscripten::val;

std::string error_json(const std::string& message) { return json{{"error", message}}.dump(); }

// Runs f, turning any exception into {"error": ...}.
template <class F>
std::string guarded(F&& f) {
  try {
    return f().dump();
  } catch (const std::bad_alloc&) {
    return error_json("out of memory: the model does not fit in this tab's WebAssembly memory (4 GiB at most)");
  } catch (const std::exception& e) {
    return error_json(e.what());
  } catch (...) {
    return error_json("unknown error");
  }
}

json parse_json(const std::string& text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(std::string(what) + ": not valid JSON");
  return j;
}

// Reads an optional number field, refusing wrong types instead of guessing.
template <class T>
void read_number(const json& o, const char* key, T& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return;
  if (!it->is_number()) throw Error(std::string("option '") + key + "' must be a number");
  out = it->get<T>();
}

GenerateOptions generate_options(const json& o) {
  if (!o.is_object()) throw Error("generate options must be an object");
  GenerateOptions g;
  read_number(o, "maxTokens", g.max_tokens);
  if (g.max_tokens < 0) throw Error("maxTokens must be >= 0");
  SamplingParams& s = g.sampling;
  read_number(o, "temperature", s.temperature);
  read_number(o, "topK", s.top_k);
  read_number(o, "topP", s.top_p);
  read_number(o, "minP", s.min_p);
  read_number(o, "repeatPenalty", s.repeat_penalty);
  read_number(o, "penaltyLastN", s.penalty_last_n);
  read_number(o, "frequencyPenalty", s.frequency_penalty);
  read_number(o, "presencePenalty", s.presence_penalty);
  read_number(o, "seed", s.seed);
  if (auto it = o.find("stop"); it != o.end() && !it->is_null()) {
    if (!it->is_array()) throw Error("option 'stop' must be an array of strings");
    for (const auto& v : *it) {
      if (!v.is_string()) throw Error("option 'stop' must be an array of strings");
      g.stop.push_back(v.get<std::string>());
    }
  }
  if (auto it = o.find("ignoreEos"); it != o.end() && it->is_boolean()) g.ignore_eos = it->get<bool>();
  return g;
}

}  // namespace

class EngineBinding {
 public:
  // options: {threads, ctx, batch, kvF32, backend: "cpu"|"webgpu"|"auto"}. progress(fraction) is called
  // while the weights are read.
  std::string load(const std::string& path, const std::string& options_json, val progress) {
    std::function<void(double)> on_progress;
    if (!progress.isUndefined() && !progress.isNull()) on_progress = [&](double f) { progress(f); };
    return load_with(path, options_json, on_progress);
  }

  std::string load_with(const std::string& path, const std::string& options_json,
                        const std::function<void(double)>& on_progress) {
    return guarded([&] {
      const json o = parse_json(options_json, "load options");
      EngineOptions opts;
      read_number(o, "threads", opts.threads);
      read_number(o, "ctx", opts.ctx);
      read_number(o, "batch", opts.batch);
      if (auto it = o.find("kvF32"); it != o.end() && it->is_boolean()) opts.kv_f32 = it->get<bool>();
      if (auto it = o.find("backend"); it != o.end() && !it->is_null()) {
        if (!it->is_string()) throw Error("option 'backend' must be \"cpu\", \"webgpu\" or \"auto\"");
        opts.backend = parse_backend(it->get<std::string>());
      }
      if (opts.threads <= 0) opts.threads = 1;
      opts.on_progress = on_progress;
      engine_.reset();
      embedder_.reset();
      path_.clear();
      threads_ = opts.threads;
      if (EmbeddingModel::is_encoder(path)) {
        // BERT-family files only embed: no engine, the embedding model is the whole load.
        embedder_ = EmbeddingModel::load(path, opts.threads);
        if (opts.on_progress) opts.on_progress(1.0);
        path_ = path;
        return json{{"arch", "bert"}, {"embeddingOnly", true}, {"nEmbd", embedder_->n_embd()},
                    {"pooling", embedder_->pooling()}, {"maxTokens", embedder_->max_tokens()},
                    {"threads", opts.threads}, {"simd", cpu::simd_name()}, {"hasChatTemplate", false}};
      }
      engine_ = Engine::load(path, opts);
      path_ = path;
      return info();
    });
  }

  std::string info_json() const {
    return guarded([&] { return info(); });
  }

  std::string tokenize(const std::string& text) {
    return guarded([&] { return json{{"tokens", engine().tokenize_prompt(text)}}; });
  }

  std::string detokenize(const std::string& tokens_json) {
    return guarded([&] {
      const json t = parse_json(tokens_json, "tokens");
      std::vector<TokenId> ids = token_list(t);
      return json{{"text", engine().tokenizer().decode(ids)}};
    });
  }

  std::string apply_chat_template(const std::string& messages_json, bool add_generation_prompt) {
    return guarded([&] {
      const json messages = parse_json(messages_json, "messages");
      if (!messages.is_array()) throw Error("messages must be an array of {role, content}");
      return json{{"text", engine().apply_chat_template(messages, add_generation_prompt)}};
    });
  }

  // prompt: {"text": "..."} (BOS per the vocabulary, special tokens parsed) or {"tokens": [...]}.
  // on_piece(text) returns false to cancel.
  std::string generate(const std::string& prompt_json, const std::string& options_json, val on_piece) {
    TextCallback cb;
    if (!on_piece.isUndefined() && !on_piece.isNull())
      cb = [&](const std::string& piece) { return on_piece(piece).as<bool>(); };
    return generate_with(prompt_json, options_json, cb);
  }

  std::string generate_with(const std::string& prompt_json, const std::string& options_json, const TextCallback& cb) {
    return guarded([&] {
      const json p = parse_json(prompt_json, "prompt");
      Engine& e = engine();
      std::vector<TokenId> prompt;
      if (auto it = p.find("tokens"); it != p.end()) {
        prompt = token_list(*it);
      } else if (auto text = p.find("text"); text != p.end() && text->is_string()) {
        prompt = e.tokenize_prompt(text->get<std::string>());
      } else {
        throw Error("prompt must be {text} or {tokens}");
      }
      if (prompt.empty()) throw Error("the prompt is empty");
      const GenerateOptions g = generate_options(parse_json(options_json, "generate options"));
      const GenerateResult r = e.generate(prompt, g, cb);
      return json{{"tokens", r.tokens},
                  {"promptTokens", prompt},
                  {"text", r.text},
                  {"finishReason", r.finish_reason},
                  {"usage",
                   {{"promptTokens", r.prompt_tokens},
                    {"completionTokens", r.tokens.size()},
                    {"cachedTokens", r.cached_tokens},
                    {"prefillSeconds", r.prefill_seconds},
                    {"decodeSeconds", r.decode_seconds},
                    {"prefillTokensPerSecond", r.prefill_tps()},
                    {"decodeTokensPerSecond", r.decode_tps()}}}};
    });
  }

  // inputs: ["text", ...]. The embedding model is opened from the same file on first use.
  std::string embed(const std::string& inputs_json, bool normalize) {
    return guarded([&] {
      const json in = parse_json(inputs_json, "inputs");
      if (!in.is_array()) throw Error("embed inputs must be an array of strings");
      std::vector<std::string> inputs;
      for (const auto& v : in) {
        if (!v.is_string()) throw Error("embed inputs must be an array of strings");
        inputs.push_back(v.get<std::string>());
      }
      if (path_.empty()) throw Error("no model is loaded");
      if (!embedder_) embedder_ = EmbeddingModel::load(path_, threads_);
      return json{{"embeddings", embedder_->embed(inputs, normalize)}, {"pooling", embedder_->pooling()}};
    });
  }

  void reset() {
    if (engine_) engine_->reset();
  }

  void unload() {
    engine_.reset();
    embedder_.reset();
    path_.clear();
  }

 private:
  Engine& engine() const {
    if (!engine_ && embedder_) throw Error("this model only computes embeddings (BERT family); it cannot generate");
    if (!engine_) throw Error("no model is loaded");
    return *engine_;
  }

  std::vector<TokenId> token_list(const json& t) const {
    if (!t.is_array()) throw Error("tokens must be an array of integers");
    const int64_t n_vocab = engine().info().n_vocab;
    std::vector<TokenId> ids;
    ids.reserve(t.size());
    for (const auto& v : t) {
      if (!v.is_number_integer()) throw Error("tokens must be an array of integers");
      const int64_t id = v.get<int64_t>();
      if (id < 0 || id >= n_vocab)
        throw Error("token " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
      ids.push_back(TokenId(id));
    }
    return ids;
  }

  json info() const {
    const ModelInfo& i = engine().info();
    return json{{"arch", i.arch},        {"name", i.name},           {"nParams", i.n_params},
                {"weightBytes", i.weight_bytes}, {"nVocab", i.n_vocab}, {"nEmbd", i.n_embd},
                {"nLayer", i.n_layer},   {"nHead", i.n_head},        {"nHeadKv", i.n_head_kv},
                {"nFf", i.n_ff},         {"nCtxTrain", i.n_ctx_train}, {"nCtx", i.n_ctx},
                {"threads", i.threads},  {"simd", i.simd},           {"hasChatTemplate", !i.chat_template.empty()},
                {"backend", i.backend},  {"gpu", i.gpu},             {"backendNote", i.backend_note}};
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EmbeddingModel> embedder_;
  std::string path_;
  int threads_ = 1;
};

// Which artifact this is, for the page to report.
std::string build_info() {
#if defined(__EMSCRIPTEN_PTHREADS__)
  const bool threads = true;
#else
  const bool threads = false;
#endif
#if defined(HEARTH_WASM_WEBGPU)
  const bool webgpu = true;
#else
  const bool webgpu = false;
#endif
  return json{{"threads", threads}, {"simd", cpu::simd_name()}, {"webgpu", webgpu}}.dump();
}

EMSCRIPTEN_BINDINGS(hearth) {
  emscripten::class_<EngineBinding>("Engine")
      .constructor<>()
      .function("load", &EngineBinding::load)
      .function("info", &EngineBinding::info_json)
      .function("tokenize", &EngineBinding::tokenize)
      .function("detokenize", &EngineBinding::detokenize)
      .function("applyChatTemplate", &EngineBinding::apply_chat_template)
      .function("generate", &EngineBinding::generate)
      .function("embed", &EngineBinding::embed)
      .function("reset", &EngineBinding::reset)
      .function("unload", &EngineBinding::unload);
  emscripten::function("buildInfo", &build_info);
}

}  // namespace hearth::wasm

#if defined(HEARTH_WASM_WEBGPU)
// The WebGPU artifact's entry point. Its device layer suspends the wasm stack (Asyncify) while the
// browser's promises settle, and embind in emscripten 3.1.6 cannot hand back the result of a suspended
// call; ccall(..., {async: true}) can. So the worker calls every engine operation through hearth_call,
// and progress and streamed pieces come back through Module.hearthProgress / Module.hearthPiece
// (src/wasm/engine_hooks_library.js).
extern "C" {
void hearth_js_progress(double fraction);
int hearth_js_piece(const char* text, int length);
}

namespace {

hearth::wasm::EngineBinding& async_engine() {
  static hearth::wasm::EngineBinding engine;
  return engine;
}

}  // namespace

// op: load(a = path, b = options), info, tokenize(a), detokenize(a), applyChatTemplate(a, flag = add
// generation prompt), generate(a = prompt, b = options), embed(a, flag = normalize), reset, unload,
// buildInfo. Returns JSON text valid until the next call.
extern "C" EMSCRIPTEN_KEEPALIVE const char* hearth_call(const char* op_c, const char* a_c, const char* b_c, int flag) {
  static std::string result;
  const std::string op = op_c ? op_c : "", a = a_c ? a_c : "", b = b_c ? b_c : "";
  hearth::wasm::EngineBinding& e = async_engine();
  if (op == "load") {
    result = e.load_with(a, b, [](double f) { hearth_js_progress(f); });
  } else if (op == "info") {
    result = e.info_json();
  } else if (op == "tokenize") {
    result = e.tokenize(a);
  } else if (op == "detokenize") {
    result = e.detokenize(a);
  } else if (op == "applyChatTemplate") {
    result = e.apply_chat_template(a, flag != 0);
  } else if (op == "generate") {
    result = e.generate_with(a, b, [](const std::string& piece) {
      return hearth_js_piece(piece.data(), int(piece.size())) != 0;
    });
  } else if (op == "embed") {
    result = e.embed(a, flag != 0);
  } else if (op == "reset") {
    e.reset();
    result = "{}";
  } else if (op == "unload") {
    e.unload();
    result = "{}";
  } else if (op == "buildInfo") {
    result = hearth::wasm::build_info();
  } else {
    result = nlohmann::json{{"error", "unknown engine operation '" + op + "'"}}.dump();
  }
  return result.c_str();
}
#endif
