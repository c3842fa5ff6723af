// pool.cpp — CpuBackend max and average pooling, forward and backward, with Caffe's exact windows.
//
// Every (n, c) plane is pooled on its own, so the planes are split over the threads.
// Window of output (ph, pw), as Caffe's pooling_layer.cpp:
//   hs = ph*strideH - padH,  he = hs + kernelH   (likewise along W)
//   MAX: the window is clipped to the image [max(hs,0), min(he,H)); the running maximum starts at
//        -FLT_MAX and only a strictly greater value replaces it, so on ties the first maximum in
//        row-major order wins and the mask records its index h*W + w inside the plane.
//   AVE: the divisor (min(he, H+padH) - hs) * (min(we, W+padW) - ws) counts the padding cells but
//        not the part hanging past H + pad; the sum covers the in-image cells only.
// A window that starts beyond the input (possible when stride > kernel and pad = 0, where Caffe
// does not clip the ceil'ed output) stays as Caffe leaves it: MAX gives -FLT_MAX with mask -1,
// AVE divides an empty sum by Caffe's extent, which is then 0 (0/0 = NaN) or negative (-0).
#include <algorithm>
#include <cfloat>
#include <cstring>
#include <vector>

#include <immintrin.h>

#include "../../core/error.h"
#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {

// One output row's or column's window: [begin, end) inside the image, and the AVE extent.
struct Window {
  int begin, end;  // clipped to [0, size)
  int extent;      // min(start + kernel, size + pad) - start: the AVE divisor along this axis
};

Window windowAt(int out, int kernel, int pad, int stride, int size) {
  int start = out * stride - pad;
  int paddedEnd = std::min(start + kernel, size + pad);
  return Window{std::max(start, 0), std::min(start + kernel, size), paddedEnd - start};
}

// Windows for every output row (or column), computed once per call.
std::vector<Window> windowsAlong(int outSize, int kernel, int pad, int stride, int size) {
  std::vector<Window> windows(outSize);
  for (int o = 0; o < outSize; ++o) windows[o] = windowAt(o, kernel, pad, stride, size);
  return windows;
}

// The windows of every output row and column, and the run of output columns [interiorBegin,
// interiorEnd) whose windows lie wholly inside the image (no padding, no clipping): those take
// the vectorised path.
struct PlaneWindows {
  std::vector<Window> rows, columns;
  int interiorBegin = 0, interiorEnd = 0;
};

PlaneWindows planeWindows(const PoolParams& p) {
  PlaneWindows windows{windowsAlong(p.outH, p.kernelH, p.padH, p.strideH, p.H),
                       windowsAlong(p.outW, p.kernelW, p.padW, p.strideW, p.W)};
  auto inside = [&](int pw) {
    int start = pw * p.strideW - p.padW;
    return start >= 0 && start + p.kernelW <= p.W;
  };
  int begin = 0;
  while (begin < p.outW && !inside(begin)) ++begin;
  int end = begin;
  while (end < p.outW && inside(end)) ++end;
  windows.interiorBegin = begin, windows.interiorEnd = end;
  return windows;
}

// MAX over one output (ph, pw) with clipped windows, scanning in row-major order.
inline void maxPoolOne(const PoolParams& p, const Window& rows, const Window& columns, const float* x, float* y,
                       float* mask) {
  float best = -FLT_MAX;
  int bestIndex = -1;
  for (int h = rows.begin; h < rows.end; ++h) {
    const float* row = x + static_cast<size_t>(h) * p.W;
    for (int w = columns.begin; w < columns.end; ++w) {
      if (row[w] > best) {
        best = row[w];
        bestIndex = h * p.W + w;
      }
    }
  }
  *y = best;
  if (mask) *mask = static_cast<float>(bestIndex);
}

// Loads the 8 cells cells[0], cells[kStride], ..., cells[7*kStride] (kStride 1 or 2; stride 2
// reads 16 floats and keeps the even ones).
template <int kStride>
inline __m256 loadStrided(const float* cells) {
  if constexpr (kStride == 1) {
    return _mm256_loadu_ps(cells);
  } else {
    __m256 low = _mm256_loadu_ps(cells), high = _mm256_loadu_ps(cells + 8);
    __m256 evens = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));  // c0 c2 c8 c10 | c4 c6 c12 c14
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens), _MM_SHUFFLE(3, 1, 2, 0)));
  }
}

// MAX of the 8 outputs first..first+7 of one output row, all windows inside the image: each
// window cell, in row-major order, is compared with the running maxima (strict >, so the first
// maximum keeps winning on ties, and NaN never wins, as the scalar loop).
template <int kStride>
void maxPoolEight(const PoolParams& p, const Window& rows, int first, const float* x, float* y, float* mask) {
  const __m256i laneOffsets = _mm256_setr_epi32(0, kStride, 2 * kStride, 3 * kStride, 4 * kStride, 5 * kStride,
                                                6 * kStride, 7 * kStride);
  __m256 best = _mm256_set1_ps(-FLT_MAX);
  __m256i bestIndex = _mm256_set1_epi32(-1);
  for (int h = rows.begin; h < rows.end; ++h) {
    for (int dw = 0; dw < p.kernelW; ++dw) {
      const int column = first * kStride - p.padW + dw;
      __m256 value = loadStrided<kStride>(x + static_cast<size_t>(h) * p.W + column);
      __m256i index = _mm256_add_epi32(_mm256_set1_epi32(h * p.W + column), laneOffsets);
      __m256 greater = _mm256_cmp_ps(value, best, _CMP_GT_OQ);
      best = _mm256_blendv_ps(best, value, greater);
      bestIndex = _mm256_blendv_epi8(bestIndex, index, _mm256_castps_si256(greater));
    }
  }
  _mm256_storeu_ps(y + first, best);
  if (mask) _mm256_storeu_ps(mask + first, _mm256_cvtepi32_ps(bestIndex));
}

