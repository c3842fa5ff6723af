// thread_pool.h — a fixed pool of worker threads that splits a loop over all cores.
// Only the CPU backend's stream thread calls parallelFor, so calls never overlap.
#pragma once
#include <atomic>
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
  // With minPerRange > 0 a range is never shorter than minPerRange elements (so a small count runs
  // on the calling thread alone, without waking a worker).
  void parallelRanges(size_t count, const std::function<void(size_t begin, size_t end, int range)>& body,
                      size_t minPerRange = 0);

 private:
  void workerLoop();
  bool waitForJob(unsigned* seen);
  void runTasks();
  void waitForWorkers();

  std::vector<std::thread> workers_;
  // The job: written under mutex_ before generation_ changes; a worker joins it (busyWorkers_) under
  // mutex_ only while it has unclaimed tasks, so a job is never replaced under a worker's feet.
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t tasks_ = 0;
  std::atomic<size_t> next_{0}, finished_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<int> busyWorkers_{0};
  int sleepingWorkers_ = 0;     // under mutex_
  bool callerSleeping_ = false;  // under mutex_
  std::atomic<bool> stopping_{false};
  std::exception_ptr error_;  // under mutex_
};

}  // namespace cudnet::cpu
