// stream.h — a device's in-order work queue: ops are enqueued from the JS thread and run, one
// after another, on the stream's own thread, so long work never blocks Node's event loop.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cudnet {

class Backend;
class Buffer;

// CUDNET_CUDA_SYNC=1, for debugging: every op waits for its device before the next one starts (and each
// CUDA kernel as it is launched), so that an asynchronous GPU fault is reported by the op, and the
// kernel, that caused it rather than by a later unrelated one. Read once per process; "0" or empty is off.
bool synchronizeEachOp();

// The failure of a queued op: its stable code and "<op and shapes>: <reason>".
struct StreamError {
  std::string code;
  std::string message;
};

// How a task uses the elements [begin, end) of a buffer. Write: every element of the range is
// overwritten without being read. Update: the range is read, then written (accumulation, a partial
// or strided write, an output that is also an input).
enum class Access { Read, Write, Update };

struct BufferUse {
  std::shared_ptr<Buffer> buffer;
  size_t begin = 0, end = 0;
  Access access = Access::Read;
};

// What a failed op leaves in the buffers it was to write: the error, over the hull [begin, end) of the
// ranges no successful op has overwritten since. A task that reads an overlapping range does not run;
// it fails with the same error and passes it on to what it was to write. Touched only on the stream
// thread of the buffer's device, so it needs no lock.
struct BufferFailure {
  std::shared_ptr<const StreamError> error;
  size_t begin = 0, end = 0;
};

// One unit of queued work.
struct StreamTask {
  std::function<void()> work;
  // Called only if the task fails, to name the op and its shapes.
  std::function<std::string()> describe;
  // The buffers the work reads and writes: they are kept alive until it has run, and they carry
  // failures from op to op (see BufferFailure).
  std::vector<BufferUse> uses;
  // Called on the stream thread after the task has run and let go of its buffers, with its error
  // (its own, or the one it inherited from a failed op whose output it reads), or null.
  std::function<void(const StreamError*)> done;
};

class Stream {
 public:
  explicit Stream(Backend& backend);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Queues a task. A failure is the failure of this task and of the tasks that read what it wrote;
  // later work that does not depend on it runs as usual. With synchronizeEachOp(), the work is
  // followed by the backend's synchronize() as part of the task.
  void enqueue(StreamTask task);
  // Queues work that uses no tensor's buffer (a benchmark, a setting).
  void enqueue(std::function<void()> work, std::function<std::string()> describe);

  // Queues a task and blocks the calling thread (never the JS thread) until it has run. Returns false,
  // with the task's own error in `error`, if it failed; failures of unrelated tasks do not count.
  bool runAndWait(StreamTask task, StreamError* error);

  // Blocks the calling thread (never the JS thread) until everything queued so far has run.
  // Returns the first failure of any task since the last wait and clears it (a device-wide wait
  // reports whatever went wrong on the device; a task that only inherited a failure adds nothing).
  bool waitIdle(StreamError* error);

  // Number of ops queued or running.
  size_t pending() const;

 private:
  void run();
  std::shared_ptr<const StreamError> execute(StreamTask& task, const std::string& bindError);
  void recordFirstFailure(const StreamError& error);

  Backend& backend_;
  mutable std::mutex mutex_;
  std::condition_variable hasWork_, idle_;
  std::deque<StreamTask> queue_;
  bool running_ = false, stopping_ = false, failed_ = false;
  StreamError error_;
  std::thread thread_;
};

}  // namespace cudnet
