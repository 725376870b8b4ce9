#include "runtime/local_endpoint.h"

#include <algorithm>

#include <fmt/format.h>

#include "hearth/error.h"
#if HEARTH_HAVE_GRAMMAR
#include "grammar/grammar.h"
#endif
#include "runtime/model_fingerprint.h"

namespace hearth {

namespace {

double seconds(RuntimeClock::time_point a, RuntimeClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

LocalEndpointOptions normalized(LocalEndpointOptions o) {
  if (o.n_seq < 1 || o.n_seq > 256) throw Error(fmt::format("n_seq must be 1..256, not {}", o.n_seq));
  if (o.decode_budget == 0) o.decode_budget = o.n_seq;
  if (o.decode_budget < 1 || o.prefill_budget < 1)
    throw Error(fmt::format("decode_budget and prefill_budget must be at least 1 (got {} and {})", o.decode_budget,
                            o.prefill_budget));
  if (o.max_queue < 0) throw Error(fmt::format("max_queue must not be negative, got {}", o.max_queue));
  return o;
}

std::unique_ptr<LocalModel> load_model(const LocalEndpointOptions& o) {
  LocalModelOptions m;
  m.threads = o.threads;
  m.ctx = o.ctx;
  m.n_seq = o.n_seq;
  m.max_batch = o.decode_budget + o.prefill_budget;
  m.kv_f32 = o.kv_f32;
  m.backend = o.backend;
  return LocalModel::load(o.model_path, m);
}

SnapshotLayout layout_of(const LocalModel& m, const std::string& fingerprint) {
  SnapshotLayout l;
  l.fingerprint = fingerprint;
  l.n_layer = m.config.n_layer;
  l.kv_dim_k = m.config.kv_dim_k();
  l.kv_dim_v = m.config.kv_dim_v();
  l.type = m.kv().type();
  l.n_ctx = m.kv().n_ctx();
  l.n_vocab = m.config.n_vocab;
  return l;
}

}  // namespace

LocalEndpoint::LocalEndpoint(std::string name, const LocalEndpointOptions& options)
    : name_(std::move(name)),
      options_(normalized(options)),
      model_(load_model(options_)),
      fingerprint_(model_fingerprint(options_.model_path, model_->file)),
      kv_(std::make_unique<KvCacheManager>(model_->kv(), options_.keep_resident)),
      planner_(options_.decode_budget, options_.prefill_budget, options_.n_seq),
      plan_(planner_.make_plan()),
      plan_state_(size_t(options_.n_seq)),
      slots_(size_t(options_.n_seq)),
      snapshots_(layout_of(*model_, fingerprint_), options_.snapshot_dir, options_.max_snapshots) {
  // Logits rows per tick: every decode row plus at most one per prefilling request.
  const int64_t rows = std::min<int64_t>(planner_.max_batch(), options_.decode_budget + options_.n_seq);
  logits_.resize(size_t(rows * model_->config.n_vocab));
  for (auto& s : slots_) s.history.reserve(size_t(n_ctx()));
  snapshots_.load_directory();
  started_ = RuntimeClock::now();
  thread_ = std::thread([this] { loop(); });
}

LocalEndpoint::~LocalEndpoint() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LocalEndpoint::submit(const std::shared_ptr<RunState>& run) {
  const int64_t n = int64_t(run->prompt.size());
  auto refuse = [&](const std::string& why) {
    std::lock_guard lk(stats_mu_);
    stats_.requests_refused++;
    throw Error(fmt::format("endpoint '{}': {}", name_, why));
  };
  if (n == 0) refuse("the prompt is empty");
  if (n >= n_ctx())
    refuse(fmt::format("prompt of {} tokens does not fit the context of {} tokens (one position is needed for "
                       "the first generated token; raise ctx)", n, n_ctx()));
  for (TokenId t : run->prompt)
    if (t < 0 || t >= model_->config.n_vocab)
      refuse(fmt::format("prompt token id {} is outside the vocabulary (0..{})", t, model_->config.n_vocab - 1));
  {
    std::lock_guard lk(mu_);
    if (stop_) refuse("the endpoint is shutting down");
    if (int64_t(queue_.size()) >= options_.max_queue)
      refuse(fmt::format("queue full ({} requests waiting for a sequence); retry later", queue_.size()));
    queue_.push_back(run);
  }
  cv_.notify_all();
}

SnapshotInfo LocalEndpoint::load_snapshot(const std::string& path) {
  std::lock_guard lk(snap_mu_);
  return snapshots_.load_file(path);
}

std::vector<SnapshotInfo> LocalEndpoint::snapshots() const {
  std::lock_guard lk(snap_mu_);
  return snapshots_.list();
}

EndpointStats LocalEndpoint::stats() const {
  std::lock_guard lk(stats_mu_);
  return stats_;
}

std::vector<TickMetrics> LocalEndpoint::recent_ticks(size_t limit) const {
  std::lock_guard lk(stats_mu_);
  return ticks_.recent(limit);
}

void LocalEndpoint::loop() {
  for (;;) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || n_active_ > 0 || !queue_.empty(); });
      if (stop_) break;
      admit_queued();
    }
    if (n_active_ > 0) tick();
  }
  // Shutting down: nothing more will run.
  fail_all(fmt::format("endpoint '{}' was closed", name_));
  std::deque<std::shared_ptr<RunState>> queued;
  {
    std::lock_guard lk(mu_);
    queued.swap(queue_);
  }
  for (auto& run : queued) {
    std::lock_guard lk(run->mu);
    run->response.id = run->id;
    run->response.finish_reason = "error";
    run->response.error = fmt::format("endpoint '{}' was closed before the request ran", name_);
    run->finished = true;
    run->cv.notify_all();
  }
}

