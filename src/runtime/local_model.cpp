#include "runtime/local_model.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "backend/webgpu/backend_choice.h"
#include "hearth/error.h"

namespace hearth {

std::unique_ptr<LocalModel> LocalModel::load(const std::string& path, const LocalModelOptions& o) {
  auto m = std::make_unique<LocalModel>(GgufFile::open(path));
  m->path = path;
  m->config = ModelConfig::from_gguf(m->file);
  m->weights = ModelWeights::load(m->file, m->config);
  m->tokenizer = Tokenizer::from_gguf(m->file);
  if (int64_t(m->tokenizer->vocab_size()) > m->config.n_vocab)
    throw Error(fmt::format("{}: vocabulary has {} tokens but the embedding table only {}", path,
                            m->tokenizer->vocab_size(), m->config.n_vocab));
  std::string tmpl = m->file.get_string("tokenizer.chat_template");
  if (!tmpl.empty()) m->chat_template = std::make_unique<ChatTemplate>(tmpl);

  const int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t ctx = o.ctx > 0 ? o.ctx : std::min<int64_t>(m->config.n_ctx_train, 4096);
  if (ctx > m->config.n_ctx_train)
    throw Error(fmt::format("{}: ctx {} exceeds the model's trained context of {} tokens", path, ctx,
                            m->config.n_ctx_train));
  if (o.n_seq < 1 || o.n_seq > 1024) throw Error(fmt::format("n_seq must be 1..1024, not {}", o.n_seq));
  if (o.max_batch < 1 || o.max_batch > 8192)
    throw Error(fmt::format("a tick's batch (decode + prefill budget) must be 1..8192 rows, not {}", o.max_batch));
  m->pool = std::make_unique<cpu::ThreadPool>(threads);
  m->gpu = webgpu::open_device_for(o.backend, o.kv_f32, m->config, m->weights, ctx, o.n_seq, &m->backend_note);
  if (m->gpu) {
    m->gpu_transformer =
        std::make_unique<webgpu::WebGpuTransformer>(m->config, m->weights, *m->gpu, o.max_batch, ctx, o.n_seq);
    // A tick asks for logits on every decode row plus one per prefilling request: at most n_seq rows.
    if (m->gpu_transformer->max_logits_rows() < std::min<int64_t>(o.n_seq, o.max_batch))
      throw Error(fmt::format("{}: WebGPU returns at most {} logits rows per pass, fewer than n_seq {}", path,
                              m->gpu_transformer->max_logits_rows(), o.n_seq));
    m->gpu_cache = std::make_unique<webgpu::GpuKvCache>(*m->gpu, m->gpu_transformer->k_cache(),
                                                        m->gpu_transformer->v_cache(), m->config, ctx, o.n_seq);
    m->backend_name = "webgpu";
  } else {
    m->cache = std::make_unique<KvCache>(m->config, ctx, o.n_seq, o.kv_f32 ? KvType::F32 : KvType::F16);
    m->transformer = std::make_unique<Transformer>(m->config, m->weights, *m->pool, o.max_batch);
    m->backend_name = "cpu";
  }
  return m;
}

std::vector<TokenId> LocalModel::tokenize_prompt(const std::string& text) const {
  return tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/true);
}

std::vector<TokenId> LocalModel::tokenize_chat(const nlohmann::json& messages) const {
  if (!chat_template)
    throw Error(fmt::format("{} has no chat template (tokenizer.chat_template); use query with a raw prompt", path));
  if (!messages.is_array() || messages.empty()) throw Error("chat: messages must be a non-empty array");
  for (const auto& m : messages)
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw Error("chat: every message needs a string \"role\" (and usually \"content\")");
  ChatTemplateOptions co;
  co.add_generation_prompt = true;
  if (auto b = tokenizer->bos()) co.bos_token = std::string(tokenizer->token_text(*b));
  if (auto e = tokenizer->eos()) co.eos_token = std::string(tokenizer->token_text(*e));
  return tokenizer->encode(chat_template->render(messages, co), /*add_special=*/false, /*parse_special=*/true);
}

}  // namespace hearth
