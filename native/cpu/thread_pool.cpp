// thread_pool.cpp — the CPU backend's worker threads.
//
// An op's loop is published as a job (body, task count) and a new generation number. Tasks are
// claimed with one atomic increment each. A worker that finishes a job, and the caller waiting for
// the workers, first spin for a short while (kSpin) before sleeping on a condition variable: LeNet's
// ops follow one another every few microseconds, and a futex sleep and wake costs about as much as a
// small op. The spin is short because the cores are shared with the JS thread and the stream thread.
#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <immintrin.h>

namespace cudnet::cpu {
namespace {

using Clock = std::chrono::steady_clock;

// How long a thread spins on a condition before sleeping. LeNet batch 64 training iterations on 2
// cores (medians of runs paired with the same build without spinning, ~7.2 ms): 10-20 us 6.2 ms,
// 50 us 5.9, 100 us 5.8; AlexNet batch 16 no slower. 50 us covers the gap between most ops.
constexpr std::chrono::microseconds kSpin{50};

// Spins (with pause) until ready() or kSpin has passed; returns ready(). Between rounds of pauses the
// thread yields, so when the cores are oversubscribed (other processes, or the JS thread waiting for
// a core) the spin hands its core to whoever can run; on a quiet machine yield returns at once.
template <typename Ready>
bool spinUntil(Ready ready) {
  if (ready()) return true;
  const auto deadline = Clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      _mm_pause();
      if (ready()) return true;
    }
    if (Clock::now() >= deadline) return ready();
    std::this_thread::yield();
  }
}

int defaultThreadCount() {
  if (const char* env = std::getenv("CUDNET_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  int total = threads > 0 ? threads : defaultThreadCount();
  for (int i = 1; i < total; ++i) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes tasks one at a time until none are left; records the first exception.
void ThreadPool::runTasks() {
  for (;;) {
    size_t task = next_.fetch_add(1, std::memory_order_relaxed);
    if (task >= tasks_) return;
    try {
      (*body_)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    finished_.fetch_add(1, std::memory_order_acq_rel);
  }
}

// Waits (spinning, then sleeping) for a generation after *seen that still has unclaimed tasks, and
// joins it. Returns false when the pool is stopping.
bool ThreadPool::waitForJob(unsigned* seen) {
  for (;;) {
    spinUntil([&] { return generation_.load(std::memory_order_acquire) != *seen || stopping_.load(); });
    std::unique_lock<std::mutex> lock(mutex_);
    if (generation_.load() == *seen && !stopping_) {
      ++sleepingWorkers_;
      wake_.wait(lock, [&] { return generation_.load() != *seen || stopping_; });
      --sleepingWorkers_;
    }
    if (stopping_) return false;
    *seen = generation_.load();
    // The caller may already have run every task of this generation and returned: then there is
    // nothing to join, and body_ may be gone.
    if (next_.load() < tasks_) {
      busyWorkers_.fetch_add(1);
      return true;
    }
  }
}

void ThreadPool::workerLoop() {
  unsigned seen = 0;
  while (waitForJob(&seen)) {
    runTasks();
    if (busyWorkers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (callerSleeping_) done_.notify_all();
    }
  }
}

// Waits until every task has finished and every worker has left runTasks (body must outlive them).
void ThreadPool::waitForWorkers() {
  auto allDone = [&] {
    return finished_.load(std::memory_order_acquire) == tasks_ && busyWorkers_.load(std::memory_order_acquire) == 0;
  };
  if (spinUntil(allDone)) return;
  std::unique_lock<std::mutex> lock(mutex_);
  callerSleeping_ = true;
  done_.wait(lock, allDone);
  callerSleeping_ = false;
}

void ThreadPool::parallelFor(size_t tasks, const std::function<void(size_t)>& body) {
  if (tasks == 0) return;
  if (tasks == 1 || workers_.empty()) {
    for (size_t t = 0; t < tasks; ++t) body(t);
    return;
  }
  bool wakeSleepers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    tasks_ = tasks;
    next_.store(0);
    finished_.store(0);
    error_ = nullptr;
    generation_.fetch_add(1, std::memory_order_release);
    wakeSleepers = sleepingWorkers_ > 0;
  }
  if (wakeSleepers) wake_.notify_all();
  runTasks();
  waitForWorkers();
  std::lock_guard<std::mutex> lock(mutex_);
  body_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallelRanges(size_t count, const std::function<void(size_t, size_t, int)>& body,
                                size_t minPerRange) {
  if (count == 0) return;
  size_t ranges = std::min<size_t>(count, static_cast<size_t>(size()));
  if (minPerRange > 0) ranges = std::max<size_t>(1, std::min(ranges, count / minPerRange));
  if (ranges == 1) return body(0, count, 0);
  parallelFor(ranges, [&](size_t r) {
    size_t begin = count * r / ranges, end = count * (r + 1) / ranges;
    body(begin, end, static_cast<int>(r));
  });
}

}  // namespace cudnet::cpu
