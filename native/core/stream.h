// stream.h — a device's in-order work queue: ops are enqueued from the JS thread and run, one
// after another, on the stream's own thread, so long work never blocks Node's event loop.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cudnet {

class Backend;

// CUDNET_CUDA_SYNC=1, for debugging: every op waits for its device before the next one starts (and each
// CUDA kernel as it is launched), so that an asynchronous GPU fault is reported by the op, and the
// kernel, that caused it rather than by a later unrelated one. Read once per process; "0" or empty is off.
bool synchronizeEachOp();

// The first failure of a queued op, kept until someone waits on the stream.
struct StreamError {
  std::string code;
  std::string message;
};

class Stream {
 public:
  explicit Stream(Backend& backend);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Queues work. `describe` is called only if the work throws, to name the op and its shapes.
  // After a failure, later work still runs (it may be unrelated), but the error is kept.
  // With synchronizeEachOp(), the work is followed by the backend's synchronize() as part of the op.
  void enqueue(std::function<void()> work, std::function<std::string()> describe);

  // Blocks the calling thread (never the JS thread) until everything queued so far has run.
  // Returns the first error since the last wait and clears it.
  bool waitIdle(StreamError* error);

  // Takes the first error recorded since the last wait, if any.
  bool takeError(StreamError* error);

  // Number of ops queued or running.
  size_t pending() const;

 private:
  void run();

  struct Task {
    std::function<void()> work;
    std::function<std::string()> describe;
  };
  Backend& backend_;
  mutable std::mutex mutex_;
  std::condition_variable hasWork_, idle_;
  std::deque<Task> queue_;
  bool running_ = false, stopping_ = false, failed_ = false;
  StreamError error_;
  std::thread thread_;
};

}  // namespace cudnet
