// lrn.cpp — CpuBackend local response normalization (Caffe's lrn_layer.cpp), across and within channels.
//
// ACROSS_CHANNELS, for every image n and position p = h*W + w, with half = (n-1)/2:
//   scale[c] = k + alpha/n * sum_{c' = c-half .. c+half, inside [0, C)} x[c']^2
//   y[c]     = x[c] * scale[c]^-beta
//   dx[c]    = dy[c] * scale[c]^-beta - (2*alpha*beta/n) * x[c] * sum_{c' in window(c)} dy[c']*y[c']/scale[c']
// WITHIN_CHANNEL, per plane, k ignored (Caffe hard-codes the shift to 1):
//   scale = 1 + alpha/(n*n) * sum_{n x n window, zero padded} x^2,   y = x * scale^-beta
//   dx    = dy * scale^-beta - (2*alpha*beta/(n*n)) * x * sum_{n x n window} dy*y/scale
//
// The across-channel kernels are memory bound (AlexNet's norm1 is 16x96x55x55), so each task
// takes one image and one block of at most kBlock positions and walks the channels in order:
// the few channel rows a window needs stay in cache, every tensor is streamed from memory once,
// and the per-channel work is a few contiguous loops over the block that g++ vectorises. The
// window sums slide along the channels (add the entering row, subtract the leaving one, as
// Caffe's CPU code does), so a channel costs the same whatever the window size; recomputing
// them from all n rows made the backward pass twice as slow. The sliding sums are kept in
// double: in float, a large value that enters and leaves the window leaves its rounding error
// behind (5e-4 relative error on channels 100x apart in magnitude). scale^-beta avoids pow()
// for the common exponents (0.75 = 1/sqrt(s*sqrt(s)), 0.5, 1).
#include <algorithm>
#include <cmath>
#include <vector>

#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {

// Positions per task: up to 16 KiB per channel row, so the rows a window needs stay in L2 (and a
// whole 55x55 plane is one block: long contiguous streams suit the hardware prefetchers).
constexpr int kBlock = 4096;
// At least this many tasks per thread when the batch is small, so every core gets work.
constexpr int kTasksPerThread = 2;

enum class PowerPath { ThreeQuarters, Half, One, General };

PowerPath powerPathFor(float beta) {
  if (beta == 0.75f) return PowerPath::ThreeQuarters;
  if (beta == 0.5f) return PowerPath::Half;
  if (beta == 1.f) return PowerPath::One;
  return PowerPath::General;
}

// s^-beta for s > 0.
template <PowerPath path>
inline float inversePower(float s, float beta) {
  if constexpr (path == PowerPath::ThreeQuarters) return 1.f / std::sqrt(s * std::sqrt(s));
  if constexpr (path == PowerPath::Half) return 1.f / std::sqrt(s);
  if constexpr (path == PowerPath::One) return 1.f / s;
  return std::pow(s, -beta);
}

// One task's slice of one image: positions [begin, begin + width) of every channel plane.
struct Slice {
  size_t imageOffset;  // n * C * H * W
  int begin, width;
};

// Splits the N images into (image, block of positions) tasks of nearly equal width, a multiple of
// 16 floats: blocks of at most kBlock positions, and more of them when N alone is too few tasks.
struct SliceGrid {
  int blocksPerImage, blockWidth;
  size_t tasks;
};
SliceGrid sliceGrid(const LrnParams& p, int threads) {
  const int plane = p.H * p.W;
  int blocks = std::max((plane + kBlock - 1) / kBlock, (kTasksPerThread * threads + p.N - 1) / p.N);
  blocks = std::max(1, std::min(blocks, (plane + 15) / 16));
  int width = ((plane + blocks - 1) / blocks + 15) / 16 * 16;
  blocks = (plane + width - 1) / width;
  return SliceGrid{blocks, width, static_cast<size_t>(p.N) * blocks};
}
Slice sliceAt(const LrnParams& p, const SliceGrid& grid, size_t task) {
  const int plane = p.H * p.W;
  int n = static_cast<int>(task / grid.blocksPerImage);
  int begin = static_cast<int>(task % grid.blocksPerImage) * grid.blockWidth;
  return Slice{static_cast<size_t>(n) * p.C * plane, begin, std::min(grid.blockWidth, plane - begin)};
}

// The window sums slide along the channels as in Caffe's lrn_layer.cpp: moving from channel c
// to c+1 adds the row entering the window (c+1+half) and removes the one leaving it (c-half),
// so each channel costs one pass over its block whatever the window size.

// sum[i] += row[i]^2 (the row entering the window).
inline void addSquares(const float* row, int width, double* sum) {
  for (int i = 0; i < width; ++i) sum[i] += static_cast<double>(row[i]) * row[i];
}

