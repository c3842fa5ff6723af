// random.h — the counter-based generator every backend shares: the same (seed, index) gives
// the same number on the CPU and in a CUDA kernel, so dropout masks agree across devices.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define CUDNET_HOST_DEVICE __host__ __device__
#else
#define CUDNET_HOST_DEVICE
#endif

namespace cudnet {

// SplitMix64 finaliser of (seed, index): a well-mixed 64-bit value.
CUDNET_HOST_DEVICE inline uint64_t mixBits(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform float in [0, 1) with 24 random bits.
CUDNET_HOST_DEVICE inline float uniformAt(uint64_t seed, uint64_t index) {
  return static_cast<float>(mixBits(seed, index) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace cudnet
