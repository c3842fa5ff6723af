// pack.h — copies blocks of A and B into the contiguous, zero-padded layouts the micro-kernels read.
#pragma once
#include <cstddef>

#include "microkernel.h"

namespace cudnet::cpu::gemm {

// A block of `rows` x kc, element (i,k) = source[i*rowStride + k*colStride], into row panels of MR:
// panel p (rows p*MR ..) holds out[p*MR*kc + k*MR + i]; rows past the block are zero.
void packA(const float* source, ptrdiff_t rowStride, ptrdiff_t colStride, int rows, int kc, int MR, float* out);

// A B block of kc x cols into column panels of NR (the last one rounded up to whole vectors):
// panel starting at column j0 with width w holds out[j0*kc + k*w + j]. Element (k,j) is
// source[k*ldb + j], or source[j*ldb + k] when transposed. Returns nothing; panel widths follow panelWidth().
void packB(const KernelSet& kernels, const float* source, ptrdiff_t ldb, bool transposed, int kc, int cols,
           float* out);

// Width of the panel that starts at column j0 of a block `cols` wide.
inline int panelWidth(const KernelSet& kernels, int j0, int cols) {
  int remaining = cols - j0, NR = kernels.NR();
  if (remaining >= NR) return NR;
  return (remaining + kernels.lanes - 1) / kernels.lanes * kernels.lanes;
}

}  // namespace cudnet::cpu::gemm
