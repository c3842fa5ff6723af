// im2col_avx512.cpp — im2colSlice's fast paths with AVX-512 masked loads and stores (see im2col.h):
//   - "same" convolutions (stride 1, dilation 1, output the size of the input: AlexNet's conv2..conv5):
//     row (c, i, j) of col is plane c shifted by (i - padH)*W + (j - padW), zero where the window leaves
//     the image. One masked load per 16 columns, the mask (row and column inside the image) computed once
//     per 64 columns for every tap, so each row of col costs a few loads and stores, whatever the padding.
//   - other convolutions with horizontal stride 1: one masked load and store per run of an output row.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "im2col.h"

namespace cudnet::cpu {

// Lanes [begin, end) of a 16-lane mask (0 <= begin <= end <= 16).
static inline __mmask16 laneRange(int begin, int end) {
  return __mmask16(((1u << end) - 1) & ~((1u << begin) - 1));
}

void unfoldTapRangeStride1Avx512(const float* plane, const Conv2dParams& p, int rowOffset, int columnOffset, int oh,
                                 int ow, int count, float* out) {
  // Output column c reads input column c + columnOffset, inside the image for c in [validBegin, validEnd).
  const int validBegin = std::max(0, -columnOffset), validEnd = std::min(p.outW, p.W - columnOffset);
  while (count > 0) {
    const int run = std::min(count, p.outW - ow);  // the rest of this output row
    const int ih = oh * p.strideH + rowOffset;
    const bool inside = ih >= 0 && ih < p.H;
    // Input column ow + columnOffset of row ih; lanes outside the image are masked off, never read.
    const float* source = plane + static_cast<ptrdiff_t>(inside ? ih : 0) * p.W + columnOffset;
    for (int t = 0; t < run; t += 16) {
      const int n = std::min(16, run - t), first = ow + t;
      const int begin = std::clamp(validBegin - first, 0, n), end = std::clamp(validEnd - first, begin, n);
      const __mmask16 load = inside ? laneRange(begin, end) : __mmask16(0);
      _mm512_mask_storeu_ps(out + t, laneRange(0, n), _mm512_maskz_loadu_ps(load, source + first));
    }
    out += run, count -= run, ow = 0, ++oh;
  }
}

bool sameSizeUnfoldApplies(const Conv2dParams& p) {
  return p.strideH == 1 && p.strideW == 1 && p.dilationH == 1 && p.dilationW == 1 && p.outH == p.H &&
         p.outW == p.W && p.kernelH * p.kernelW <= kMaxSameSizeTaps && p.kernelH <= 16 && p.kernelW <= 16;
}

// For one geometry: bit s of row set i says output position s, tap row i, reads inside the image; bit s of
// column set j alike for tap column j. Built once per geometry (a 64-column chunk then takes kernelH +
// kernelW word extractions instead of a loop over its positions).
class InsideSets {
 public:
  void prepare(const Conv2dParams& p) {
    if (p.H == H_ && p.W == W_ && p.kernelH == kernelH_ && p.kernelW == kernelW_ && p.padH == padH_ && p.padW == padW_)
      return;
    H_ = p.H, W_ = p.W, kernelH_ = p.kernelH, kernelW_ = p.kernelW, padH_ = p.padH, padW_ = p.padW;
    const int spatial = p.H * p.W;
    words_ = spatial / 64 + 2;  // one spare word so that extract() may read the word after the last
    bits_.assign(static_cast<size_t>(words_) * (p.kernelH + p.kernelW), 0);
    for (int s = 0; s < spatial; ++s) {
      const int oh = s / p.W, ow = s % p.W;
      for (int i = 0; i < p.kernelH; ++i)
        if (unsigned(oh + i - p.padH) < unsigned(p.H)) set(i, s);
      for (int j = 0; j < p.kernelW; ++j)
        if (unsigned(ow + j - p.padW) < unsigned(p.W)) set(p.kernelH + j, s);
    }
  }
  // Bits [first, first+64) of set `which` (rows 0..kernelH-1, then columns).
  uint64_t extract(int which, int first) const {
    const uint64_t* words = bits_.data() + static_cast<size_t>(which) * words_ + first / 64;
    const int shift = first % 64;
    return shift == 0 ? words[0] : (words[0] >> shift) | (words[1] << (64 - shift));
  }

