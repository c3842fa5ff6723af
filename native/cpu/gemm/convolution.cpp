// convolution.cpp — convolution as im2col + SGEMM (formulas in convolution.h).
#include "convolution.h"

#include <immintrin.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../im2col.h"
#include "direct.h"
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

// col2im of one group of one image into dx (col rows `ldcol` apart), split over channels when a pool
// is given (channels never overlap).
void fold(const float* col, ptrdiff_t ldcol, const Geometry& g, const Conv2dParams& p, ThreadPool* inner,
          float* output) {
  const size_t channelSize = static_cast<size_t>(p.H) * p.W, channelRows = static_cast<size_t>(p.kernelH) * p.kernelW;
  if (!inner) return col2im(col, ldcol, g.channels, p, output);
  inner->parallelRanges(g.channels, [&](size_t begin, size_t end, int) {
    col2im(col + begin * channelRows * ldcol, ldcol, static_cast<int>(end - begin), p, output + begin * channelSize);
  });
}

thread_local gemm::ScratchBuffer sliceBuffer;

// The column matrices of one group of `count` consecutive images side by side, im2col(image n0+m) for
// m = 0..count-1: [columnRows, count*spatial], column m*spatial + s of image n0+m's column s. Made panel
// by panel as the GEMM asks, so it never exists whole (it would not fit in L2 and would take a trip
// through memory). Forward reads op(B) = cols; backward filter reads op(B) = cols^T, its depth running
// over the images. `images` is group g of image n0; imageStride the distance between images.
class BatchColumns : public gemm::PanelSource {
 public:
  BatchColumns(const float* images, size_t imageStride, const Conv2dParams& p, bool transposed)
      : images_(images), imageStride_(imageStride), spatial_(p.outH * p.outW), p_(p), transposed_(transposed) {}

  void pack(const gemm::KernelSet& kernels, int p0, int kc, int j0, int cols, float* out) const override {
    for (int offset = 0; offset < cols; offset += kernels.NR()) {
      int width = gemm::panelWidth(kernels, offset, cols), valid = std::min(width, cols - offset);
      float* panel = out + static_cast<ptrdiff_t>(offset) * kc;
      if (!transposed_) {
        // op(B)(k, j) = cols[k][j]: rows p0.. of each image's col straight into the panel, zero past the edge.
        forEachImageRun(j0 + offset, valid, [&](const float* image, int s, int run, int done) {
          im2colSlice(image, p_, p0, kc, s, run, panel + done, width);
        });
        if (valid < width)
          for (int k = 0; k < kc; ++k) std::fill(panel + k * width + valid, panel + (k + 1) * width, 0.f);
      } else {
        // op(B)(k, j) = cols[j][k]: a slice of col rows (depth k across images) into scratch, then the
        // transposing packer.
        float* slice = sliceBuffer.get(static_cast<size_t>(valid) * kc);
        forEachImageRun(p0, kc, [&](const float* image, int s, int run, int done) {
          im2colSlice(image, p_, j0 + offset, valid, s, run, slice + done, kc);
        });
        kernels.packTransposedPanel(slice, kc, kc, valid, width, panel);
      }
    }
  }

 private:
  // Splits columns [first, first+count) of cols at image boundaries: visit(image, s, run, done) for each
  // run of `run` columns starting at column s of one image, `done` columns after `first`.
  template <typename Visit>
  void forEachImageRun(int first, int count, Visit visit) const {
    for (int done = 0; done < count;) {
      int column = first + done, m = column / spatial_, s = column % spatial_;
      int run = std::min(count - done, spatial_ - s);
      visit(images_ + m * imageStride_, s, run, done);
      done += run;
    }
  }

