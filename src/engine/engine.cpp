#include "hearth/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "backend/cpu/kernels.h"
#include "backend/cpu/thread_pool.h"
#include "backend/webgpu/backend_choice.h"
#include "backend/webgpu/device.h"
#include "backend/webgpu/webgpu_transformer.h"
#include "engine/sampler.h"
#include "engine/stop_strings.h"
#include "hearth/chat_template.h"
#include "hearth/error.h"
#include "hearth/gguf.h"
#include "model/kv_cache.h"
#include "model/model_config.h"
#include "model/model_weights.h"
#include "model/transformer.h"

namespace hearth {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Reads one byte per page of every tensor so the first token doesn't pay for page faults, reporting
// progress as it goes.
void prefault(const GgufFile& file, const std::function<void(double)>& progress) {
  uint64_t total = 0, done = 0;
  for (const auto& t : file.tensors()) total += t.n_bytes();
  volatile uint8_t sink = 0;
  double last = -1;
  for (const auto& t : file.tensors()) {
    auto data = file.tensor_data(t);
    for (size_t i = 0; i < data.size(); i += 4096) sink = sink + data[i];
    done += data.size();
    double f = total ? double(done) / double(total) : 1.0;
    if (progress && f - last >= 0.01) {
      progress(f);
      last = f;
    }
  }
  if (progress) progress(1.0);
}
// Greedy without penalties: the argmax of the raw logits, which the GPU can pick itself.
bool plain_greedy(const SamplingParams& p) {
  return p.temperature <= 0.0f && p.repeat_penalty == 1.0f && p.frequency_penalty == 0.0f &&
         p.presence_penalty == 0.0f;
}
}  // namespace

Backend parse_backend(const std::string& name) {
  if (name == "cpu") return Backend::Cpu;
  if (name == "webgpu") return Backend::WebGpu;
  if (name == "auto") return Backend::Auto;
  throw Error("unknown backend '" + name + "' (expected cpu, webgpu or auto)");
}

struct Engine::Impl {
  GgufFile file;
  ModelConfig config;
  ModelWeights weights;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ChatTemplate> chat_template;
  std::unique_ptr<cpu::ThreadPool> pool;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<Transformer> transformer;
  std::unique_ptr<webgpu::Device> gpu;
  std::unique_ptr<webgpu::WebGpuTransformer> gpu_transformer;
  int64_t n_ctx = 0;
  bool ids_only = false;           // WebGPU greedy: forward passes return the argmax id, not logits
  TokenId next_id = 0;             // that id
  bool ahead = false;              // WebGPU greedy: the step for next_id is already submitted
  ModelInfo info;
  int64_t batch = 256;
  std::vector<TokenId> cached;     // tokens whose keys/values are in the cache, in order
  std::vector<float> logits;       // last forward's logits (one row)
  std::vector<BatchToken> batch_buf;

  explicit Impl(GgufFile f) : file(std::move(f)) {}

  void forward(const BatchToken* b, int64_t n) {
    if (!gpu_transformer) {
      transformer->forward(b, n, *cache, logits.data());
    } else if (ids_only) {
      int32_t id = 0;
      gpu_transformer->forward_greedy(b, n, &id);
      next_id = id;
    } else {
      gpu_transformer->forward(b, n, logits.data());
    }
  }

  // Feeds tokens [from, prompt.size()) after the cached prefix; leaves the last token's logits in `logits`.
  void prefill(const std::vector<TokenId>& prompt, size_t from) {
    for (size_t i = from; i < prompt.size(); i += size_t(batch)) {
      const size_t end = std::min(prompt.size(), i + size_t(batch));
      batch_buf.clear();
      for (size_t j = i; j < end; j++)
        batch_buf.push_back({prompt[j], int32_t(j), 0, j + 1 == prompt.size()});
      forward(batch_buf.data(), int64_t(batch_buf.size()));
      cached.insert(cached.end(), prompt.begin() + std::ptrdiff_t(i), prompt.begin() + std::ptrdiff_t(end));
    }
  }

