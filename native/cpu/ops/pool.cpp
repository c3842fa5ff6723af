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

// Lanes 0..count-1 set (count may exceed 8): the mask of a partial load or store.
inline __m256i firstLanes(int count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 8 floats from cells[0..8); when kPartial, only the first `valid` of them are read (the rest are 0),
// so a load never passes the end of an image row.
template <bool kPartial>
inline __m256 loadEight(const float* cells, int valid) {
  if constexpr (kPartial) return _mm256_maskload_ps(cells, firstLanes(valid));
  else return _mm256_loadu_ps(cells);
}

// MAX or AVE (kMax false) of the outputs first..first+7 of one output row (or the first `count` of
// them when kPartial), every window inside the image along W. Each window cell is visited in
// row-major order, as the scalar loops do: MAX compares it with the running maxima (strict >, so the
// first maximum keeps winning on ties and NaN never wins), AVE adds it to the running sums (the same
// additions in the same order, then the same division, so both paths give identical results).
// Stride 1 loads 8 cells per window column dw. Stride 2 loads 16 cells per pair of window columns
// (dw, dw+1) and splits them into evens (column dw of the 8 windows) and odds (dw+1); those vectors
// hold outputs in the order 0 1 4 5 2 3 6 7, so the index offsets follow that order and the results
// are put back in order once, at the end.
template <int kStride, bool kPartial, bool kMax>
void poolEight(const PoolParams& p, const Window& rows, int first, int count, const float* x, float* y,
               float* mask) {
  const __m256i laneOffsets = kStride == 1 ? _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
                                           : _mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14);
  __m256 best = _mm256_set1_ps(-FLT_MAX), sum = _mm256_setzero_ps();
  __m256i bestIndex = _mm256_set1_epi32(-1);
  auto visit = [&](__m256 value, int cellIndex) {
    if constexpr (kMax) {
      __m256i index = _mm256_add_epi32(_mm256_set1_epi32(cellIndex), laneOffsets);
      __m256 greater = _mm256_cmp_ps(value, best, _CMP_GT_OQ);
      best = _mm256_blendv_ps(best, value, greater);
      bestIndex = _mm256_blendv_epi8(bestIndex, index, _mm256_castps_si256(greater));
    } else {
      sum = _mm256_add_ps(sum, value);
    }
  };
  const int firstColumn = first * kStride - p.padW;  // column of cell dw = 0 of output `first`
  for (int h = rows.begin; h < rows.end; ++h) {
    const float* row = x + static_cast<size_t>(h) * p.W;
    for (int dw = 0; dw < p.kernelW; dw += kStride) {
      const int column = firstColumn + dw;
      if constexpr (kStride == 1) {
        visit(loadEight<kPartial>(row + column, p.W - column), h * p.W + column);
      } else {
        __m256 low = loadEight<kPartial>(row + column, p.W - column);
        __m256 high = loadEight<kPartial>(row + column + 8, p.W - column - 8);
        visit(_mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0)), h * p.W + column);
        if (dw + 1 < p.kernelW) visit(_mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1)), h * p.W + column + 1);
      }
    }
  }
  // Interior windows along W have AVE extent kernelW (no padding or clipping inside them).
  __m256 values = kMax ? best : _mm256_div_ps(sum, _mm256_set1_ps(static_cast<float>(rows.extent * p.kernelW)));
  __m256 indices = _mm256_cvtepi32_ps(bestIndex);
  if constexpr (kStride == 2) {
    values = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(values), _MM_SHUFFLE(3, 1, 2, 0)));
    indices = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(indices), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  if constexpr (kPartial) {
    const __m256i lanes = firstLanes(count);
    _mm256_maskstore_ps(y + first, lanes, values);
    if (kMax && mask) _mm256_maskstore_ps(mask + first, lanes, indices);
  } else {
    _mm256_storeu_ps(y + first, values);
    if (kMax && mask) _mm256_storeu_ps(mask + first, indices);
  }
}

