// search/pool: a fixed set of worker threads that runs `fn(i)` for every i in [0, n).
// Work is handed out dynamically (an atomic counter, small chunks), but each index is
// evaluated exactly once and a caller that writes its result to slot i gets output that
// does not depend on the thread count or on scheduling — the rule every search follows.
//
//   ThreadPool pool(0);  // 0 = all cores
//   std::vector<Evaluation> out(points.size());
//   pool.ParallelFor(points.size(), [&](size_t i) { out[i] = Evaluate(points[i]); });
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pf::search {

class ThreadPool {
 public:
  // `threads` ≤ 0 means std::thread::hardware_concurrency() (at least 1). The calling
  // thread works too, so threads = 1 starts no extra thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Runs fn(i) for each i in [0, n) and returns when all are done. If calls throw, the
  // exception of the lowest index is rethrown (so even failure is deterministic).
  // REQUIRES: not called concurrently from two threads; fn safe to call concurrently.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  void WorkerLoop();
  void Drain();

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t n_ = 0, next_ = 0, chunk_ = 1, running_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
  size_t error_index_ = 0;
  std::exception_ptr error_;
};

}  // namespace pf::search
