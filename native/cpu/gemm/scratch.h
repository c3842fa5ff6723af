// scratch.h — a growable, 64-byte aligned float buffer; one per thread holds packed panels and columns.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

#include "../host_memory.h"

namespace cudnet::cpu::gemm {

// Large buffers on huge pages (host_memory.h).
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(data_); }

  // At least `floats` floats; the contents are not kept when it grows.
  float* get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      data_ = nullptr;
      data_ = static_cast<float*>(allocateHost(floats * sizeof(float)));
      if (!data_) throw std::bad_alloc();
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace cudnet::cpu::gemm
