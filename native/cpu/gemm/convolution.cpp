// convolution.cpp — convolution as im2col + SGEMM (formulas in convolution.h).
#include "convolution.h"

#include <immintrin.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../im2col.h"
#include "pack.h"
#include "scratch.h"
#include "sgemm.h"

namespace cudnet::cpu::convolution {
namespace {

// The sizes of one group's GEMMs, and where group g of image n lives in x, y and w.
struct Geometry {
  explicit Geometry(const Conv2dParams& p)
      : groups(p.group),
        channels(p.C / p.group),
        filters(p.K / p.group),
        columnRows(channels * p.kernelH * p.kernelW),
        spatial(p.outH * p.outW),
        pointwise(p.kernelH == 1 && p.kernelW == 1 && p.strideH == 1 && p.strideW == 1 && p.padH == 0 &&
                  p.padW == 0) {}
  size_t inputOffset(int n, int g, const Conv2dParams& p) const {
    return (static_cast<size_t>(n) * groups + g) * channels * p.H * p.W;
  }
  size_t outputOffset(int n, int g) const { return (static_cast<size_t>(n) * groups + g) * filters * spatial; }
  size_t weightOffset(int g) const { return static_cast<size_t>(g) * filters * columnRows; }

  int groups, channels, filters, columnRows, spatial;
  bool pointwise;
};

thread_local gemm::ScratchBuffer columnBuffer;

// Whole images per thread when the batch divides well over the threads (no synchronisation
// inside an image); otherwise images one after another with every GEMM threaded.
bool splitImages(ThreadPool& pool, int N) {
  int threads = pool.size();
  return threads > 1 && N >= threads && (N % threads == 0 || N >= 4 * threads);
}

// Runs body(n, innerPool) for every image: innerPool is null when the images are split over threads.
template <typename Body>
void forEachImage(ThreadPool& pool, int N, Body body) {
  if (splitImages(pool, N)) {
    pool.parallelRanges(N, [&](size_t begin, size_t end, int) {
      for (size_t n = begin; n < end; ++n) body(static_cast<int>(n), nullptr);
    });
  } else {
    for (int n = 0; n < N; ++n) body(n, &pool);
  }
}

// im2col of one group of one image into this thread's buffer; split over channels when a pool is given.
const float* unfold(const float* input, const Geometry& g, const Conv2dParams& p, ThreadPool* inner) {
  const size_t channelSize = static_cast<size_t>(p.H) * p.W, columnSize = static_cast<size_t>(p.kernelH) * p.kernelW * g.spatial;
  float* col = columnBuffer.get(static_cast<size_t>(g.columnRows) * g.spatial);
  if (!inner) {
    im2col(input, g.channels, p, col);
    return col;
  }
  inner->parallelRanges(g.channels, [&](size_t begin, size_t end, int) {
    im2col(input + begin * channelSize, static_cast<int>(end - begin), p, col + begin * columnSize);
  });
  return col;
}

// col2im of one group into dx, split over channels when a pool is given (channels never overlap).
void fold(const float* col, const Geometry& g, const Conv2dParams& p, ThreadPool* inner, float* output) {
  const size_t channelSize = static_cast<size_t>(p.H) * p.W, columnSize = static_cast<size_t>(p.kernelH) * p.kernelW * g.spatial;
  if (!inner) return col2im(col, g.channels, p, output);
  inner->parallelRanges(g.channels, [&](size_t begin, size_t end, int) {
    col2im(col + begin * columnSize, static_cast<int>(end - begin), p, output + begin * channelSize);
  });
}

thread_local gemm::ScratchBuffer sliceBuffer;

// The column matrix of one group of one image, col = im2col(image): [columnRows, spatial], made panel by
// panel as the GEMM asks, so it never exists whole (it would not fit in L2 and would take a trip
// through memory). Forward reads op(B) = col; backward filter reads op(B) = col^T.
class ImageColumns : public gemm::PanelSource {
 public:
  ImageColumns(const float* image, const Conv2dParams& p, bool transposed)
      : image_(image), p_(p), transposed_(transposed) {}

