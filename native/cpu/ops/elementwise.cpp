// elementwise.cpp — CpuBackend's element-wise ops and reductions, split over the cores in chunks.
#include <cmath>
#include <cstring>

#include "../cpu_backend.h"

namespace cudnet::cpu {

namespace {
// Below this many elements one thread is faster than waking the pool.
constexpr size_t kParallelThreshold = 1 << 15;

template <typename Body>
void forChunks(ThreadPool& pool, size_t n, Body body) {
  if (n < kParallelThreshold) {
    body(size_t{0}, n);
    return;
  }
  pool.parallelRanges(n, [&](size_t begin, size_t end, int) { body(begin, end); });
}

// Sums body(i) over [0, n) in double, per thread, then adds the partial sums.
template <typename Term>
double reduceSum(ThreadPool& pool, size_t n, Term term) {
  std::vector<double> partial(static_cast<size_t>(pool.size()), 0.0);
  auto sumRange = [&](size_t begin, size_t end, int range) {
    double sum = 0;
    for (size_t i = begin; i < end; ++i) sum += term(i);
    partial[static_cast<size_t>(range)] = sum;
  };
  if (n < kParallelThreshold) sumRange(0, n, 0);
  else pool.parallelRanges(n, sumRange);
  double total = 0;
  for (double p : partial) total += p;
  return total;
}
}  // namespace

void CpuBackend::fill(size_t n, float value, float* y) {
  forChunks(pool_, n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) y[i] = value;
  });
}

void CpuBackend::copy(size_t n, const float* x, float* y) {
  if (x == y) return;
  forChunks(pool_, n, [&](size_t b, size_t e) { std::memcpy(y + b, x + b, (e - b) * sizeof(float)); });
}

void CpuBackend::axpby(size_t n, float alpha, const float* x, float beta, float* y) {
  forChunks(pool_, n, [&](size_t b, size_t e) {
    if (beta == 0.f) {
      for (size_t i = b; i < e; ++i) y[i] = alpha * x[i];  // y may hold NaN: never read it
    } else {
      for (size_t i = b; i < e; ++i) y[i] = alpha * x[i] + beta * y[i];
    }
  });
}

void CpuBackend::multiply(size_t n, const float* a, const float* b, float* y) {
  forChunks(pool_, n, [&](size_t s, size_t e) {
    for (size_t i = s; i < e; ++i) y[i] = a[i] * b[i];
  });
}

void CpuBackend::powerForward(size_t n, float power, float scale, float shift, const float* x, float* y) {
  forChunks(pool_, n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) y[i] = std::pow(shift + scale * x[i], power);
  });
}

void CpuBackend::powerBackward(size_t n, float power, float scale, float shift, const float* x, const float* dy,
                               float* dx) {
  forChunks(pool_, n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) dx[i] = dy[i] * power * scale * std::pow(shift + scale * x[i], power - 1.f);
  });
}

void CpuBackend::maxAccumulate(size_t n, int index, const float* x, float* y, float* mask) {
  float label = static_cast<float>(index);
  forChunks(pool_, n, [&](size_t b, size_t e) {
    if (index == 0) {
      for (size_t i = b; i < e; ++i) {
        y[i] = x[i];
        mask[i] = 0.f;
      }
      return;
    }
    for (size_t i = b; i < e; ++i) {
      if (x[i] > y[i]) {
        y[i] = x[i];
        mask[i] = label;
      }
    }
  });
}

void CpuBackend::maxSelectBackward(size_t n, int index, const float* mask, const float* dy, float* dx) {
  float label = static_cast<float>(index);
  forChunks(pool_, n, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) dx[i] = mask[i] == label ? dy[i] : 0.f;
  });
}

void CpuBackend::channelAffineForward(int outer, int channels, int inner, const float* x, const float* scale,
                                      const float* bias, float* y) {
  pool_.parallelFor(static_cast<size_t>(outer) * channels, [&](size_t plane) {
    size_t c = plane % static_cast<size_t>(channels);
    const float* in = x + plane * inner;
    float* out = y + plane * inner;
    float s = scale[c], b = bias ? bias[c] : 0.f;
    for (int i = 0; i < inner; ++i) out[i] = in[i] * s + b;
  });
}

void CpuBackend::channelAffineBackward(int outer, int channels, int inner, const float* x, const float* scale,
                                       const float* dy, float* dx, float* dscale, float* dbias) {
  // Per channel (one task each) so the parameter sums need no locks.
  pool_.parallelFor(static_cast<size_t>(channels), [&](size_t c) {
    double scaleSum = 0, biasSum = 0;
    for (int o = 0; o < outer; ++o) {
      size_t offset = (static_cast<size_t>(o) * channels + c) * inner;
      for (int i = 0; i < inner; ++i) {
        float g = dy[offset + i];
        if (dx) dx[offset + i] = g * scale[c];
        scaleSum += static_cast<double>(g) * x[offset + i];
        biasSum += g;
      }
    }
    if (dscale) dscale[c] += static_cast<float>(scaleSum);
    if (dbias) dbias[c] += static_cast<float>(biasSum);
  });
}

void CpuBackend::copyBlocks(size_t count, size_t block, const float* source, size_t sourceStride, float* destination,
                            size_t destinationStride) {
  auto copyRange = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      std::memcpy(destination + i * destinationStride, source + i * sourceStride, block * sizeof(float));
  };
  if (count * block < kParallelThreshold) copyRange(0, count);
  else pool_.parallelRanges(count, [&](size_t b, size_t e, int) { copyRange(b, e); });
}

void CpuBackend::dot(size_t n, const float* x, const float* y, float* out) {
  out[0] = static_cast<float>(reduceSum(pool_, n, [&](size_t i) { return static_cast<double>(x[i]) * y[i]; }));
}

void CpuBackend::sumSquares(size_t n, const float* x, float* out) {
  out[0] = static_cast<float>(reduceSum(pool_, n, [&](size_t i) { return static_cast<double>(x[i]) * x[i]; }));
}

void CpuBackend::sumAbs(size_t n, const float* x, float* out) {
  out[0] = static_cast<float>(reduceSum(pool_, n, [&](size_t i) { return std::fabs(static_cast<double>(x[i])); }));
}

}  // namespace cudnet::cpu
