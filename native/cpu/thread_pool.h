// thread_pool.h — a fixed pool of worker threads that splits a loop over all cores.
// Only the CPU backend's stream thread calls parallelFor, so calls never overlap.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cudnet::cpu {

class ThreadPool {
 public:
  // threads = total threads including the caller; 0 means the number of cores
  // (or CUDNET_NUM_THREADS when set).
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls body(task) for task in [0, tasks), spread over the threads; the calling thread
  // takes part. Returns when all tasks are done. Exceptions from body are rethrown here.
  void parallelFor(size_t tasks, const std::function<void(size_t task)>& body);

  // Splits [0, count) into at most size() contiguous ranges: body(begin, end, rangeIndex).
  void parallelRanges(size_t count, const std::function<void(size_t begin, size_t end, int range)>& body);

 private:
  void workerLoop();
  void runTasks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t tasks_ = 0, next_ = 0, finished_ = 0;
  unsigned generation_ = 0;
  int busyWorkers_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace cudnet::cpu