void LocalEndpoint::admit_queued() {
  const auto now = RuntimeClock::now();
  for (auto it = queue_.begin(); it != queue_.end();) {
    const std::shared_ptr<RunState>& run = *it;
    if (run->cancel_requested.load(std::memory_order_relaxed)) {
      std::lock_guard lk(run->mu);
      run->response.id = run->id;
      run->response.finish_reason = "cancelled";
      run->response.usage.prompt_tokens = int64_t(run->prompt.size());
      run->response.usage.queue_seconds = run->response.usage.total_seconds = seconds(run->submitted, now);
      run->finished = true;
      run->cv.notify_all();
      it = queue_.erase(it);
      std::lock_guard sl(stats_mu_);
      stats_.requests_cancelled++;
      continue;
    }
    if (n_active_ == int(slots_.size())) break;
    std::optional<KvCacheManager::Lease> lease;
    try {
      std::lock_guard sl(snap_mu_);
      lease = kv_->acquire(run->context_key, run->prompt, &snapshots_);
    } catch (const std::exception& e) {  // a prefix copy or restore failed (a device error on WebGPU)
      std::lock_guard lk(run->mu);
      run->response.id = run->id;
      run->response.finish_reason = "error";
      run->response.error = fmt::format("could not place the request in the KV cache: {}", e.what());
      run->response.usage.prompt_tokens = int64_t(run->prompt.size());
      run->response.usage.queue_seconds = run->response.usage.total_seconds = seconds(run->submitted, now);
      run->finished = true;
      run->cv.notify_all();
      it = queue_.erase(it);
      continue;
    }
    if (!lease) {  // its context is busy with an earlier request: later requests may still go
      ++it;
      continue;
    }
    Slot& s = slots_[size_t(lease->seq)];
    s.run = run;
    s.admitted = admitted_count_++;
    s.pos = lease->reused;
    s.pending = 0;
    s.generated = 0;
    s.sampler.emplace(run->sampling, size_t(model_->config.n_vocab));
    s.detok.emplace(*model_->tokenizer);
    s.stops.emplace(run->stop);
    s.grammar = run->grammar;
    s.history.assign(run->prompt.begin(), run->prompt.end());
    s.out.tokens.clear();
    s.out.text.clear();
    s.admitted_at = now;
    n_active_++;

    Usage& u = run->response.usage;
    u.prompt_tokens = int64_t(run->prompt.size());
    u.cached_tokens = lease->reused;
    u.restored_tokens = lease->restored;
    u.context_hit = lease->context_hit;
    u.queue_seconds = seconds(run->submitted, now);
    run->response.id = run->id;
    run->response.sequence = lease->seq;
    // Sized once here so the ticks that append to them do not reallocate.
    const size_t most = size_t(std::min<int64_t>(run->max_tokens, n_ctx() - int64_t(run->prompt.size())) + 1);
    run->response.tokens.reserve(most);
    run->response.token_ticks.reserve(most);
    {
      std::lock_guard sl(stats_mu_);
      stats_.requests_admitted++;
      stats_.prompt_tokens += uint64_t(run->prompt.size());
      stats_.cached_tokens += uint64_t(lease->reused);
      stats_.context_hits += lease->context_hit ? 1 : 0;
      stats_.evictions += lease->evicted ? 1 : 0;
      stats_.prefix_copies += lease->copied ? 1 : 0;
      stats_.snapshot_restores += lease->restored > 0 ? 1 : 0;
    }
    it = queue_.erase(it);
  }
}

