// allocator.cpp — size classes, reuse of freed blocks, and the empty-cache-and-retry path on OOM.
#include "allocator.h"

#include <string>

#include "loader.h"
#include "status.h"

namespace cudnet::cuda {

size_t CachingAllocator::sizeClass(size_t bytes) {
  constexpr size_t smallStep = 512;
  constexpr size_t largeThreshold = size_t(1) << 20;
  if (bytes <= largeThreshold) return (bytes + smallStep - 1) / smallStep * smallStep;
  size_t power = largeThreshold;
  while (power * 2 <= bytes) power *= 2;
  size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

CachingAllocator::CachingAllocator(std::function<void()> makeCurrent, std::function<void()> waitForDevice)
    : makeCurrent_(std::move(makeCurrent)), waitForDevice_(std::move(waitForDevice)) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mutex_);
  freeCachedLocked();
}

void* CachingAllocator::allocate(size_t bytes) {
  if (bytes == 0) bytes = 1;  // cuMemAlloc rejects 0; the interface promises a pointer
  const size_t rounded = sizeClass(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = freeBlocks_.find(rounded);
  if (found != freeBlocks_.end() && !found->second.empty()) {
    api::CUdeviceptr block = found->second.back();
    found->second.pop_back();
    cachedBytes_ -= rounded;
    return reinterpret_cast<void*>(static_cast<uintptr_t>(block));
  }
  const api::DriverApi& driver = libraries().driver;
  makeCurrent_();
  api::CUdeviceptr block = 0;
  api::CUresult result = driver.cuMemAlloc_v2(&block, rounded);
  if (result == api::CUDA_ERROR_OUT_OF_MEMORY && cachedBytes_ > 0) {
    freeCachedLocked();
    result = driver.cuMemAlloc_v2(&block, rounded);
  }
  if (result == api::CUDA_ERROR_OUT_OF_MEMORY) {
    size_t freeBytes = 0, totalBytes = 0;
    // The free figure only explains the error; when the driver cannot give it, the message says so.
    const bool known = driver.cuMemGetInfo_v2(&freeBytes, &totalBytes) == api::CUDA_SUCCESS;
    throw Error("OUT_OF_MEMORY", "CUDA device out of memory allocating " + std::to_string(bytes) + " bytes (" +
                                     std::to_string(reservedBytes_) + " bytes held by cudnet, " +
                                     (known ? std::to_string(freeBytes) + " of " + std::to_string(totalBytes) +
                                                  " bytes free on the device)"
                                            : std::string("the driver did not say how much is free)")));
  }
  checkDriver(result, [&] { return "cuMemAlloc of " + std::to_string(rounded) + " bytes"; });
  reservedBytes_ += rounded;
  return reinterpret_cast<void*>(static_cast<uintptr_t>(block));
}

void CachingAllocator::release(void* pointer, size_t bytes) {
  if (pointer == nullptr) return;
  if (bytes == 0) bytes = 1;
  const size_t rounded = sizeClass(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  freeBlocks_[rounded].push_back(static_cast<api::CUdeviceptr>(reinterpret_cast<uintptr_t>(pointer)));
  cachedBytes_ += rounded;
}

size_t CachingAllocator::cachedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cachedBytes_;
}

size_t CachingAllocator::reservedBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reservedBytes_;
}

void CachingAllocator::emptyCache() {
  std::lock_guard<std::mutex> lock(mutex_);
  freeCachedLocked();
}

// Queued work may still read a cached block (release is stream-ordered), so wait for the device
// before handing blocks back to the driver. Errors here are ignored: this also runs in destructors.
void CachingAllocator::freeCachedLocked() {
  if (cachedBytes_ == 0) return;
  const api::DriverApi& driver = libraries().driver;
  try {
    makeCurrent_();
    waitForDevice_();
  } catch (const std::exception&) {
    // A failed device (sticky error) cannot run the queued work anyway; free the blocks regardless.
  }
  for (auto& [size, blocks] : freeBlocks_) {
    for (api::CUdeviceptr block : blocks) {
      driver.cuMemFree_v2(block);
      reservedBytes_ -= size;
    }
    blocks.clear();
  }
  freeBlocks_.clear();
  cachedBytes_ = 0;
}

}  // namespace cudnet::cuda