 private:
  void set(int which, int s) { bits_[static_cast<size_t>(which) * words_ + s / 64] |= uint64_t(1) << (s % 64); }
  int H_ = -1, W_ = -1, kernelH_ = -1, kernelW_ = -1, padH_ = -1, padW_ = -1, words_ = 0;
  std::vector<uint64_t> bits_;
};

thread_local InsideSets insideSets;

// Columns [first, first+count) (count <= 64) of the rows, for a convolution sameSizeUnfoldApplies to.
static void unfoldSameSizeChunk(const float* image, const Conv2dParams& p, int rowBegin, int rows, int first,
                                int count, float* out, ptrdiff_t outStride) {
  const uint64_t chunk = count == 64 ? ~uint64_t(0) : (uint64_t(1) << count) - 1;
  uint64_t rowInside[16], columnInside[16];
  for (int i = 0; i < p.kernelH; ++i) rowInside[i] = insideSets.extract(i, first) & chunk;
  for (int j = 0; j < p.kernelW; ++j) columnInside[j] = insideSets.extract(p.kernelH + j, first);
  const int taps = p.kernelH * p.kernelW, vectors = (count + 15) / 16;
  uint64_t tapMask[kMaxSameSizeTaps];
  ptrdiff_t tapShift[kMaxSameSizeTaps];
  for (int i = 0; i < p.kernelH; ++i)
    for (int j = 0; j < p.kernelW; ++j) {
      tapMask[i * p.kernelW + j] = rowInside[i] & columnInside[j];
      tapShift[i * p.kernelW + j] = static_cast<ptrdiff_t>(i - p.padH) * p.W + (j - p.padW) + first;
    }
  const ptrdiff_t planeSize = static_cast<ptrdiff_t>(p.H) * p.W;
  const __mmask16 lastStore = laneRange(0, count - (vectors - 1) * 16);
  int c = rowBegin / taps, tap = rowBegin % taps;
  for (int r = 0; r < rows; ++r, out += outStride) {
    // Masked-off lanes are never read, so the shifted address may point outside the plane.
    const float* source = image + c * planeSize + tapShift[tap];
    const uint64_t mask = tapMask[tap];
    for (int v = 0; v < vectors; ++v) {
      const __m512 values = _mm512_maskz_loadu_ps(__mmask16(mask >> (16 * v)), source + 16 * v);
      if (v + 1 < vectors)
        _mm512_storeu_ps(out + 16 * v, values);
      else
        _mm512_mask_storeu_ps(out + 16 * v, lastStore, values);
    }
    if (++tap == taps) tap = 0, ++c;
  }
}

void unfoldSameSizeAvx512(const float* image, const Conv2dParams& p, int rowBegin, int rows, int columnBegin,
                          int columns, float* out, ptrdiff_t outStride) {
  insideSets.prepare(p);
  for (int done = 0; done < columns; done += 64)
    unfoldSameSizeChunk(image, p, rowBegin, rows, columnBegin + done, std::min(64, columns - done), out + done,
                        outStride);
}

}  // namespace cudnet::cpu

namespace cudnet::cpu {
namespace {

// col2im's masks for a same-size convolution: bit L of masks[chunk*taps + t] says image position
// q = 16*chunk + L receives col row tap t's column q - shift(t), i.e. that output position exists and its
// tap t reads q. Built once per geometry.
class FoldMasks {
 public:
  const uint16_t* prepare(const Conv2dParams& p) {
    if (p.H == H_ && p.W == W_ && p.kernelH == kernelH_ && p.kernelW == kernelW_ && p.padH == padH_ && p.padW == padW_)
      return masks_.data();
    H_ = p.H, W_ = p.W, kernelH_ = p.kernelH, kernelW_ = p.kernelW, padH_ = p.padH, padW_ = p.padW;
    const int spatial = p.H * p.W, chunks = (spatial + 15) / 16, taps = p.kernelH * p.kernelW;
    masks_.assign(static_cast<size_t>(chunks) * taps, 0);
    for (int q = 0; q < spatial; ++q) {
      const int ih = q / p.W, iw = q % p.W;
      for (int i = 0; i < p.kernelH; ++i)
        for (int j = 0; j < p.kernelW; ++j)
          if (unsigned(ih - i + p.padH) < unsigned(p.H) && unsigned(iw - j + p.padW) < unsigned(p.W))
            masks_[static_cast<size_t>(q / 16) * taps + i * p.kernelW + j] |= uint16_t(1u << (q % 16));
    }
    return masks_.data();
  }

 private:
  int H_ = -1, W_ = -1, kernelH_ = -1, kernelW_ = -1, padH_ = -1, padW_ = -1;
  std::vector<uint16_t> masks_;
};

thread_local FoldMasks foldMasks;

}  // namespace

// col2im for a same-size convolution, gathered rather than scattered: image[c, q] is the sum over taps t
// of col[(c, t), q - shift(t)] where that entry exists, 16 positions at a time in registers, so each image
// value is written once (no zeroing pass, no read-modify-write of overlapping windows).
void col2imSameSizeAvx512(const float* col, ptrdiff_t ldcol, int channels, const Conv2dParams& p, float* image) {
  const uint16_t* masks = foldMasks.prepare(p);
  const int taps = p.kernelH * p.kernelW, spatial = p.H * p.W, chunks = (spatial + 15) / 16;
  ptrdiff_t shift[kMaxSameSizeTaps];
  for (int i = 0; i < p.kernelH; ++i)
    for (int j = 0; j < p.kernelW; ++j) shift[i * p.kernelW + j] = static_cast<ptrdiff_t>(i - p.padH) * p.W + (j - p.padW);
  const __mmask16 lastStore = laneRange(0, spatial - (chunks - 1) * 16);
  for (int c = 0; c < channels; ++c) {
    const float* rows = col + static_cast<ptrdiff_t>(c) * taps * ldcol;
    float* plane = image + static_cast<ptrdiff_t>(c) * spatial;
    for (int chunk = 0; chunk < chunks; ++chunk) {
      const uint16_t* mask = masks + static_cast<size_t>(chunk) * taps;
      const int q = chunk * 16;
      // Two partial sums, so consecutive adds do not wait on each other. Masked-off lanes are never read.
      __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
      int t = 0;
      for (; t + 2 <= taps; t += 2) {
        even = _mm512_add_ps(even, _mm512_maskz_loadu_ps(mask[t], rows + t * ldcol + q - shift[t]));
        odd = _mm512_add_ps(odd, _mm512_maskz_loadu_ps(mask[t + 1], rows + (t + 1) * ldcol + q - shift[t + 1]));
      }
      if (t < taps) even = _mm512_add_ps(even, _mm512_maskz_loadu_ps(mask[t], rows + t * ldcol + q - shift[t]));
      const __m512 sum = _mm512_add_ps(even, odd);
      if (chunk + 1 < chunks)
        _mm512_storeu_ps(plane + q, sum);
      else
        _mm512_mask_storeu_ps(plane + q, lastStore, sum);
    }
  }
}

}  // namespace cudnet::cpu