// The interior outputs [begin, end) of one output row (strides 1 and 2), 8 at a time: full loads
// while all 8 windows' loads stay inside the image row, then partial (masked) vectors for the rest.
template <int kStride, bool kMax>
void poolInteriorEights(const PoolParams& p, const Window& rows, int begin, int end, const float* x, float* y,
                        float* mask) {
  // A full vector of 8 outputs reads columns first*kStride - padW + [0, lastRead].
  const int lastRead = kStride == 1 ? p.kernelW - 1 + 7 : ((p.kernelW - 1) & ~1) + 15;
  int first = begin;
  for (; first + 8 <= end && first * kStride - p.padW + lastRead < p.W; first += 8)
    poolEight<kStride, false, kMax>(p, rows, first, 8, x, y, mask);
  for (; first < end; first += 8) poolEight<kStride, true, kMax>(p, rows, first, std::min(8, end - first), x, y, mask);
}

// AVE over one output (ph, pw): sum of the in-image cells divided by Caffe's padded extent.
inline void averagePoolOne(const PoolParams& p, const Window& rows, const Window& columns, const float* x, float* y) {
  float sum = 0.f;
  for (int h = rows.begin; h < rows.end; ++h) {
    const float* row = x + static_cast<size_t>(h) * p.W;
    for (int w = columns.begin; w < columns.end; ++w) sum += row[w];
  }
  *y = sum / static_cast<float>(rows.extent * columns.extent);
}

// MAX (kMax) or AVE over one plane x: [H, W] -> y: [outH, outW]; for MAX, mask (may be null) holds
// the argmax index. Windows clipped or padded along W one at a time, the interior ones 8 at a time.
template <bool kMax>
void poolPlane(const PoolParams& p, const PlaneWindows& windows, const float* x, float* y, float* mask) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    const size_t rowStart = static_cast<size_t>(ph) * p.outW;
    float* yRow = y + rowStart;
    float* maskRow = mask ? mask + rowStart : nullptr;
    int pw = 0;
    auto one = [&](int at) {
      if constexpr (kMax) maxPoolOne(p, rows, windows.columns[at], x, yRow + at, maskRow ? maskRow + at : nullptr);
      else averagePoolOne(p, rows, windows.columns[at], x, yRow + at);
    };
    for (; pw < windows.interiorBegin; ++pw) one(pw);
    if (p.strideW <= 2 && windows.interiorEnd > pw) {
      if (p.strideW == 1) poolInteriorEights<1, kMax>(p, rows, pw, windows.interiorEnd, x, yRow, maskRow);
      else poolInteriorEights<2, kMax>(p, rows, pw, windows.interiorEnd, x, yRow, maskRow);
      pw = windows.interiorEnd;
    }
    for (; pw < p.outW; ++pw) one(pw);
  }
}

// Whether the windows tile the image: kernel == stride, no padding. Every input cell then lies in
// exactly one (possibly clipped) window, so backward writes each dx cell once, with no zeroing pass.
bool windowsTile(const PoolParams& p) {
  return p.kernelH == p.strideH && p.kernelW == p.strideW && p.padH == 0 && p.padW == 0;
}

// Each of the 8 values v0..v7 twice: [v0 v0 v1 v1 v2 v2 v3 v3] and [v4 v4 ... v7 v7].
inline void duplicateLanes(__m256 v, __m256* low, __m256* high) {
  __m256 first = _mm256_unpacklo_ps(v, v), second = _mm256_unpackhi_ps(v, v);  // v0v0v1v1|v4v4v5v5, v2v2v3v3|v6v6v7v7
  *low = _mm256_permute2f128_ps(first, second, 0x20);
  *high = _mm256_permute2f128_ps(first, second, 0x31);
}