void LocalEndpoint::tick() {
  const auto t0 = RuntimeClock::now();
  const uint64_t index = tick_index_;

  for (size_t i = 0; i < slots_.size(); i++)
    if (slots_[i].run && slots_[i].run->cancel_requested.load(std::memory_order_relaxed)) finish(int(i), "cancelled");

  for (size_t i = 0; i < slots_.size(); i++) {
    const Slot& s = slots_[i];
    SlotPlanState& p = plan_state_[i];
    p.active = s.run != nullptr;
    if (!p.active) continue;
    p.request = s.run->id;
    p.admitted = s.admitted;
    p.seq = int32_t(i);
    p.prompt = &s.run->prompt;
    p.pos = s.pos;
    p.pending = s.pending;
  }
  planner_.plan(plan_state_, plan_);
  if (plan_.n == 0) return;

  try {
    model_->forward(plan_.batch.data(), plan_.n, logits_.data());
  } catch (const std::exception& e) {
    fail_all(fmt::format("forward pass failed: {}", e.what()));
    return;
  }

  const int64_t n_vocab = model_->config.n_vocab;
  int64_t row = 0;
  for (int64_t k = 0; k < plan_.n; k++) {
    const BatchToken& b = plan_.batch[size_t(k)];
    Slot& s = slots_[size_t(b.seq)];
    kv_->append(b.seq, b.token);
    s.pos++;
    if (b.logits) sample(b.seq, &logits_[size_t(row++ * n_vocab)], index);
  }
  for (auto& s : slots_)
    if (s.run) deliver(s);

  TickMetrics m;
  m.index = index;
  m.decode_rows = int32_t(plan_.n_decode);
  m.prefill_rows = int32_t(plan_.n_prefill);
  m.logits_rows = int32_t(plan_.n_logits);
  m.active = n_active_;
  {
    std::lock_guard lk(mu_);
    m.queued = int32_t(queue_.size());
  }
  m.start_seconds = seconds(started_, t0);
  m.seconds = seconds(t0, RuntimeClock::now());
  tick_index_++;
  std::lock_guard lk(stats_mu_);
  stats_.ticks++;
  stats_.decode_rows += uint64_t(plan_.n_decode);
  stats_.prefill_rows += uint64_t(plan_.n_prefill);
  stats_.max_batch = std::max(stats_.max_batch, int32_t(plan_.n));
  stats_.busy_seconds += m.seconds;
  ticks_.record(m);
}

