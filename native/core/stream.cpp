// stream.cpp — the in-order work queue of a device.
#include "stream.h"

#include <cstdlib>

#include "backend.h"
#include "error.h"

namespace cudnet {

bool synchronizeEachOp() {
  static const bool enabled = [] {
    const char* value = std::getenv("CUDNET_CUDA_SYNC");
    return value != nullptr && *value != '\0' && std::string(value) != "0";
  }();
  return enabled;
}

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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Task{std::move(work), std::move(describe)});
  }
  hasWork_.notify_one();
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
    {
      std::unique_lock<std::mutex> lock(mutex_);
      hasWork_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      task = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    std::string code, message;
    try {
      if (!bindError.empty()) throw Error("DEVICE_ERROR", bindError);
      task.work();
      if (synchronizeEachOp()) backend_.synchronize();  // an asynchronous fault then becomes this op's error
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