  void pack(const gemm::KernelSet& kernels, int p0, int kc, int j0, int cols, float* out) const override {
    for (int offset = 0; offset < cols; offset += kernels.NR()) {
      int width = gemm::panelWidth(kernels, offset, cols), valid = std::min(width, cols - offset);
      float* panel = out + static_cast<ptrdiff_t>(offset) * kc;
      if (!transposed_) {
        // op(B)(k, j) = col[k][j]: rows p0.. of col straight into the panel, zero past the edge.
        im2colSlice(image_, p_, p0, kc, j0 + offset, valid, panel, width);
        if (valid < width)
          for (int k = 0; k < kc; ++k) std::fill(panel + k * width + valid, panel + (k + 1) * width, 0.f);
      } else {
        // op(B)(k, j) = col[j][k]: a slice of col rows into scratch, then the transposing packer.
        float* slice = sliceBuffer.get(static_cast<size_t>(valid) * kc);
        im2colSlice(image_, p_, j0 + offset, valid, p0, kc, slice, kc);
        kernels.packTransposedPanel(slice, kc, kc, valid, width, panel);
      }
    }
  }

 private:
  const float* image_;
  const Conv2dParams& p_;
  bool transposed_;
};

// C = A * op(B) with a prepacked A, on the pool when one is given.
void multiply(ThreadPool* inner, const gemm::PackedA& a, bool transB, int N, const float* B, ptrdiff_t ldb,
              float beta, float* C, ptrdiff_t ldc) {
  if (inner)
    gemm::sgemm(*inner, a, transB, N, 1.f, B, ldb, beta, C, ldc);
  else
    gemm::sgemmSerial(a, transB, N, 1.f, B, ldb, beta, C, ldc);
}

// y[k, s] += bias[k] for one group's output [filters, spatial].
void addBias(const float* bias, int filters, int spatial, float* y) {
  for (int k = 0; k < filters; ++k, y += spatial) {
    const float value = bias[k];
    for (int s = 0; s < spatial; ++s) y[s] += value;
  }
}

// Sum of n floats with 8 AVX2 lanes of partial sums.
float sumOf(const float* x, int n) {
  __m256 partial = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) partial = _mm256_add_ps(partial, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, partial);
  float total = 0.f;
  for (float lane : lanes) total += lane;
  for (; i < n; ++i) total += x[i];
  return total;
}

// The weights of every group packed once (transposed for backward data), shared by all images.
std::vector<gemm::PackedA> packWeights(const Geometry& g, const float* w, bool transposed) {
  std::vector<gemm::PackedA> packed;
  packed.reserve(g.groups);
  for (int group = 0; group < g.groups; ++group) {
    const float* weights = w + g.weightOffset(group);
    if (transposed)
      packed.emplace_back(true, g.columnRows, g.filters, weights, g.columnRows);
    else
      packed.emplace_back(false, g.filters, g.columnRows, weights, g.columnRows);
  }
  return packed;
}

}  // namespace

void forward(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  const Geometry g(p);
  if (g.spatial <= 0) return;
  const std::vector<gemm::PackedA> weights = packWeights(g, w, false);
  forEachImage(pool, p.N, [&](int n, ThreadPool* inner) {
    for (int group = 0; group < g.groups; ++group) {
      const float* input = x + g.inputOffset(n, group, p);
      float* output = y + g.outputOffset(n, group);
      if (!inner && !g.pointwise)
        gemm::sgemmSerial(weights[group], ImageColumns(input, p, false), g.spatial, 1.f, 0.f, output, g.spatial);
      else
        multiply(inner, weights[group], false, g.spatial, g.pointwise ? input : unfold(input, g, p, inner), g.spatial,
                 0.f, output, g.spatial);
      if (b) addBias(b + group * g.filters, g.filters, g.spatial, output);
    }
  });
}