  // Reuses the longest common prefix of `prompt` with the cache; always recomputes at least one token.
  size_t reuse_prefix(const std::vector<TokenId>& prompt) {
    size_t m = 0;
    while (m < cached.size() && m < prompt.size() && cached[m] == prompt[m]) m++;
    if (m == prompt.size()) m--;
    cached.resize(m);
    return m;
  }

  void step(TokenId token) {
    const int32_t pos = int32_t(cached.size());
    if (gpu_transformer && ids_only) {
      // The GPU runs a step ahead of the host: the step for `token` was queued by the previous call (its
      // input read on the GPU from that call's argmax), and the next one is queued before waiting here.
      if (!ahead || token != next_id) {
        gpu_transformer->drop_greedy_steps();
        gpu_transformer->submit_greedy_step(token, pos);
      }
      ahead = pos + 1 < n_ctx;
      if (ahead) gpu_transformer->submit_greedy_step(-1, pos + 1);
      next_id = gpu_transformer->take_greedy_step();
      cached.push_back(token);
      return;
    }
    BatchToken b{token, pos, 0, true};
    forward(&b, 1);
    cached.push_back(token);
  }

  // Discards a step queued ahead that the caller did not take (generation stopped).
  void stop_ahead() {
    if (gpu_transformer) gpu_transformer->drop_greedy_steps();
    ahead = false;
  }
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::load(const std::string& path, const EngineOptions& options) {
  auto impl = std::make_unique<Impl>(GgufFile::open(path));
  Impl& m = *impl;
  m.config = ModelConfig::from_gguf(m.file);
  m.weights = ModelWeights::load(m.file, m.config);
  m.tokenizer = Tokenizer::from_gguf(m.file);
  if (int64_t(m.tokenizer->vocab_size()) > m.config.n_vocab)
    throw Error(fmt::format("vocabulary has {} tokens but the embedding table only {}", m.tokenizer->vocab_size(),
                            m.config.n_vocab));
  std::string tmpl = m.file.get_string("tokenizer.chat_template");
  if (!tmpl.empty()) m.chat_template = std::make_unique<ChatTemplate>(tmpl);
  prefault(m.file, options.on_progress);

  int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  int64_t ctx = options.ctx > 0 ? options.ctx : std::min<int64_t>(m.config.n_ctx_train, 4096);
  if (ctx > m.config.n_ctx_train)
    throw Error(fmt::format("--ctx {} exceeds the model's trained context of {} tokens", ctx, m.config.n_ctx_train));
  m.batch = std::clamp<int64_t>(options.batch, 1, 4096);
  m.pool = std::make_unique<cpu::ThreadPool>(threads);
  m.n_ctx = ctx;
  std::string backend_note;
  m.gpu = webgpu::open_device_for(options.backend, options.kv_f32, m.config, m.weights, ctx, 1, &backend_note);
  if (m.gpu) {
    m.gpu_transformer = std::make_unique<webgpu::WebGpuTransformer>(m.config, m.weights, *m.gpu, m.batch, ctx);
  } else {
    m.cache = std::make_unique<KvCache>(m.config, ctx, 1, options.kv_f32 ? KvType::F32 : KvType::F16);
    m.transformer = std::make_unique<Transformer>(m.config, m.weights, *m.pool, m.batch);
  }
  m.logits.resize(size_t(m.config.n_vocab));

  ModelInfo& i = m.info;
  i.path = path;
  i.arch = m.config.arch;
  i.name = m.config.name;
  for (const auto& t : m.file.tensors()) i.n_params += t.n_elements();
  i.weight_bytes = m.weights.total_bytes;
  i.n_vocab = m.config.n_vocab;
  i.n_embd = m.config.n_embd;
  i.n_layer = m.config.n_layer;
  i.n_head = m.config.n_head;
  i.n_head_kv = m.config.n_head_kv;
  i.n_ff = m.config.n_ff;
  i.n_ctx_train = m.config.n_ctx_train;
  i.n_ctx = ctx;
  i.threads = threads;
  i.simd = cpu::simd_name();
  i.backend = m.gpu ? "webgpu" : "cpu";
  if (m.gpu) i.gpu = m.gpu->info().description.empty() ? m.gpu->info().device : m.gpu->info().description;
  i.backend_note = backend_note;
  i.chat_template = tmpl;
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const ModelInfo& Engine::info() const { return impl_->info; }
const Tokenizer& Engine::tokenizer() const { return *impl_->tokenizer; }

std::string Engine::apply_chat_template(const nlohmann::json& messages, bool add_generation_prompt) const {
  if (!impl_->chat_template) throw Error("this model has no chat template (tokenizer.chat_template)");
  ChatTemplateOptions o;
  o.add_generation_prompt = add_generation_prompt;
  const Tokenizer& t = *impl_->tokenizer;
  if (auto b = t.bos()) o.bos_token = std::string(t.token_text(*b));
  if (auto e = t.eos()) o.eos_token = std::string(t.token_text(*e));
  return impl_->chat_template->render(messages, o);
}

std::vector<TokenId> Engine::tokenize_prompt(const std::string& text) const {
  return impl_->tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/true);
}

void Engine::reset() { impl_->cached.clear(); }

std::vector<float> Engine::evaluate(const std::vector<TokenId>& prompt) {
  if (prompt.empty()) throw Error("evaluate: the prompt is empty");
  if (int64_t(prompt.size()) > impl_->n_ctx)
    throw Error(fmt::format("prompt of {} tokens exceeds the context of {}", prompt.size(), impl_->n_ctx));
  impl_->ids_only = false;
  impl_->stop_ahead();
  impl_->prefill(prompt, impl_->reuse_prefix(prompt));
  return impl_->logits;
}

GenerateResult Engine::generate(const std::vector<TokenId>& prompt, const GenerateOptions& options,
                                const TextCallback& on_text) {
  Impl& m = *impl_;
  if (prompt.empty()) throw Error("generate: the prompt is empty");
  const int64_t n_ctx = m.n_ctx;
  if (int64_t(prompt.size()) >= n_ctx)
    throw Error(fmt::format("prompt of {} tokens does not fit the context of {} tokens", prompt.size(), n_ctx));

  GenerateResult r;
  r.prompt_tokens = int64_t(prompt.size());
  auto t0 = Clock::now();
  // On WebGPU, plain greedy decoding reads back only the chosen token id per step.
  m.ids_only = m.gpu_transformer && plain_greedy(options.sampling);
  m.stop_ahead();
  const size_t reused = m.reuse_prefix(prompt);
  r.cached_tokens = int64_t(reused);
  m.prefill(prompt, reused);
  r.prefill_seconds = seconds_since(t0);

  Sampler sampler(options.sampling, size_t(m.config.n_vocab));
  std::vector<TokenId> history = prompt;
  StreamingDetokenizer detok(*m.tokenizer);
  StopStringMatcher stops(options.stop);
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    r.text += piece;
    return !on_text || on_text(piece);
  };

  auto t1 = Clock::now();
  r.finish_reason = "length";
  for (int32_t n = 0; n < options.max_tokens; n++) {
    if (n > 0) {
      if (int64_t(m.cached.size()) >= n_ctx) break;  // context full
      m.step(history.back());
    }
    TokenId tok = m.ids_only ? m.next_id : sampler.sample(m.logits.data(), history);
    if (!options.ignore_eos && m.tokenizer->is_end_of_generation(tok)) {
      r.finish_reason = "stop";
      break;
    }
    r.tokens.push_back(tok);
    history.push_back(tok);
    auto out = stops.push(detok.push(tok));
    if (!emit(out.text)) {
      r.finish_reason = "cancelled";
      break;
    }
    if (out.matched) {
      r.finish_reason = "stop";
      break;
    }
  }
  if (r.finish_reason == "length" || r.finish_reason == "cancelled") {
    auto out = stops.push(detok.flush());
    emit(out.text);
    if (!out.matched) emit(stops.flush());
  }
  m.stop_ahead();
  r.decode_seconds = seconds_since(t1);
  // The last sampled token is not in the cache yet; the next call's prefix match accounts for that.
  return r;
}

}  // namespace hearth
