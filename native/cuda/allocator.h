// allocator.h — the caching device allocator: freed blocks are kept by size class and handed out
// again, so a training loop stops calling cuMemAlloc (and stops growing) after its first iteration.
#pragma once
#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "api/driver.h"

namespace cudnet::cuda {

class CachingAllocator {
 public:
  // `makeCurrent` binds the device's context to the calling thread (allocate may run on any thread);
  // `waitForDevice` waits for queued work, before cached blocks go back to the driver.
  CachingAllocator(std::function<void()> makeCurrent, std::function<void()> waitForDevice);
  ~CachingAllocator();
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Thread-safe. Throws Error("OUT_OF_MEMORY") naming the bytes after retrying with an empty cache.
  void* allocate(size_t bytes);
  // Thread-safe; `bytes` is the size given to allocate. The block is reused by later work on the
  // device's single stream, which runs after every op already queued on it.
  void release(void* pointer, size_t bytes);
  size_t cachedBytes() const;
  size_t reservedBytes() const;  // bytes obtained from the driver and not given back (live + cached)
  void emptyCache();

  // The rounded size a request of `bytes` occupies: multiples of 512 B up to 1 MiB, then steps of
  // one eighth of the power of two below (so at most 12.5% is wasted and sizes repeat exactly).
  static size_t sizeClass(size_t bytes);

 private:
  void freeCachedLocked();

  std::function<void()> makeCurrent_;
  std::function<void()> waitForDevice_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<api::CUdeviceptr>> freeBlocks_;  // size class -> blocks
  size_t cachedBytes_ = 0;
  size_t reservedBytes_ = 0;
};

}  // namespace cudnet::cuda