  const float* images_;
  size_t imageStride_;
  int spatial_;
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

// The weights of every group packed once per call (transposed for backward data), shared by all images.
// The packed copies live between calls so their storage is reused (only the stream thread runs
// convolutions); one set per direction and thread.
using PackedWeights = std::vector<std::unique_ptr<gemm::PackedA>>;
thread_local PackedWeights packedForward, packedTransposed;

const PackedWeights& packWeights(ThreadPool& pool, const Geometry& g, const float* w, bool transposed) {
  PackedWeights& packed = transposed ? packedTransposed : packedForward;
  while (static_cast<int>(packed.size()) < g.groups) packed.push_back(std::make_unique<gemm::PackedA>());
  for (int group = 0; group < g.groups; ++group) {
    const float* weights = w + g.weightOffset(group);
    if (transposed)
      packed[group]->pack(true, g.columnRows, g.filters, weights, g.columnRows, &pool);
    else
      packed[group]->pack(false, g.filters, g.columnRows, weights, g.columnRows, &pool);
  }
  return packed;
}

// How many images go side by side into one GEMM. One image's product is outH*outW columns wide; when
// that is narrow the micro-kernel's 48-column tiles are poorly filled (LeNet conv2: 64 = 48 + a
// 16-wide tile at a third of the speed) and the fixed costs of a GEMM call (packing A's edge,
// loading and storing C) are paid per image. So images are lowered together until the product is
// about targetColumns wide (forward and backward data: 384, 8 tiles; backward filter, where the
// columns are the GEMM's depth: 2048, so that dW is loaded and stored once per ~700 deep block
// instead of once per image).
constexpr int kBatchColumns = 384, kBatchDepth = 2048;
int imagesPerGemm(const Geometry& g, int targetColumns) {
  if (g.spatial >= targetColumns) return 1;
  return (targetColumns + g.spatial - 1) / g.spatial;
}

// Runs body(n0, count, innerPool) over the batch in runs of at most `perGemm` images: whole runs per
// thread when the images split well over the threads (innerPool null), else one run after another
// with every GEMM over the pool.
template <typename Body>
void forEachRun(ThreadPool& pool, int N, int perGemm, Body body) {
  if (splitImages(pool, N)) {
    pool.parallelRanges(N, [&](size_t begin, size_t end, int range) {
      for (int n = static_cast<int>(begin); n < static_cast<int>(end); n += perGemm)
        body(n, std::min(perGemm, static_cast<int>(end) - n), nullptr, range, n == static_cast<int>(begin));
    });
  } else {
    for (int n = 0; n < N; n += perGemm) body(n, std::min(perGemm, N - n), &pool, 0, n == 0);
  }
}

thread_local gemm::ScratchBuffer productBuffer, gradientBuffer;

// The [rows, count*spatial] matrix of `count` images' [rows, spatial] blocks side by side (one group of
// dy), read from source with imageStride floats between images.
const float* gatherImages(const float* source, size_t imageStride, int rows, int spatial, int count) {
  const size_t columns = static_cast<size_t>(count) * spatial;
  float* out = gradientBuffer.get(rows * columns);
  for (int m = 0; m < count; ++m)
    for (int r = 0; r < rows; ++r)
      std::copy_n(source + m * imageStride + static_cast<size_t>(r) * spatial, spatial, out + r * columns + m * spatial);
  return out;
}

}  // namespace

void forward(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  const Geometry g(p);
  if (g.spatial <= 0) return;
  if (direct::forwardApplies(p)) return direct::forward(pool, p, x, w, b, y);
  const PackedWeights& weights = packWeights(pool, g, w, false);
  const size_t imageStride = static_cast<size_t>(p.C) * p.H * p.W, outputStride = static_cast<size_t>(p.K) * g.spatial;
  forEachRun(pool, p.N, imagesPerGemm(g, kBatchColumns), [&](int n0, int count, ThreadPool* inner, int, bool) {
    const int columns = count * g.spatial;
    for (int group = 0; group < g.groups; ++group) {
      const float* input = x + g.inputOffset(n0, group, p);
      float* output = y + g.outputOffset(n0, group);
      // One image's product [filters, spatial] is its output; several images' go through a buffer.
      float* product = count == 1 ? output : productBuffer.get(static_cast<size_t>(g.filters) * columns);
      if (g.pointwise && count == 1)
        multiply(inner, *weights[group], false, g.spatial, input, g.spatial, 0.f, product, g.spatial);
      else if (inner)
        gemm::sgemm(*inner, *weights[group], BatchColumns(input, imageStride, p, false), columns, 1.f, 0.f, product,
                    columns);
      else
        gemm::sgemmSerial(*weights[group], BatchColumns(input, imageStride, p, false), columns, 1.f, 0.f, product,
                          columns);
      const float* bias = b ? b + group * g.filters : nullptr;
      for (int m = 0; m < count; ++m)
        for (int k = 0; k < g.filters; ++k) {
          const float* from = product + static_cast<size_t>(k) * columns + m * g.spatial;
          float* to = output + m * outputStride + static_cast<size_t>(k) * g.spatial;
          const float value = bias ? bias[k] : 0.f;
          if (from == to && bias)
            for (int s = 0; s < g.spatial; ++s) to[s] += value;
          else if (from != to)
            for (int s = 0; s < g.spatial; ++s) to[s] = from[s] + value;
        }
    }
  });
}

