// activation.cpp — CpuBackend ReLU (with negative slope) and train-time inverted dropout.
//
// All three are element-wise, so [0, n) is cut into one contiguous range per thread (ranges of at
// least kMinPerThread elements: below that, waking a worker costs more than the loop) and each
// inner loop is a plain branch-free loop that g++ vectorises. In-place use (y == x, dx == dy)
// is allowed.
#include <algorithm>

#include "../../core/random.h"
#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {
// ReLU runs at several floats per cycle: 32k elements (LeNet's relu1) take about 2 us on one thread.
constexpr size_t kMinPerThread = 1 << 16;
}  // namespace

// y = max(x, 0) + slope * min(x, 0)   (Caffe's relu_layer.cpp, written the same way)
void CpuBackend::reluForward(size_t n, float slope, const float* x, float* y) {
  pool().parallelRanges(n, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) y[i] = std::max(x[i], 0.f) + slope * std::min(x[i], 0.f);
  }, kMinPerThread);
}

// dx = dy * ((x > 0) + slope * (x <= 0)): at exactly x == 0 the gradient is the slope, as Caffe.
void CpuBackend::reluBackward(size_t n, float slope, const float* x, const float* dy, float* dx) {
  pool().parallelRanges(n, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      float positive = x[i] > 0.f ? 1.f : 0.f;
      float nonPositive = x[i] <= 0.f ? 1.f : 0.f;
      dx[i] = dy[i] * (positive + slope * nonPositive);
    }
  }, kMinPerThread);
}

// Inverted dropout: keep an element with probability 1 - ratio and scale the kept ones by
// 1/(1 - ratio), so the expectation of y equals x and inference needs no rescaling.
// u(seed, i) depends only on (seed, i), so the mask does not depend on how the work is split.
void CpuBackend::dropoutForward(size_t n, float ratio, uint64_t seed, const float* x, float* y, float* mask) {
  const float scale = 1.f / (1.f - ratio);
  pool().parallelRanges(n, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      float keep = uniformAt(seed, i) >= ratio ? scale : 0.f;
      mask[i] = keep;
      y[i] = x[i] * keep;
    }
  }, kMinPerThread / 8);  // a hash per element: several times the work of ReLU
}

}  // namespace cudnet::cpu