void backwardData(ThreadPool& pool, const Conv2dParams& p, const float* w, const float* dy, float* dx) {
  const Geometry g(p);
  if (g.spatial <= 0) return std::fill(dx, dx + static_cast<size_t>(p.N) * p.C * p.H * p.W, 0.f);
  const std::vector<gemm::PackedA> weightsTransposed = packWeights(g, w, true);
  forEachImage(pool, p.N, [&](int n, ThreadPool* inner) {
    for (int group = 0; group < g.groups; ++group) {
      const float* gradient = dy + g.outputOffset(n, group);
      float* output = dx + g.inputOffset(n, group, p);
      if (g.pointwise) {
        multiply(inner, weightsTransposed[group], false, g.spatial, gradient, g.spatial, 0.f, output, g.spatial);
        continue;
      }
      float* col = columnBuffer.get(static_cast<size_t>(g.columnRows) * g.spatial);
      multiply(inner, weightsTransposed[group], false, g.spatial, gradient, g.spatial, 0.f, col, g.spatial);
      fold(col, g, p, inner, output);
    }
  });
}

namespace {

// dW_g (+)= dy_ng * col_ng^T for every group of image n; beta 0 starts a fresh sum, 1 adds on.
void accumulateFilterGradient(const Geometry& g, const Conv2dParams& p, const float* x, const float* dy, int n,
                              ThreadPool* inner, float beta, float* target) {
  for (int group = 0; group < g.groups; ++group) {
    const float* input = x + g.inputOffset(n, group, p);
    const float* gradient = dy + g.outputOffset(n, group);
    float* weights = target + g.weightOffset(group);
    if (!inner && !g.pointwise) {
      gemm::sgemmSerial(false, g.filters, g.columnRows, g.spatial, 1.f, gradient, g.spatial,
                        ImageColumns(input, p, true), beta, weights, g.columnRows);
      continue;
    }
    const float* col = g.pointwise ? input : unfold(input, g, p, inner);
    if (inner)
      gemm::sgemm(*inner, false, true, g.filters, g.columnRows, g.spatial, 1.f, gradient, g.spatial, col, g.spatial,
                  beta, weights, g.columnRows);
    else
      gemm::sgemmSerial(false, true, g.filters, g.columnRows, g.spatial, 1.f, gradient, g.spatial, col, g.spatial,
                        beta, weights, g.columnRows);
  }
}

// Per-range partial filter gradients, kept between calls (only the stream thread runs convolutions).
std::vector<std::unique_ptr<gemm::ScratchBuffer>> partialGradients;

}  // namespace

void backwardFilter(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const Geometry g(p);
  if (g.spatial <= 0) return;
  if (!splitImages(pool, p.N)) {
    for (int n = 0; n < p.N; ++n) accumulateFilterGradient(g, p, x, dy, n, &pool, 1.f, dw);
    return;
  }
  // Range 0 accumulates straight into dw; every other range sums its images into a partial buffer
  // (its first image with beta 0, so the buffer needs no clearing), added into dw at the end.
  const size_t weightCount = static_cast<size_t>(p.K) * g.columnRows;
  const int ranges = std::min(p.N, pool.size());
  while (static_cast<int>(partialGradients.size()) < ranges)
    partialGradients.push_back(std::make_unique<gemm::ScratchBuffer>());
  std::vector<float*> targets(ranges, dw);
  for (int r = 1; r < ranges; ++r) targets[r] = partialGradients[r]->get(weightCount);
  pool.parallelRanges(p.N, [&](size_t begin, size_t end, int range) {
    for (size_t n = begin; n < end; ++n)
      accumulateFilterGradient(g, p, x, dy, static_cast<int>(n), nullptr, range == 0 || n > begin ? 1.f : 0.f,
                               targets[range]);
  });
  pool.parallelRanges(weightCount, [&](size_t begin, size_t end, int) {
    for (int r = 1; r < ranges; ++r)
      for (size_t i = begin; i < end; ++i) dw[i] += targets[r][i];
  });
}

void backwardBias(ThreadPool& pool, const Conv2dParams& p, const float* dy, float* db) {
  const int spatial = p.outH * p.outW;
  if (spatial <= 0) return;
  pool.parallelRanges(p.K, [&](size_t begin, size_t end, int) {
    for (size_t k = begin; k < end; ++k) {
      float total = 0.f;
      for (int n = 0; n < p.N; ++n) total += sumOf(dy + (static_cast<size_t>(n) * p.K + k) * spatial, spatial);
      db[k] += total;
    }
  });
}

}  // namespace cudnet::cpu::convolution
