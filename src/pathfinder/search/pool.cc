// The deterministic thread pool (see pool.h).
#include "pathfinder/search/pool.h"

#include <algorithm>

namespace pf::search {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = threads;
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Drain() {
  std::unique_lock<std::mutex> l(mu_);
  const auto* fn = job_;
  while (next_ < n_) {
    const size_t begin = next_, end = std::min(n_, next_ + chunk_);
    next_ = end;
    l.unlock();
    for (size_t i = begin; i < end; ++i) {
      try {
        (*fn)(i);
      } catch (...) {
        std::lock_guard<std::mutex> g(mu_);
        if (!error_ || i < error_index_) {
          error_ = std::current_exception();
          error_index_ = i;
        }
      }
    }
    l.lock();
  }
}

void ThreadPool::WorkerLoop() {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      wake_.wait(l, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++running_;
    }
    Drain();
    {
      std::lock_guard<std::mutex> l(mu_);
      --running_;
    }
    done_.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    job_ = &fn;
    n_ = n;
    next_ = 0;
    // Chunks small enough to balance uneven point costs, large enough to keep the lock cold.
    chunk_ = std::max<size_t>(1, n / (size_t(threads_) * 16));
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  Drain();
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> l(mu_);
    done_.wait(l, [&] { return running_ == 0 && next_ >= n_; });
    job_ = nullptr;
    err = error_;
    error_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace pf::search
