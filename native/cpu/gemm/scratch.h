// scratch.h — a growable, 64-byte aligned float buffer; one per thread holds packed panels and columns.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace cudnet::cpu::gemm {

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
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
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
