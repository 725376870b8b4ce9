#pragma once
// A fixed pool of worker threads for data-parallel kernels. Workers spin briefly between jobs (a token
// step issues hundreds of small jobs; a condition-variable wake per job would dominate) and then sleep.
#include <cstdint>
#include <functional>

namespace hearth::cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);   // n_threads >= 1; the calling thread is one of them
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  // Runs fn(thread_index, n_threads) on every thread (the caller is thread 0) and returns when all are
  // done. fn splits the work itself; no allocation per call.
  void run(const std::function<void(int, int)>& fn);
  // Convenience: calls fn(begin, end) over [0, n) split into contiguous chunks, one per thread.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace hearth::cpu
