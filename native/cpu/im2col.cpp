// im2col.cpp — im2col and col2im (see im2col.h), one contiguous run of valid columns per output row.
#include "im2col.h"
#include "isa.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace cudnet::cpu {
namespace {

// The output columns ow whose input column ow*stride + offset lies inside [0, width):
// [begin, end), clamped to [0, outWidth).
struct ValidRange {
  int begin, end;
};

ValidRange validColumns(int offset, int stride, int width, int outWidth) {
  int begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int end = width - offset <= 0 ? 0 : (width - offset + stride - 1) / stride;
  begin = std::min(begin, outWidth);
  end = std::max(begin, std::min(end, outWidth));
  return {begin, end};
}

// One row of col for kernel tap (i, j) of one channel: outH x outW values.
void unfoldTap(const float* plane, const Conv2dParams& p, int rowOffset, int columnOffset, float* out) {
  ValidRange valid = validColumns(columnOffset, p.strideW, p.W, p.outW);
  for (int oh = 0; oh < p.outH; ++oh, out += p.outW) {
    int ih = oh * p.strideH + rowOffset;
    if (ih < 0 || ih >= p.H) {
      std::fill(out, out + p.outW, 0.f);
      continue;
    }
    const float* inputRow = plane + ih * p.W;
    std::fill(out, out + valid.begin, 0.f);
    if (p.strideW == 1)
      std::memcpy(out + valid.begin, inputRow + valid.begin + columnOffset, sizeof(float) * (valid.end - valid.begin));
    else
      for (int ow = valid.begin; ow < valid.end; ++ow) out[ow] = inputRow[ow * p.strideW + columnOffset];
    std::fill(out + valid.end, out + p.outW, 0.f);
  }
}

// to[t] += from[t] for a short run (an output row), 8 and 4 at a time.
inline void addRun(const float* __restrict from, int n, float* __restrict to) {
  int t = 0;
  for (; t + 8 <= n; t += 8) _mm256_storeu_ps(to + t, _mm256_add_ps(_mm256_loadu_ps(to + t), _mm256_loadu_ps(from + t)));
  if (t + 4 <= n) _mm_storeu_ps(to + t, _mm_add_ps(_mm_loadu_ps(to + t), _mm_loadu_ps(from + t))), t += 4;
  for (; t < n; ++t) to[t] += from[t];
}

// Adds one tap's row of col back into the plane it was read from.
void foldTap(const float* in, const Conv2dParams& p, int rowOffset, int columnOffset, float* plane) {
  ValidRange valid = validColumns(columnOffset, p.strideW, p.W, p.outW);
  for (int oh = 0; oh < p.outH; ++oh, in += p.outW) {
    int ih = oh * p.strideH + rowOffset;
    if (ih < 0 || ih >= p.H) continue;
    float* imageRow = plane + ih * p.W;
    if (p.strideW == 1) {
      addRun(in + valid.begin, valid.end - valid.begin, imageRow + valid.begin + columnOffset);
      continue;
    }
    for (int ow = valid.begin; ow < valid.end; ++ow) imageRow[ow * p.strideW + columnOffset] += in[ow];
  }
}

}  // namespace

void im2col(const float* image, int channels, const Conv2dParams& p, float* col) {
  const size_t tapSize = static_cast<size_t>(p.outH) * p.outW;
  for (int c = 0; c < channels; ++c) {
    const float* plane = image + static_cast<size_t>(c) * p.H * p.W;
    for (int i = 0; i < p.kernelH; ++i)
      for (int j = 0; j < p.kernelW; ++j, col += tapSize)
        unfoldTap(plane, p, i * p.dilationH - p.padH, j * p.dilationW - p.padW, col);
  }
}

// Copies a short run of n floats (an output row: 8 to 55 values) as whole vectors, the last one
// overlapping the one before; a memcpy call or an element loop costs more than the copy at these sizes.
static inline void copyRun(const float* __restrict from, int n, float* __restrict to) {
  if (n >= 8) {
    for (int t = 0; t + 8 < n; t += 8) _mm256_storeu_ps(to + t, _mm256_loadu_ps(from + t));
    _mm256_storeu_ps(to + n - 8, _mm256_loadu_ps(from + n - 8));
  } else if (n >= 4) {
    _mm_storeu_ps(to, _mm_loadu_ps(from));
    _mm_storeu_ps(to + n - 4, _mm_loadu_ps(from + n - 4));
  } else {
    for (int t = 0; t < n; ++t) to[t] = from[t];
  }
}

