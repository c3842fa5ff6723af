// stream.cpp — the in-order work queue of a device, and how a failed op's error follows its outputs.
#include "stream.h"

#include <algorithm>
#include <cstdlib>
#include <future>

#include "backend.h"
#include "device.h"
#include "error.h"

namespace cudnet {

bool synchronizeEachOp() {
  static const bool enabled = [] {
    const char* value = std::getenv("CUDNET_CUDA_SYNC");
    return value != nullptr && *value != '\0' && std::string(value) != "0";
  }();
  return enabled;
}

namespace {

bool overlaps(const BufferFailure& failure, const BufferUse& use) {
  return failure.error && use.begin < failure.end && failure.begin < use.end;
}

// The failure a task inherits: that of the first range it reads which a failed op was to write.
std::shared_ptr<const StreamError> inheritedFailure(const std::vector<BufferUse>& uses) {
  for (const BufferUse& use : uses) {
    if (use.access != Access::Write && overlaps(use.buffer->failure, use)) return use.buffer->failure.error;
  }
  return nullptr;
}

// A failed task leaves its error on every range it was to write (joined to what is already there).
void markFailed(BufferFailure& failure, const BufferUse& use, const std::shared_ptr<const StreamError>& error) {
  if (use.begin >= use.end) return;
  if (failure.error) {
    failure.begin = std::min(failure.begin, use.begin);
    failure.end = std::max(failure.end, use.end);
  } else {
    failure.begin = use.begin;
    failure.end = use.end;
  }
  failure.error = error;
}

// A successful write clears what it overwrote: all of the failed range, or a prefix or suffix of it.
void markWritten(BufferFailure& failure, const BufferUse& use) {
  if (!failure.error || use.access != Access::Write) return;
  if (use.begin <= failure.begin && use.end >= failure.end) failure = BufferFailure{};
  else if (use.begin <= failure.begin && use.end > failure.begin) failure.begin = use.end;
  else if (use.end >= failure.end && use.begin < failure.end) failure.end = use.begin;
}

void recordOutcome(const std::vector<BufferUse>& uses, const std::shared_ptr<const StreamError>& error) {
  for (const BufferUse& use : uses) {
    if (use.access == Access::Read) continue;
    if (error) markFailed(use.buffer->failure, use, error);
    else markWritten(use.buffer->failure, use);
  }
}

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

void Stream::enqueue(StreamTask task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  hasWork_.notify_one();
}

void Stream::enqueue(std::function<void()> work, std::function<std::string()> describe) {
  enqueue(StreamTask{std::move(work), std::move(describe), {}, nullptr});
}

bool Stream::runAndWait(StreamTask task, StreamError* error) {
  auto outcome = std::make_shared<std::promise<std::shared_ptr<const StreamError>>>();
  std::future<std::shared_ptr<const StreamError>> finished = outcome->get_future();
  task.done = [outcome](const StreamError* failure) {
    outcome->set_value(failure ? std::make_shared<const StreamError>(*failure) : nullptr);
  };
  enqueue(std::move(task));
  std::shared_ptr<const StreamError> failure = finished.get();
  if (!failure) return true;
  if (error) *error = *failure;
  return false;
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

void Stream::recordFirstFailure(const StreamError& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failed_) return;
  failed_ = true;
  error_ = error;
}

// Runs one task on the stream thread unless it reads a failed op's output; returns its error or null.
std::shared_ptr<const StreamError> Stream::execute(StreamTask& task, const std::string& bindError) {
  if (auto inherited = inheritedFailure(task.uses)) return inherited;
  std::string code, message;
  try {
    if (!bindError.empty()) throw Error("DEVICE_ERROR", bindError);
    task.work();
    if (synchronizeEachOp()) backend_.synchronize();  // an asynchronous fault then becomes this op's error
    return nullptr;
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
  std::string where = task.describe ? task.describe() : std::string("an op");
  auto failure = std::make_shared<const StreamError>(StreamError{code, where + ": " + message});
  recordFirstFailure(*failure);
  return failure;
}

void Stream::run() {
  std::string bindError;
  try {
    backend_.bindToCurrentThread();
  } catch (const std::exception& e) {
    bindError = e.what();
  }
  for (;;) {
    StreamTask task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      hasWork_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      task = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    std::shared_ptr<const StreamError> failure = execute(task, bindError);
    recordOutcome(task.uses, failure);
    // Drop the buffers the task held before it reports, so a dispose() right after a read frees the
    // memory at once.
    auto done = std::move(task.done);
    task = StreamTask{};
    if (done) done(failure.get());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = false;
      if (queue_.empty()) idle_.notify_all();
    }
  }
}

}  // namespace cudnet
