// cuda_on_host.h — just enough of CUDA for g++ to compile kernels/*.cu unchanged and run them on the CPU,
// so every kernel is checked without a GPU (test/native/*_on_host.cpp, run by
// test/cuda/kernels-on-host.test.ts).
//
// How a launch of B blocks x T threads runs: the blocks one after another, the T threads of a block as
// real std::threads (a team started once and reused) meeting at one barrier for __syncthreads.
// __shared__ becomes `static`: every __shared__ array is declared inside a kernel (or a function it
// calls), so a function-local static is one array for all threads running that function, and because
// blocks never overlap it is exactly one block's shared memory. (`static thread_local` would be wrong:
// one array per thread.) C++17 and Linux (futexes), as the addon; include this before the .cu files.
#pragma once
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cfloat>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <map>
#include <math.h>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct HostDim3 {
  unsigned x = 0, y = 0, z = 0;
};

// Each emulated thread sets its own coordinates before it enters the kernel.
inline thread_local HostDim3 threadIdx, blockIdx, blockDim, gridDim;

namespace cuda_on_host {

// __syncthreads for one block: every thread still running waits until all of them have arrived. A thread
// that returns from the kernel leaves, so the others are not held for it (as on a GPU, where exited
// threads no longer count at a barrier). Arrivals are counted under a mutex; waiting is on a Linux futex
// of the round number, so a release wakes the whole block at once, outside the mutex (a condition
// variable would hand the mutex to 256 threads one by one at every __syncthreads, twice the run time).
class BlockBarrier {
 public:
  explicit BlockBarrier(unsigned threads) : expected_(threads) {}

  void arriveAndWait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++arrived_;
    const int round = round_.load();
    if (isComplete()) return release(lock);
    lock.unlock();
    while (round_.load() == round) futex(FUTEX_WAIT_PRIVATE, round);  // sleeps only while still `round`
  }

  void leave() {
    std::unique_lock<std::mutex> lock(mutex_);
    --expected_;
    if (isComplete()) release(lock);
  }

 private:
  bool isComplete() const { return arrived_ > 0 && arrived_ >= expected_; }

  // The round moves on under the mutex (a thread arriving next sees the new one); the wake-up comes after.
  void release(std::unique_lock<std::mutex>& lock) {
    arrived_ = 0;
    round_.fetch_add(1);
    lock.unlock();
    futex(FUTEX_WAKE_PRIVATE, INT_MAX);
  }

  void futex(int operation, int value) {
    syscall(SYS_futex, reinterpret_cast<int*>(&round_), operation, value, nullptr, nullptr, 0);
  }

  std::mutex mutex_;
  unsigned expected_, arrived_ = 0;
  std::atomic<int> round_{0};
  static_assert(sizeof(std::atomic<int>) == sizeof(int), "the futex word is the atomic's int");
};

// The barrier of the block now running (blocks run one at a time, so one pointer serves all threads).
inline BlockBarrier* currentBarrier = nullptr;

}  // namespace cuda_on_host

inline void __syncthreads() { cuda_on_host::currentBarrier->arriveAndWait(); }

// CUDA's integer and floating-point min/max overloads (the kernels call them unqualified).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

namespace cuda_on_host {

// The threads of one block, started once and reused for every block of every launch (starting 256
// threads per block would cost more than the kernels). run() hands each thread its index and returns
// when all have finished. A condition variable suits the start, unlike BlockBarrier's futex: threads
// woken one by one mostly finish their share of a grid-stride loop before the next one runs, which on
// two cores measured twice as fast as waking the whole block at once.
class BlockTeam {
 public:
  explicit BlockTeam(unsigned size) {
    for (unsigned index = 0; index < size; ++index) members_.emplace_back([this, index] { serve(index); });
  }
  ~BlockTeam() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    start_.notify_all();
    for (std::thread& member : members_) member.join();
  }
  BlockTeam(const BlockTeam&) = delete;
  BlockTeam& operator=(const BlockTeam&) = delete;

  void run(const std::function<void(unsigned)>& job) {
    std::unique_lock<std::mutex> lock(mutex_);
    job_ = &job;
    running_ = static_cast<unsigned>(members_.size());
    ++round_;
    start_.notify_all();
    finished_.wait(lock, [&] { return running_ == 0; });
    job_ = nullptr;
  }

 private:
  void serve(unsigned index) {
    unsigned long long seen = 0;
    for (;;) {
      const std::function<void(unsigned)>* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return stopping_ || round_ != seen; });
        if (stopping_) return;
        seen = round_;
        job = job_;
      }
      (*job)(index);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--running_ == 0) finished_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, finished_;
  const std::function<void(unsigned)>* job_ = nullptr;
  unsigned long long round_ = 0;
  unsigned running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> members_;  // last, so the rest exists before the threads start
};

// One team per block size, kept for the program's life.
inline BlockTeam& teamOf(unsigned threads) {
  static std::map<unsigned, std::unique_ptr<BlockTeam>> teams;
  std::unique_ptr<BlockTeam>& team = teams[threads];
  if (!team) team = std::make_unique<BlockTeam>(threads);
  return *team;
}

// Runs kernel<<<blocks, threads>>>(arguments...) and returns when every thread has finished. The
// argument types must be exactly the kernel's parameter types, as for cuLaunchKernel, which copies
// each argument by the size the kernel image says (native/cuda/kernels.h).
template <typename... Parameters, typename... Arguments>
void launch(void (*kernel)(Parameters...), unsigned blocks, unsigned threads, Arguments... arguments) {
  static_assert(std::is_same_v<std::tuple<Parameters...>, std::tuple<Arguments...>>,
                "launch arguments must have exactly the kernel's parameter types");
  BlockTeam& team = teamOf(threads);
  for (unsigned block = 0; block < blocks; ++block) {
    BlockBarrier barrier(threads);
    currentBarrier = &barrier;
    team.run([&](unsigned thread) {
      threadIdx = {thread, 0, 0};
      blockIdx = {block, 0, 0};
      blockDim = {threads, 1, 1};
      gridDim = {blocks, 1, 1};
      kernel(arguments...);
      barrier.leave();
    });
    currentBarrier = nullptr;
  }
}

}  // namespace cuda_on_host