static inline void zeroRun(int n, float* to) {
  for (int t = 0; t < n; ++t) to[t] = 0.f;
}

// One row of col (kernel tap (c, i, j)) over `count` output positions from (oh, ow) on, one output row
// at a time: zeros where the tap falls in the padding, a (strided) copy of the input row elsewhere.
static void unfoldTapRange(const float* plane, const Conv2dParams& p, int rowOffset, int columnOffset, int oh, int ow,
                           int count, float* out) {
  const ValidRange valid = validColumns(columnOffset, p.strideW, p.W, p.outW);
  const bool wholeRows = p.strideW == 1 && valid.begin == 0 && valid.end == p.outW;
  while (count > 0) {
    const int run = std::min(count, p.outW - ow);  // the rest of this output row
    const int ih = oh * p.strideH + rowOffset;
    if (ih < 0 || ih >= p.H) {
      zeroRun(run, out);
    } else if (wholeRows) {  // the common case: every column of the row inside the image
      copyRun(plane + ih * p.W + ow + columnOffset, run, out);
    } else {
      const float* source = plane + ih * p.W;
      const int begin = std::min(std::max(ow, valid.begin), ow + run) - ow;
      const int end = std::max(begin + ow, std::min(ow + run, valid.end)) - ow;
      zeroRun(begin, out);
      if (p.strideW == 1)
        copyRun(source + ow + begin + columnOffset, end - begin, out + begin);
      else
        for (int t = begin; t < end; ++t) out[t] = source[(ow + t) * p.strideW + columnOffset];
      zeroRun(run - end, out + end);
    }
    out += run, count -= run, ow = 0, ++oh;
  }
}

// im2col_avx512.cpp: unfoldTapRange for strideW == 1, and the whole slice for same-size convolutions,
// with AVX-512 masked loads and stores.
void unfoldTapRangeStride1Avx512(const float* plane, const Conv2dParams& p, int rowOffset, int columnOffset, int oh,
                                 int ow, int count, float* out);
bool sameSizeUnfoldApplies(const Conv2dParams& p);
void unfoldSameSizeAvx512(const float* image, const Conv2dParams& p, int rowBegin, int rows, int columnBegin,
                          int columns, float* out, ptrdiff_t outStride);
void col2imSameSizeAvx512(const float* col, ptrdiff_t ldcol, int channels, const Conv2dParams& p, float* image);

static const bool hasAvx512 = useAvx512();

void im2colSlice(const float* image, const Conv2dParams& p, int rowBegin, int rows, int columnBegin, int columns,
                 float* out, ptrdiff_t outStride) {
  const bool avx512 = hasAvx512;
  if (avx512 && sameSizeUnfoldApplies(p))
    return unfoldSameSizeAvx512(image, p, rowBegin, rows, columnBegin, columns, out, outStride);
  const auto unfold = avx512 && p.strideW == 1 ? unfoldTapRangeStride1Avx512 : unfoldTapRange;
  // The tap (c, i, j) of row rowBegin, then advanced row by row (no divisions in the loop).
  const int taps = p.kernelH * p.kernelW, oh = columnBegin / p.outW, ow = columnBegin % p.outW;
  int c = rowBegin / taps, i = rowBegin % taps / p.kernelW, j = rowBegin % p.kernelW;
  for (int r = 0; r < rows; ++r) {
    const float* plane = image + static_cast<size_t>(c) * p.H * p.W;
    unfold(plane, p, i * p.dilationH - p.padH, j * p.dilationW - p.padW, oh, ow, columns, out + r * outStride);
    if (++j == p.kernelW) {
      j = 0;
      if (++i == p.kernelH) i = 0, ++c;
    }
  }
}

void col2im(const float* col, ptrdiff_t ldcol, int channels, const Conv2dParams& p, float* image) {
  if (hasAvx512 && sameSizeUnfoldApplies(p)) return col2imSameSizeAvx512(col, ldcol, channels, p, image);
  std::fill(image, image + static_cast<size_t>(channels) * p.H * p.W, 0.f);
  for (int c = 0; c < channels; ++c) {
    float* plane = image + static_cast<size_t>(c) * p.H * p.W;
    for (int i = 0; i < p.kernelH; ++i)
      for (int j = 0; j < p.kernelW; ++j, col += ldcol)
        foldTap(col, p, i * p.dilationH - p.padH, j * p.dilationW - p.padW, plane);
  }
}

}  // namespace cudnet::cpu
