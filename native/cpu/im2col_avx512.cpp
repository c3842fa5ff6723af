// im2col_avx512.cpp — the unfolding of one im2col row range for convolutions with horizontal stride 1,
// where an output row's values are one contiguous run of the input row: one masked load and one masked
// store per 16 values, the padding's zeros coming from the load mask (no per-run branches or calls).
#include <immintrin.h>

#include <algorithm>

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

}  // namespace cudnet::cpu
