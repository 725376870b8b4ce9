// Workers wait for a new job generation: first spinning with pause instructions (a decode step issues
// hundreds of short jobs back to back), then sleeping on a condition variable so an idle pool costs nothing.
#include "backend/cpu/thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "hearth/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace hearth::cpu {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// How long a worker spins for the next job before sleeping. Long enough to bridge the gap between the
// matmuls of one layer, short enough not to burn a shared core.
constexpr auto kSpinTime = std::chrono::microseconds(20);

}  // namespace

struct ThreadPool::Impl {
  int n_threads = 1;
  std::vector<std::thread> workers;
  const std::function<void(int, int)>* job = nullptr;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable wake;

  void worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation.load(std::memory_order_acquire);
      if (g == seen) {
        const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
        int spins = 0;
        while ((g = generation.load(std::memory_order_acquire)) == seen) {
          cpu_relax();
          if (++spins % 64 == 0 && std::chrono::steady_clock::now() > deadline) break;
        }
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mutex);
        sleepers.fetch_add(1);
        wake.wait(lock, [&] { return generation.load() != seen || stop.load(); });
        sleepers.fetch_sub(1);
        g = generation.load();
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = g;
      (*job)(index, n_threads);
      pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
};

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl) {
  if (n_threads < 1) {
    delete impl_;
    throw Error("ThreadPool: thread count must be at least 1, got " + std::to_string(n_threads));
  }
  impl_->n_threads = n_threads;
  impl_->workers.reserve(n_threads - 1);
  for (int i = 1; i < n_threads; ++i) impl_->workers.emplace_back([this, i] { impl_->worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop.store(true);
    impl_->generation.fetch_add(1);
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->workers) t.join();
  delete impl_;
}

int ThreadPool::size() const { return impl_->n_threads; }

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  Impl& p = *impl_;
  if (p.n_threads == 1) {
    fn(0, 1);
    return;
  }
  p.job = &fn;
  p.pending.store(p.n_threads - 1, std::memory_order_relaxed);
  p.generation.fetch_add(1);  // seq_cst: ordered before the sleepers check below
  if (p.sleepers.load() > 0) {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.wake.notify_all();
  }
  fn(0, p.n_threads);
  // On an oversubscribed machine a worker may be descheduled; yield instead of burning our time slice.
  for (int spins = 0; p.pending.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < 4096) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  run([&](int i, int nt) {
    const int64_t begin = n * i / nt;
    const int64_t end = n * (i + 1) / nt;
    if (begin < end) fn(begin, end);
  });
}

}  // namespace hearth::cpu