void backwardData(ThreadPool& pool, const Conv2dParams& p, const float* w, const float* dy, float* dx) {
  const Geometry g(p);
  if (g.spatial <= 0) return std::fill(dx, dx + static_cast<size_t>(p.N) * p.C * p.H * p.W, 0.f);
  if (direct::backwardDataApplies(p)) return direct::backwardData(pool, p, w, dy, dx);
  const PackedWeights& weightsTransposed = packWeights(pool, g, w, true);
  const size_t imageStride = static_cast<size_t>(p.C) * p.H * p.W, outputStride = static_cast<size_t>(p.K) * g.spatial;
  forEachRun(pool, p.N, imagesPerGemm(g, kBatchColumns), [&](int n0, int count, ThreadPool* inner, int, bool) {
    const int columns = count * g.spatial;
    for (int group = 0; group < g.groups; ++group) {
      const float* gradient = dy + g.outputOffset(n0, group);
      float* output = dx + g.inputOffset(n0, group, p);
      if (g.pointwise && count == 1) {
        multiply(inner, *weightsTransposed[group], false, g.spatial, gradient, g.spatial, 0.f, output, g.spatial);
        continue;
      }
      // col = W_g^T * [dy of each image side by side]: [columnRows, columns], folded back image by image.
      if (count > 1) gradient = gatherImages(gradient, outputStride, g.filters, g.spatial, count);
      float* col = columnBuffer.get(static_cast<size_t>(g.columnRows) * columns);
      multiply(inner, *weightsTransposed[group], false, columns, gradient, columns, 0.f, col, columns);
      for (int m = 0; m < count; ++m) fold(col + m * g.spatial, columns, g, p, inner, output + m * imageStride);
    }
  });
}

namespace {

// dW_g (+)= [dy of `count` images side by side] * [their columns]^T for every group; beta 0 starts a
// fresh sum, 1 adds on. The images' columns are the GEMM's depth.
void accumulateFilterGradient(const Geometry& g, const Conv2dParams& p, const float* x, const float* dy, int n0,
                              int count, ThreadPool* inner, float beta, float* target) {
  const size_t imageStride = static_cast<size_t>(p.C) * p.H * p.W, outputStride = static_cast<size_t>(p.K) * g.spatial;
  const int depth = count * g.spatial;
  for (int group = 0; group < g.groups; ++group) {
    const float* input = x + g.inputOffset(n0, group, p);
    const float* gradient = dy + g.outputOffset(n0, group);
    float* weights = target + g.weightOffset(group);
    if (g.pointwise && count == 1) {
      if (inner)
        gemm::sgemm(*inner, false, true, g.filters, g.columnRows, g.spatial, 1.f, gradient, g.spatial, input,
                    g.spatial, beta, weights, g.columnRows);
      else
        gemm::sgemmSerial(false, true, g.filters, g.columnRows, g.spatial, 1.f, gradient, g.spatial, input,
                          g.spatial, beta, weights, g.columnRows);
      continue;
    }
    if (count > 1) gradient = gatherImages(gradient, outputStride, g.filters, g.spatial, count);
    const BatchColumns columns(input, imageStride, p, true);
    if (inner)
      gemm::sgemm(*inner, false, g.filters, g.columnRows, depth, 1.f, gradient, depth, columns, beta, weights,
                  g.columnRows);
    else
      gemm::sgemmSerial(false, g.filters, g.columnRows, depth, 1.f, gradient, depth, columns, beta, weights,
                        g.columnRows);
  }
}

// Per-range partial filter gradients, kept between calls (only the stream thread runs convolutions).
std::vector<std::unique_ptr<gemm::ScratchBuffer>> partialGradients;

}  // namespace

void backwardFilter(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const Geometry g(p);
  if (g.spatial <= 0) return;
  if (direct::backwardFilterApplies(p)) return direct::backwardFilter(pool, p, x, dy, dw);
  // Range 0 accumulates straight into dw; every other range sums its images into a partial buffer
  // (its first run with beta 0, so the buffer needs no clearing), added into dw at the end.
  const size_t weightCount = static_cast<size_t>(p.K) * g.columnRows;
  const bool split = splitImages(pool, p.N);
  const int ranges = split ? std::min(p.N, pool.size()) : 1;
  while (static_cast<int>(partialGradients.size()) < ranges)
    partialGradients.push_back(std::make_unique<gemm::ScratchBuffer>());
  std::vector<float*> targets(ranges, dw);
  for (int r = 1; r < ranges; ++r) targets[r] = partialGradients[r]->get(weightCount);
  forEachRun(pool, p.N, imagesPerGemm(g, kBatchDepth), [&](int n0, int count, ThreadPool* inner, int range, bool first) {
    accumulateFilterGradient(g, p, x, dy, n0, count, inner, range == 0 || !first ? 1.f : 0.f, targets[range]);
  });
  if (ranges == 1) return;
  auto addPartials = [&](size_t begin, size_t end, int) {
    for (int r = 1; r < ranges; ++r)
      for (size_t i = begin; i < end; ++i) dw[i] += targets[r][i];
  };
  // A small sum (LeNet's 25,000 weights: a few microseconds) costs less than waking the pool.
  if (weightCount < (1u << 16))
    addPartials(0, weightCount, 0);
  else
    pool.parallelRanges(weightCount, addPartials);
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
