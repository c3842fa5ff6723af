// host_memory.h — aligned host allocations for tensors and scratch; large ones on transparent huge pages.
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>

namespace cudnet::cpu {

// Allocations this large are placed on 2 MiB boundaries, rounded up to whole 2 MiB pages, and marked
// MADV_HUGEPAGE: with the kernel's usual "madvise" setting, anonymous memory is otherwise mapped in
// 4 KiB pages, and streaming a fully connected layer's weights (AlexNet's fc6: 151 MB) misses the TLB
// once every 4 KiB. At 4 MiB and above the rounding wastes under a third.
constexpr size_t kHugePageBytes = size_t(2) << 20, kHugeAllocationBytes = size_t(4) << 20;

// 64-byte aligned memory (nullptr when there is none), released with std::free.
inline void* allocateHost(size_t bytes) {
  if (bytes < kHugeAllocationBytes) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  void* pointer = std::aligned_alloc(kHugePageBytes, rounded);
  if (pointer) madvise(pointer, rounded, MADV_HUGEPAGE);  // advice only: 4 KiB pages if it is not taken
  return pointer;
}

}  // namespace cudnet::cpu
