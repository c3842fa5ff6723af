// cpu_backend.cpp — CpuBackend's memory: 64-byte aligned host blocks, plain copies.
#include "cpu_backend.h"
#include "host_memory.h"
#include "isa.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

#include "../core/error.h"

namespace cudnet::cpu {

CpuBackend::CpuBackend() : pool_(0) {}

static std::string cpuModelName() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

std::string CpuBackend::describe() const {
  std::string simd = useAvx512() ? "AVX-512" : "AVX2";
  return cpuModelName() + ", " + std::to_string(const_cast<ThreadPool&>(pool_).size()) + " threads, " + simd;
}

void* CpuBackend::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* pointer = allocateHost(bytes);
  if (!pointer)
    throw Error("OUT_OF_MEMORY", "could not allocate " + std::to_string(bytes) + " bytes of host memory");
  return pointer;
}

void CpuBackend::release(void* pointer, size_t) { std::free(pointer); }

void CpuBackend::copyFromHost(void* destination, const void* source, size_t bytes) {
  std::memcpy(destination, source, bytes);
}

void CpuBackend::copyToHost(void* destination, const void* source, size_t bytes) {
  std::memcpy(destination, source, bytes);
}

}  // namespace cudnet::cpu
