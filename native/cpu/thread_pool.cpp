// thread_pool.cpp — the CPU backend's worker threads.
#include "thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace cudnet::cpu {

static int defaultThreadCount() {
  if (const char* env = std::getenv("CUDNET_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

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
    size_t task;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= tasks_) return;
      task = next_++;
    }
    try {
      (*body_)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (++finished_ == tasks_) done_.notify_all();
  }
}

void ThreadPool::workerLoop() {
  unsigned seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++busyWorkers_;
    }
    runTasks();
    std::lock_guard<std::mutex> lock(mutex_);
    if (--busyWorkers_ == 0) done_.notify_all();
  }
}

void ThreadPool::parallelFor(size_t tasks, const std::function<void(size_t)>& body) {
  if (tasks == 0) return;
  if (tasks == 1 || workers_.empty()) {
    for (size_t t = 0; t < tasks; ++t) body(t);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    tasks_ = tasks;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  runTasks();
  std::unique_lock<std::mutex> lock(mutex_);
  // Wait for every task, and for every worker to leave runTasks, before body goes out of scope.
  done_.wait(lock, [&] { return finished_ == tasks_ && busyWorkers_ == 0; });
  body_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallelRanges(size_t count, const std::function<void(size_t, size_t, int)>& body) {
  if (count == 0) return;
  size_t ranges = std::min<size_t>(count, static_cast<size_t>(size()));
  parallelFor(ranges, [&](size_t r) {
    size_t begin = count * r / ranges, end = count * (r + 1) / ranges;
    body(begin, end, static_cast<int>(r));
  });
}

}  // namespace cudnet::cpu
