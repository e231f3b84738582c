// Thread count setting and the persistent pool.
#include "threads/pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "fused_rnn.h"

namespace frnn {
namespace {

int initial_threads() {
  const char* env = std::getenv("FUSED_RNN_NUM_THREADS");
  const int n = env && *env ? std::atoi(env) : 1;
  return std::clamp(n, 1, 256);
}

std::atomic<int> g_threads{initial_threads()};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

// Spin this long before yielding (barrier) or sleeping (idle worker): a time step of a
// small layer takes microseconds, a futex wake-up about as long.
constexpr int kSpinsBeforeYield = 2000;
constexpr auto kIdleSpin = std::chrono::microseconds(200);

}  // namespace

void set_num_threads(int n) { g_threads = std::clamp(n, 1, 256); }
int num_threads() { return g_threads; }

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::~ThreadPool() {
  stop_ = true;
  generation_.fetch_add(1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::grow(int workers) {
  while (static_cast<int>(workers_.size()) < workers) {
    const int ith = static_cast<int>(workers_.size()) + 1;
    workers_.emplace_back([this, ith] { worker_loop(ith); });
  }
}

int ThreadPool::usable_threads(int nth) {
  // More threads than cores only adds spinning at barriers (measured: a small 2-layer
  // LSTM forward takes 0.5 ms with 2 threads, 3.4 ms with 3, on 2 cores).
  static const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::clamp(nth, 1, cores);
}

void ThreadPool::run(int nth, const Task& task) {
  nth = usable_threads(nth);
  if (nth == 1) {
    task(0, 1);
    return;
  }
  std::unique_lock<std::mutex> lock(run_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {  // busy with another layer's run: same bits on one thread
    task(0, 1);
    return;
  }
  grow(nth - 1);
  task_ = &task;
  nth_ = nth;
  pending_.store(nth - 1, std::memory_order_relaxed);
  generation_.fetch_add(1);  // seq_cst: pairs with the sleepers_ check below (no lost wake-up)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> guard(sleep_mutex_);
    wake_.notify_all();
  }
  task(0, nth);
  for (int spins = 0; pending_.load(std::memory_order_acquire) > 0; ++spins) {
    if (spins < kSpinsBeforeYield)
      cpu_relax();
    else
      std::this_thread::yield();
  }
  task_ = nullptr;
}

void Barrier::wait(int n) {
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == n - 1) {
    arrived_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    return;
  }
  for (int spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
    if (spins < kSpinsBeforeYield)
      cpu_relax();
    else
      std::this_thread::yield();
  }
}

void ThreadPool::wait_for_work(uint64_t seen) {
  const auto spin_until = std::chrono::steady_clock::now() + kIdleSpin;
  while (generation_.load(std::memory_order_acquire) == seen) {
    if (std::chrono::steady_clock::now() < spin_until) {
      cpu_relax();
      continue;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    sleepers_.fetch_add(1);  // seq_cst, see run()
    wake_.wait(lock, [&] { return generation_.load() != seen; });
    sleepers_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop(int ith) {
  uint64_t seen = 0;
  for (;;) {
    wait_for_work(seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_) return;
    if (ith < nth_) {
      (*task_)(ith, nth_);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
}

}  // namespace frnn
