// im2col.h — unfolds an image into the column matrix that turns convolution into a GEMM, and back.
//
// For one image (or one group's channels of it) image: [channels, H, W] and the geometry in p,
// col: [channels*kernelH*kernelW, outH*outW] with
//   col[(c*kernelH + i)*kernelW + j, oh*outW + ow] = image[c, oh*strideH - padH + i*dilationH, ow*strideW - padW + j*dilationW]
// and 0 where that position falls in the padding (Caffe's im2col_cpu).
#pragma once
#include <cstddef>

#include "../core/params.h"

namespace cudnet::cpu {

void im2col(const float* image, int channels, const Conv2dParams& p, float* col);

// A rectangle of the same col matrix without building the rest: rows [rowBegin, rowBegin+rows) and
// columns [columnBegin, columnBegin+columns) of col, written to out[r*outStride + j].
// image holds all the channels the rows refer to.
void im2colSlice(const float* image, const Conv2dParams& p, int rowBegin, int rows, int columnBegin, int columns,
                 float* out, ptrdiff_t outStride);

// Kernels of at most this many taps take im2colSlice's fast path for same-size convolutions.
constexpr int kMaxSameSizeTaps = 64;

// The adjoint of im2col: image = sum of every col entry into the position it was read from.
// image is overwritten (zeroed first), so overlapping windows add up. Row r of col starts at
// col + r*ldcol (ldcol >= outH*outW: one image's columns inside a wider matrix of several).
void col2im(const float* col, ptrdiff_t ldcol, int channels, const Conv2dParams& p, float* image);
inline void col2im(const float* col, int channels, const Conv2dParams& p, float* image) {
  col2im(col, static_cast<ptrdiff_t>(p.outH) * p.outW, channels, p, image);
}

}  // namespace cudnet::cpu