// The logits after a request's last fed token: sample the next one, or end the request.
void LocalEndpoint::sample(int seq, float* logits, uint64_t tick) {
  Slot& s = slots_[size_t(seq)];
  RunState& run = *s.run;
  if (!run.snapshot_scope.empty()) {
    try {
      std::lock_guard lk(snap_mu_);
      run.snapshot = snapshots_.capture(run.snapshot_scope, kv_->tokens(seq), model_->kv(), seq);
    } catch (const std::exception& e) {
      finish(seq, "error", e.what());
      return;
    }
    finish(seq, "length");
    return;
  }
  if (s.generated >= run.max_tokens) {  // max_tokens 0: prefill only (warms a context)
    finish(seq, "length");
    return;
  }
#if HEARTH_HAVE_GRAMMAR
  if (s.grammar) s.grammar->mask_logits(logits, model_->config.n_vocab);
#endif
  const TokenId tok = s.sampler->sample(logits, s.history);
  if (s.generated == 0) {
    s.first_token_at = RuntimeClock::now();
    run.response.usage.ttft_seconds = seconds(run.submitted, s.first_token_at);
  }
#if HEARTH_HAVE_GRAMMAR
  if (s.grammar) {
    try {
      s.grammar->accept(tok);
    } catch (const std::exception& e) {
      finish(seq, "error", fmt::format("grammar: {}", e.what()));
      return;
    }
  }
#endif
  const bool end = model_->tokenizer->is_end_of_generation(tok);
  if (end && (!run.ignore_eos || s.grammar)) {   // a grammar decides where output may end
    finish(seq, "stop");
    return;
  }
  s.generated++;
  s.history.push_back(tok);
  s.out.tokens.push_back(tok);
  run.response.tokens.push_back(tok);
  run.response.token_ticks.push_back(tick);
  const auto piece = s.stops->push(s.detok->push(tok));
  emit_text(s, piece.text);
  bool complete = piece.matched;
#if HEARTH_HAVE_GRAMMAR
  complete = complete || (s.grammar && s.grammar->finished());   // only end-of-generation could follow
#endif
  if (complete) {
    finish(seq, "stop");
    return;
  }
  if (s.generated >= run.max_tokens || s.pos >= n_ctx()) {  // no position left for the next token
    finish(seq, "length");
    return;
  }
  s.pending = tok;
}

void LocalEndpoint::emit_text(Slot& s, const std::string& text) {
  s.out.text += text;
  s.run->response.text += text;
}

void LocalEndpoint::deliver(Slot& s) {
  if (s.out.tokens.empty() && s.out.text.empty()) return;
  RunState& run = *s.run;
  if (run.on_tokens) {
    try {
      run.on_tokens(s.out);
    } catch (...) {
      // A throwing callback ends its own request, never the scheduler.
      run.cancel_requested.store(true, std::memory_order_relaxed);
    }
  }
  {
    std::lock_guard lk(run.mu);
    run.batches.push_back(s.out);
  }
  run.cv.notify_all();
  s.out.tokens.clear();
  s.out.text.clear();
}

void LocalEndpoint::finish(int seq, const char* reason, const std::string& error) {
  Slot& s = slots_[size_t(seq)];
  const std::string r = reason;
  if (r == "length" || r == "cancelled") {  // what the detokenizer and stop matcher still hold
    const auto tail = s.stops->push(s.detok->flush());
    emit_text(s, tail.text);
    if (!tail.matched) emit_text(s, s.stops->flush());
  }
  deliver(s);
  const std::shared_ptr<RunState> run = std::move(s.run);
  s.grammar.reset();
  const auto now = RuntimeClock::now();
  Usage& u = run->response.usage;
  u.completion_tokens = int64_t(run->response.tokens.size());
  if (s.generated > 0) u.decode_seconds = seconds(s.first_token_at, now);
  u.total_seconds = seconds(run->submitted, now);
  if (r == "error") kv_->forget(seq);
  else kv_->release(seq);
  n_active_--;
  {
    std::lock_guard lk(stats_mu_);
    if (r == "cancelled") stats_.requests_cancelled++;
    else stats_.requests_finished++;
  }
  std::lock_guard lk(run->mu);
  run->response.finish_reason = r;
  run->response.error = error;
  run->finished = true;
  run->cv.notify_all();
}

void LocalEndpoint::fail_all(const std::string& error) {
  for (size_t i = 0; i < slots_.size(); i++)
    if (slots_[i].run) finish(int(i), "error", error);
}

}  // namespace hearth