// dx cells [column, column + 8) of image row h: dy where the mask names the cell, else 0; only the
// first `valid` cells are written when fewer than 8 remain in the row.
inline void storeRouted(float* dxRow, int column, int cellIndex, int valid, __m256 mask, __m256 dy) {
  const __m256 index = _mm256_add_ps(_mm256_set1_ps(static_cast<float>(cellIndex)),
                                     _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 routed = _mm256_and_ps(_mm256_cmp_ps(mask, index, _CMP_EQ_OQ), dy);
  if (valid >= 8) _mm256_storeu_ps(dxRow + column, routed);
  else if (valid > 0) _mm256_maskstore_ps(dxRow + column, firstLanes(valid), routed);
}

// MAX backward over one plane with 2x2 tiling windows (kernel 2, stride 2, no padding): 8 outputs at
// a time, each dy and mask value duplicated to its window's two columns, then compared with the
// index of every cell in the window's one or two rows.
void maxUnpoolTiles2Plane(const PoolParams& p, const PlaneWindows& windows, const float* dy, const float* mask,
                          float* dx) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    const float* dyRow = dy + static_cast<size_t>(ph) * p.outW;
    const float* maskRow = mask + static_cast<size_t>(ph) * p.outW;
    for (int first = 0; first < p.outW; first += 8) {
      const int count = std::min(8, p.outW - first);
      const __m256 dyEight = count == 8 ? _mm256_loadu_ps(dyRow + first) : loadEight<true>(dyRow + first, count);
      const __m256 maskEight = count == 8 ? _mm256_loadu_ps(maskRow + first) : loadEight<true>(maskRow + first, count);
      __m256 dyLow, dyHigh, maskLow, maskHigh;
      duplicateLanes(dyEight, &dyLow, &dyHigh);
      duplicateLanes(maskEight, &maskLow, &maskHigh);
      const int column = 2 * first, valid = p.W - column;  // cells of this row left from `column`
      for (int h = rows.begin; h < rows.end; ++h) {
        float* dxRow = dx + static_cast<size_t>(h) * p.W;
        storeRouted(dxRow, column, h * p.W + column, valid, maskLow, dyLow);
        storeRouted(dxRow, column + 8, h * p.W + column + 8, valid - 8, maskHigh, dyHigh);
      }
    }
  }
}

// MAX backward over one plane with tiling windows of any size: each cell gets dy where the mask
// names it, else 0.
void maxUnpoolTilesPlane(const PoolParams& p, const PlaneWindows& windows, const float* dy, const float* mask,
                         float* dx) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      const size_t out = static_cast<size_t>(ph) * p.outW + pw;
      const int index = static_cast<int>(mask[out]);
      for (int h = rows.begin; h < rows.end; ++h)
        for (int w = columns.begin; w < columns.end; ++w)
          dx[static_cast<size_t>(h) * p.W + w] = h * p.W + w == index ? dy[out] : 0.f;
    }
  }
}

// AVE backward over one plane with tiling windows: each cell gets its window's dy / poolSize.
void averageUnpoolTilesPlane(const PoolParams& p, const PlaneWindows& windows, const float* dy, float* dx) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int h = rows.begin; h < rows.end; ++h) {
      float* dxRow = dx + static_cast<size_t>(h) * p.W;
      for (int pw = 0; pw < p.outW; ++pw) {
        const Window& columns = windows.columns[pw];
        float share = dy[static_cast<size_t>(ph) * p.outW + pw] / static_cast<float>(rows.extent * columns.extent);
        for (int w = columns.begin; w < columns.end; ++w) dxRow[w] = share;
      }
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
        poolPlane<true>(p, windows, xPlane, yPlane, mask ? mask + plane * outPlane : nullptr);
      } else {
        poolPlane<false>(p, windows, xPlane, yPlane, nullptr);
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
  const bool max = p.method == PoolMethod::Max;
  if (windowsTile(p)) {
    const bool tiles2 = p.kernelH == 2 && p.kernelW == 2;
    pool().parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
      for (size_t plane = begin; plane < end; ++plane) {
        const float* dyPlane = dy + plane * outPlane;
        float* dxPlane = dx + plane * inPlane;
        if (max && tiles2) maxUnpoolTiles2Plane(p, windows, dyPlane, mask + plane * outPlane, dxPlane);
        else if (max) maxUnpoolTilesPlane(p, windows, dyPlane, mask + plane * outPlane, dxPlane);
        else averageUnpoolTilesPlane(p, windows, dyPlane, dxPlane);
      }
    });
    return;
  }
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