// The interior outputs [begin, end) of one output row: 8 at a time where every cell the vector
// loads lies inside the image row (strides 1 and 2), one at a time elsewhere.
template <int kStride>
int maxPoolInteriorEights(const PoolParams& p, const Window& rows, int begin, int end, const float* x, float* y,
                          float* mask) {
  const int readWidth = kStride == 1 ? 8 : 16;  // floats one load of 8 outputs touches
  int first = begin;
  while (first + 8 <= end && first * kStride - p.padW + p.kernelW - 1 + readWidth <= p.W) {
    maxPoolEight<kStride>(p, rows, first, x, y, mask);
    first += 8;
  }
  return first;
}

// MAX over one plane x: [H, W] -> y: [outH, outW], mask (may be null) holds the argmax index.
void maxPoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* x, float* y, float* mask) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    const size_t rowStart = static_cast<size_t>(ph) * p.outW;
    float* yRow = y + rowStart;
    float* maskRow = mask ? mask + rowStart : nullptr;
    int pw = 0;
    auto one = [&](int at) {
      maxPoolOne(p, rows, windows.columns[at], x, yRow + at, maskRow ? maskRow + at : nullptr);
    };
    for (; pw < windows.interiorBegin; ++pw) one(pw);
    if (p.strideW == 1) pw = maxPoolInteriorEights<1>(p, rows, pw, windows.interiorEnd, x, yRow, maskRow);
    if (p.strideW == 2) pw = maxPoolInteriorEights<2>(p, rows, pw, windows.interiorEnd, x, yRow, maskRow);
    for (; pw < p.outW; ++pw) one(pw);
  }
}

// AVE over one plane: sum of the in-image cells divided by Caffe's padded extent.
void averagePoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* x, float* y) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      float sum = 0.f;
      for (int h = rows.begin; h < rows.end; ++h) {
        const float* row = x + static_cast<size_t>(h) * p.W;
        for (int w = columns.begin; w < columns.end; ++w) sum += row[w];
      }
      float poolSize = static_cast<float>(rows.extent * columns.extent);
      y[static_cast<size_t>(ph) * p.outW + pw] = sum / poolSize;
    }
  }
}

// MAX backward over one plane: dx[mask] += dy (dx already zeroed); an empty window (mask -1) routes nothing.
void maxUnpoolPlane(const PoolParams& p, const float* dy, const float* mask, float* dx) {
  size_t outCount = static_cast<size_t>(p.outH) * p.outW;
  for (size_t out = 0; out < outCount; ++out) {
    int index = static_cast<int>(mask[out]);
    if (index >= 0) dx[index] += dy[out];
  }
}

// AVE backward over one plane: each in-image cell of a window receives dy / poolSize.
void averageUnpoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* dy, float* dx) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      float share = dy[static_cast<size_t>(ph) * p.outW + pw] / static_cast<float>(rows.extent * columns.extent);
      for (int h = rows.begin; h < rows.end; ++h) {
        float* row = dx + static_cast<size_t>(h) * p.W;
        for (int w = columns.begin; w < columns.end; ++w) row[w] += share;
      }
    }
  }
}

}  // namespace

void CpuBackend::poolForward(const PoolParams& p, const float* x, float* y, float* mask) {
  const size_t inPlane = static_cast<size_t>(p.H) * p.W, outPlane = static_cast<size_t>(p.outH) * p.outW;
  const PlaneWindows windows = planeWindows(p);
  pool().parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    for (size_t plane = begin; plane < end; ++plane) {
      const float* xPlane = x + plane * inPlane;
      float* yPlane = y + plane * outPlane;
      if (p.method == PoolMethod::Max) {
        maxPoolPlane(p, windows, xPlane, yPlane, mask ? mask + plane * outPlane : nullptr);
      } else {
        averagePoolPlane(p, windows, xPlane, yPlane);
      }
    }
  });
}

void CpuBackend::poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) {
  const size_t inPlane = static_cast<size_t>(p.H) * p.W, outPlane = static_cast<size_t>(p.outH) * p.outW;
  if (p.method == PoolMethod::Max && mask == nullptr) {
    throw Error("INVALID_ARGUMENT", "MAX pooling backward needs the mask written by the forward pass");
  }
  const PlaneWindows windows = planeWindows(p);
  pool().parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    for (size_t plane = begin; plane < end; ++plane) {
      float* dxPlane = dx + plane * inPlane;
      std::memset(dxPlane, 0, inPlane * sizeof(float));
      if (p.method == PoolMethod::Max) {
        maxUnpoolPlane(p, dy + plane * outPlane, mask + plane * outPlane, dxPlane);
      } else {
        averageUnpoolPlane(p, windows, dy + plane * outPlane, dxPlane);
      }
    }
  });
}

}  // namespace cudnet::cpu
