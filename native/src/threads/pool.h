// A persistent thread pool: run(fn) calls fn(ith, nth) on nth threads (the caller is
// thread 0) and returns when all are done; barrier() inside fn syncs them (ggml style).
//
// Work is always split by output (rows or columns of what is written), never by a
// reduction, so results are bitwise identical for any thread count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace frnn {

// A reusable spin barrier for n threads (every participant passes the same n).
class Barrier {
 public:
  void wait(int n);

 private:
  std::atomic<int> arrived_{0};
  std::atomic<uint64_t> generation_{0};
};

class ThreadPool {
 public:
  using Task = std::function<void(int ith, int nth)>;

  // The process-wide pool, grown on demand to num_threads() - 1 workers.
  static ThreadPool& instance();
  ~ThreadPool();

  // Runs task on up to `nth` threads. Only one run is active at a time: a caller that
  // finds the pool busy (another layer on another thread) runs the task alone, which
  // gives the same bits.
  void run(int nth, const Task& task);

  // The barrier of all threads of the current run.
  Barrier& barrier() { return barrier_; }
  // How many threads run(nth, ...) would use (at most the cores).
  static int usable_threads(int nth);

 private:
  ThreadPool() = default;
  void grow(int workers);
  void worker_loop(int ith);
  void wait_for_work(uint64_t seen);

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one run at a time
  // Current run, published by a bump of generation_.
  const Task* task_ = nullptr;
  int nth_ = 1;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  Barrier barrier_;
  // Idle workers sleep here after spinning for a while.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

// Column splits are multiples of this (a multiple of every micro-kernel's NR), so each
// thread's columns start on a packed-panel boundary.
constexpr size_t kSplitAlign = 32;

// This thread's share of a parallel region: its index among the nth threads that share
// the work (a whole run, or a group of it) and their barrier.
struct Par {
  Barrier* group = nullptr;
  int ith = 0, nth = 1;
  void barrier() const {
    if (nth > 1) group->wait(nth);
  }
  // [begin, end) of n items for this thread, chunks aligned to `align`.
  void range(size_t n, size_t align, size_t* begin, size_t* end) const;
};

// [begin, end) of `n` items for thread ith of nth, in chunks that are multiples of `align`
// (the last chunk takes the remainder).
inline void split_range(size_t n, size_t align, int ith, int nth, size_t* begin, size_t* end) {
  const size_t units = (n + align - 1) / align;
  const size_t per = units / nth, extra = units % nth;
  const size_t u0 = ith * per + (static_cast<size_t>(ith) < extra ? ith : extra);
  const size_t u1 = u0 + per + (static_cast<size_t>(ith) < extra ? 1 : 0);
  *begin = u0 * align < n ? u0 * align : n;
  *end = u1 * align < n ? u1 * align : n;
}

inline void Par::range(size_t n, size_t align, size_t* begin, size_t* end) const {
  split_range(n, align, ith, nth, begin, end);
}

}  // namespace frnn
