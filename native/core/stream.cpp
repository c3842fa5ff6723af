// stream.cpp — the in-order work queue of a device.
#include "stream.h"

#include <chrono>
#include <cstdlib>

#include "backend.h"
#include "error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CUDNET_PAUSE() _mm_pause()
#else
#define CUDNET_PAUSE() std::this_thread::yield()
#endif

namespace cudnet {
namespace {

// How long the stream's thread, having emptied its queue, watches for new work before sleeping:
// the JS thread queues a layer's ops a few microseconds apart, and a futex sleep and wake costs
// more than that. Short, because the machine's cores are shared with the JS thread.
std::chrono::microseconds spinDuration() {
  if (const char* env = std::getenv("CUDNET_STREAM_SPIN_US")) return std::chrono::microseconds(std::atoi(env));
  return std::chrono::microseconds(20);
}
const std::chrono::microseconds kSpin = spinDuration();

}  // namespace

Stream::Stream(Backend& backend) : backend_(backend), thread_([this] { run(); }) {}

Stream::~Stream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  hasWork_.notify_all();
  thread_.join();
}

void Stream::enqueue(std::function<void()> work, std::function<std::string()> describe) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Task{std::move(work), std::move(describe)});
    queued_.store(queue_.size(), std::memory_order_release);
    wake = sleeping_;
  }
  if (wake) hasWork_.notify_one();
}

size_t Stream::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + (running_ ? 1 : 0);
}

bool Stream::waitIdle(StreamError* error) {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return queue_.empty() && !running_; });
  if (!failed_) return true;
  if (error) *error = error_;
  failed_ = false;
  error_ = StreamError{};
  return false;
}

bool Stream::takeError(StreamError* error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!failed_) return false;
  if (error) *error = error_;
  failed_ = false;
  error_ = StreamError{};
  return true;
}

void Stream::run() {
  std::string bindError;
  try {
    backend_.bindToCurrentThread();
  } catch (const std::exception& e) {
    bindError = e.what();
  }
  for (;;) {
    Task task;
    if (queued_.load(std::memory_order_acquire) == 0 && kSpin.count() > 0) {
      const auto deadline = std::chrono::steady_clock::now() + kSpin;
      while (queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline)
        for (int i = 0; i < 32; ++i) CUDNET_PAUSE();
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_ = true;
      hasWork_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      sleeping_ = false;
      if (queue_.empty()) return;  // stopping, and everything queued has run
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_release);
      running_ = true;
    }
    std::string code, message;
    try {
      if (!bindError.empty()) throw Error("DEVICE_ERROR", bindError);
      task.work();
    } catch (const Error& e) {
      code = e.code();
      message = e.what();
    } catch (const std::bad_alloc&) {
      code = "OUT_OF_MEMORY";
      message = "host memory exhausted";
    } catch (const std::exception& e) {
      code = "NATIVE_ERROR";
      message = e.what();
    }
    if (!code.empty()) {
      std::string where = task.describe ? task.describe() : std::string("an op");
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failed_) {
        failed_ = true;
        error_ = StreamError{code, where + ": " + message};
      }
    }
    task = Task{};  // drop the buffers the op held before reporting idle
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
  }
}

}  // namespace cudnet