template <PowerPath path>
void acrossForwardSlice(const LrnParams& p, const Slice& slice, const float* x, float* y, float* scale) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  const float alphaOverSize = p.alpha / static_cast<float>(p.localSize), k = p.k, beta = p.beta;
  const int half = (p.localSize - 1) / 2, width = slice.width;
  const float* xBase = x + slice.imageOffset + slice.begin;
  double sum[kBlock];
  std::fill(sum, sum + width, 0.0);
  for (int c = 0; c < std::min(half, p.C); ++c) addSquares(xBase + c * plane, width, sum);
  for (int c = 0; c < p.C; ++c) {
    if (c + half < p.C) addSquares(xBase + (c + half) * plane, width, sum);
    const float* xRow = xBase + c * plane;
    const float* leaving = c - half >= 0 ? xBase + (c - half) * plane : nullptr;
    size_t offset = slice.imageOffset + c * plane + slice.begin;
    float* yRow = y + offset;
    float* scaleRow = scale + offset;
    for (int i = 0; i < width; ++i) {
      float s = k + alphaOverSize * static_cast<float>(sum[i]);
      scaleRow[i] = s;
      yRow[i] = xRow[i] * inversePower<path>(s, beta);
    }
    if (leaving)
      for (int i = 0; i < width; ++i) sum[i] -= static_cast<double>(leaving[i]) * leaving[i];
  }
}

// Keeps ratio = dy*y/scale for the channels of the current window in a ring of localSize rows,
// each computed once when its channel enters the window (and added to the sliding sum then).
template <PowerPath path>
void acrossBackwardSlice(const LrnParams& p, const Slice& slice, const float* x, const float* y, const float* scale,
                         const float* dy, float* dx, float* ring) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  const int half = (p.localSize - 1) / 2, size = p.localSize, width = slice.width;
  const float beta = p.beta, factor = 2.f * p.alpha * p.beta / static_cast<float>(p.localSize);
  double sum[kBlock];
  std::fill(sum, sum + width, 0.0);
  auto ratioRow = [&](int c) { return ring + static_cast<size_t>(c % size) * kBlock; };
  auto enter = [&](int c) {
    size_t offset = slice.imageOffset + c * plane + slice.begin;
    float* ratio = ratioRow(c);
    for (int i = 0; i < width; ++i) {
      ratio[i] = dy[offset + i] * y[offset + i] / scale[offset + i];
      sum[i] += ratio[i];
    }
  };
  for (int c = 0; c < std::min(half, p.C); ++c) enter(c);
  for (int c = 0; c < p.C; ++c) {
    if (c + half < p.C) enter(c + half);
    size_t offset = slice.imageOffset + c * plane + slice.begin;
    const float *xRow = x + offset, *scaleRow = scale + offset, *dyRow = dy + offset;
    float* dxRow = dx + offset;
    for (int i = 0; i < width; ++i) {
      dxRow[i] = dyRow[i] * inversePower<path>(scaleRow[i], beta) - factor * xRow[i] * static_cast<float>(sum[i]);
    }
    if (c - half >= 0) {
      const float* leaving = ratioRow(c - half);
      for (int i = 0; i < width; ++i) sum[i] -= leaving[i];
    }
  }
}

template <PowerPath path>
void acrossForward(ThreadPool& pool, const LrnParams& p, const float* x, float* y, float* scale) {
  const SliceGrid grid = sliceGrid(p, pool.size());
  pool.parallelFor(grid.tasks, [&](size_t task) { acrossForwardSlice<path>(p, sliceAt(p, grid, task), x, y, scale); });
}

template <PowerPath path>
void acrossBackward(ThreadPool& pool, const LrnParams& p, const float* x, const float* y, const float* scale,
                    const float* dy, float* dx) {
  const SliceGrid grid = sliceGrid(p, pool.size());
  pool.parallelFor(grid.tasks, [&](size_t task) {
    std::vector<float> ring(static_cast<size_t>(p.localSize) * kBlock);
    acrossBackwardSlice<path>(p, sliceAt(p, grid, task), x, y, scale, dy, dx, ring.data());
  });
}

// ---- WITHIN_CHANNEL: an n x n box sum per plane, zero padded ----------------------------------

// box[h][w] = sum over the n x n window centred on (h, w), clipped to the plane, of value.
// Done as a sum along W into `rows`, then a sum of those along H.
void boxSum(const float* value, int H, int W, int half, float* rows, float* box) {
  for (int h = 0; h < H; ++h) {
    const float* in = value + static_cast<size_t>(h) * W;
    float* out = rows + static_cast<size_t>(h) * W;
    for (int w = 0; w < W; ++w) {
      float sum = 0.f;
      for (int j = std::max(w - half, 0); j <= std::min(w + half, W - 1); ++j) sum += in[j];
      out[w] = sum;
    }
  }
  for (int h = 0; h < H; ++h) {
    float* out = box + static_cast<size_t>(h) * W;
    std::fill(out, out + W, 0.f);
    for (int j = std::max(h - half, 0); j <= std::min(h + half, H - 1); ++j) {
      const float* in = rows + static_cast<size_t>(j) * W;
      for (int w = 0; w < W; ++w) out[w] += in[w];
    }
  }
}

