// pack.cpp — packing of A row panels and B column panels (layouts in pack.h).
#include "pack.h"

#include <algorithm>

namespace cudnet::cpu::gemm {

void packA(const float* source, ptrdiff_t rowStride, ptrdiff_t colStride, int rows, int kc, int MR, float* out) {
  for (int p = 0; p < rows; p += MR) {
    int valid = std::min(MR, rows - p);
    float* panel = out + static_cast<ptrdiff_t>(p) * kc;
    const float* block = source + p * rowStride;
    if (colStride == 1) {
      // Rows contiguous in k: walk each row sequentially, writing every MR-th float.
      for (int i = 0; i < MR; ++i) {
        if (i >= valid) {
          for (int k = 0; k < kc; ++k) panel[k * MR + i] = 0.f;
          continue;
        }
        const float* row = block + i * rowStride;
        for (int k = 0; k < kc; ++k) panel[k * MR + i] = row[k];
      }
    } else {
      // Transposed A: the MR values of one k are contiguous in the source.
      for (int k = 0; k < kc; ++k) {
        const float* column = block + k * colStride;
        float* target = panel + k * MR;
        for (int i = 0; i < valid; ++i) target[i] = column[i * rowStride];
        for (int i = valid; i < MR; ++i) target[i] = 0.f;
      }
    }
  }
}

// One panel from a non-transposed B: each k row is a contiguous copy plus zero padding.
static void packPlainPanel(const float* source, ptrdiff_t ldb, int kc, int cols, int width, float* out) {
  for (int k = 0; k < kc; ++k) {
    const float* row = source + k * ldb;
    float* target = out + k * width;
    for (int j = 0; j < cols; ++j) target[j] = row[j];
    for (int j = cols; j < width; ++j) target[j] = 0.f;
  }
}

void packB(const KernelSet& kernels, const float* source, ptrdiff_t ldb, bool transposed, int kc, int cols,
           float* out) {
  for (int j0 = 0; j0 < cols; j0 += kernels.NR()) {
    int width = panelWidth(kernels, j0, cols), valid = std::min(width, cols - j0);
    float* panel = out + static_cast<ptrdiff_t>(j0) * kc;
    if (transposed)
      kernels.packTransposedPanel(source + j0 * ldb, ldb, kc, valid, width, panel);
    else
      packPlainPanel(source + j0, ldb, kc, valid, width, panel);
  }
}

}  // namespace cudnet::cpu::gemm
