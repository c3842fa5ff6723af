// microkernel_avx2.cpp — AVX2+FMA micro-kernels (6 rows x up to 2 vectors of 8 floats), the portable
// baseline used where the CPU lacks AVX-512, and a plain transposing B-panel packer.
#include <immintrin.h>

#include "microkernel.h"

namespace cudnet::cpu::gemm {
namespace {

constexpr int kRows = 6;
constexpr int kVectors = 2;  // 6x2 accumulators + 2 B vectors + 1 broadcast fit the 16 ymm registers

// Lanes of vector `vector` that hold real columns, as an AVX2 mask (sign bit set = lane used).
inline __m256i columnMask(int cols, int vector) {
  int valid = cols - vector * 8;
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), lanes);
}

template <int V>
inline void storeRow(const __m256* acc, float* row, int cols, float alpha, float beta) {
  const __m256 alphaVector = _mm256_set1_ps(alpha), betaVector = _mm256_set1_ps(beta);
  for (int v = 0; v < V; ++v) {
    __m256i mask = columnMask(cols, v);
    __m256 value = _mm256_mul_ps(acc[v], alphaVector);
    if (beta != 0.f) value = _mm256_fmadd_ps(_mm256_maskload_ps(row + v * 8, mask), betaVector, value);
    _mm256_maskstore_ps(row + v * 8, mask, value);
  }
}

// kc rank-1 updates of a 6 x V*8 register block (see microkernel.h for the packed layouts).
template <int V>
void tileKernel(int kc, const float* Ap, const float* Bp, float* C, ptrdiff_t ldc, float alpha, float beta,
                int rows, int cols) {
  __m256 acc[kRows][V];
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[i][v] = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    __m256 b[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) b[v] = _mm256_load_ps(Bp + v * 8);
#pragma GCC unroll 8
    for (int i = 0; i < kRows; ++i) {
      __m256 a = _mm256_broadcast_ss(Ap + i);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[i][v] = _mm256_fmadd_ps(a, b[v], acc[i][v]);
    }
    Ap += kRows;
    Bp += V * 8;
  }
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i)
    if (i < rows) storeRow<V>(acc[i], C + i * ldc, cols, alpha, beta);
}

// out[k*width + j] = source[j*ldb + k]; reads each source row sequentially.
void packTransposedPanel(const float* source, ptrdiff_t ldb, int kc, int cols, int width, float* out) {
  for (int j = 0; j < width; ++j) {
    if (j >= cols) {
      for (int k = 0; k < kc; ++k) out[k * width + j] = 0.f;
      continue;
    }
    const float* row = source + j * ldb;
    for (int k = 0; k < kc; ++k) out[k * width + j] = row[k];
  }
}

}  // namespace

const KernelSet& avx2KernelSet() {
  static const KernelSet set = {"avx2", kRows, 8, kVectors, {tileKernel<1>, tileKernel<2>}, packTransposedPanel};
  return set;
}

}  // namespace cudnet::cpu::gemm