template <PowerPath path>
void withinForwardPlane(const LrnParams& p, const float* x, float* y, float* scale, float* squares, float* rows) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  const float alphaOverArea = p.alpha / static_cast<float>(p.localSize * p.localSize);
  for (size_t i = 0; i < plane; ++i) squares[i] = x[i] * x[i];
  boxSum(squares, p.H, p.W, (p.localSize - 1) / 2, rows, scale);
  for (size_t i = 0; i < plane; ++i) {
    scale[i] = 1.f + alphaOverArea * scale[i];
    y[i] = x[i] * inversePower<path>(scale[i], p.beta);
  }
}

template <PowerPath path>
void withinBackwardPlane(const LrnParams& p, const float* x, const float* y, const float* scale, const float* dy,
                         float* dx, float* ratio, float* rows) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  const float factor = 2.f * p.alpha * p.beta / static_cast<float>(p.localSize * p.localSize);
  for (size_t i = 0; i < plane; ++i) ratio[i] = dy[i] * y[i] / scale[i];
  boxSum(ratio, p.H, p.W, (p.localSize - 1) / 2, rows, dx);  // dx holds the box sum for now
  for (size_t i = 0; i < plane; ++i) dx[i] = dy[i] * inversePower<path>(scale[i], p.beta) - factor * x[i] * dx[i];
}

template <PowerPath path>
void withinForward(ThreadPool& pool, const LrnParams& p, const float* x, float* y, float* scale) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  pool.parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    std::vector<float> squares(plane), rows(plane);
    for (size_t i = begin; i < end; ++i) {
      withinForwardPlane<path>(p, x + i * plane, y + i * plane, scale + i * plane, squares.data(), rows.data());
    }
  });
}

template <PowerPath path>
void withinBackward(ThreadPool& pool, const LrnParams& p, const float* x, const float* y, const float* scale,
                    const float* dy, float* dx) {
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  pool.parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    std::vector<float> ratio(plane), rows(plane);
    for (size_t i = begin; i < end; ++i) {
      size_t o = i * plane;
      withinBackwardPlane<path>(p, x + o, y + o, scale + o, dy + o, dx + o, ratio.data(), rows.data());
    }
  });
}

template <PowerPath path>
void forwardWith(ThreadPool& pool, const LrnParams& p, const float* x, float* y, float* scale) {
  if (p.region == LrnRegion::AcrossChannels) {
    acrossForward<path>(pool, p, x, y, scale);
  } else {
    withinForward<path>(pool, p, x, y, scale);
  }
}

template <PowerPath path>
void backwardWith(ThreadPool& pool, const LrnParams& p, const float* x, const float* y, const float* scale,
                  const float* dy, float* dx) {
  if (p.region == LrnRegion::AcrossChannels) {
    acrossBackward<path>(pool, p, x, y, scale, dy, dx);
  } else {
    withinBackward<path>(pool, p, x, y, scale, dy, dx);
  }
}

}  // namespace

// Each exponent path is its own instantiation, so the inner loops see a fixed formula.
void CpuBackend::lrnForward(const LrnParams& p, const float* x, float* y, float* scale) {
  switch (powerPathFor(p.beta)) {
    case PowerPath::ThreeQuarters: forwardWith<PowerPath::ThreeQuarters>(pool(), p, x, y, scale); break;
    case PowerPath::Half: forwardWith<PowerPath::Half>(pool(), p, x, y, scale); break;
    case PowerPath::One: forwardWith<PowerPath::One>(pool(), p, x, y, scale); break;
    case PowerPath::General: forwardWith<PowerPath::General>(pool(), p, x, y, scale); break;
  }
}

void CpuBackend::lrnBackward(const LrnParams& p, const float* x, const float* y, const float* scale, const float* dy,
                             float* dx) {
  switch (powerPathFor(p.beta)) {
    case PowerPath::ThreeQuarters: backwardWith<PowerPath::ThreeQuarters>(pool(), p, x, y, scale, dy, dx); break;
    case PowerPath::Half: backwardWith<PowerPath::Half>(pool(), p, x, y, scale, dy, dx); break;
    case PowerPath::One: backwardWith<PowerPath::One>(pool(), p, x, y, scale, dy, dx); break;
    case PowerPath::General: backwardWith<PowerPath::General>(pool(), p, x, y, scale, dy, dx); break;
  }
}

}  // namespace cudnet::cpu
