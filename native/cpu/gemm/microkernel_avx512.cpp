// microkernel_avx512.cpp — AVX-512 micro-kernels (MR rows x up to 4 vectors of 16 floats) and a
// transposing B-panel packer built on a 16x16 in-register transpose.
#include <immintrin.h>

#include "microkernel.h"

// GCC 12's _mm512_undefined_ps (used inside the shuffle intrinsics) trips -Wmaybe-uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cudnet::cpu::gemm {
namespace {

#ifndef CUDNET_AVX512_MR
#define CUDNET_AVX512_MR 8
#endif
#ifndef CUDNET_AVX512_VECTORS
#define CUDNET_AVX512_VECTORS 3
#endif
constexpr int kRows = CUDNET_AVX512_MR;
constexpr int kVectors = CUDNET_AVX512_VECTORS;
static_assert(kRows * kVectors + kVectors < 32, "the tile must fit the 32 zmm registers");

// Lanes of the last vector that hold real columns.
inline __mmask16 columnMask(int cols, int vector) {
  int valid = cols - vector * 16;
  return valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (valid > 0 ? valid : 0)) - 1);
}

// Stores acc into one row of C: C = alpha*acc + beta*C, C not read when beta == 0.
template <int V>
inline void storeRow(const __m512* acc, float* row, int cols, float alpha, float beta) {
  const __m512 alphaVector = _mm512_set1_ps(alpha), betaVector = _mm512_set1_ps(beta);
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    __mmask16 mask = columnMask(cols, v);
    __m512 value = _mm512_mul_ps(acc[v], alphaVector);
    if (beta != 0.f) value = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, row + v * 16), betaVector, value);
    _mm512_mask_storeu_ps(row + v * 16, mask, value);
  }
}

// The tile kernel: kc rank-1 updates of an MR x V*16 register block. Each k step loads V vectors
// of B and broadcasts MR values of A, issuing MR*V independent FMAs (enough to hide FMA latency).
template <int V>
void tileKernel(int kc, const float* Ap, const float* Bp, float* C, ptrdiff_t ldc, float alpha, float beta,
                int rows, int cols) {
  __m512 acc[kRows][V];
#pragma GCC unroll 32
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int k = 0; k < kc; ++k) {
    __m512 b[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(Bp + v * 16);
    _mm_prefetch(reinterpret_cast<const char*>(Bp + 8 * V * 16), _MM_HINT_T0);
#pragma GCC unroll 32
    for (int i = 0; i < kRows; ++i) {
      __m512 a = _mm512_set1_ps(Ap[i]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
    Ap += kRows;
    Bp += V * 16;
  }
#pragma GCC unroll 32
  for (int i = 0; i < kRows; ++i)
    if (i < rows) storeRow<V>(acc[i], C + i * ldc, cols, alpha, beta);
}

// 16x16 transpose of r (rows) in place: r[c] becomes column c. Three shuffle stages:
// interleave pairs of rows, then pairs of pairs inside 128-bit lanes, then 128-bit lanes.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // u[4*i + q], 128-bit lane L, holds column 4L+q of rows 4i..4i+3.
  for (int q = 0; q < 4; ++q) {
    __m512 even0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88), even1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
    __m512 odd0 = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xDD), odd1 = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xDD);
    r[q] = _mm512_shuffle_f32x4(even0, even1, 0x88);
    r[8 + q] = _mm512_shuffle_f32x4(even0, even1, 0xDD);
    r[4 + q] = _mm512_shuffle_f32x4(odd0, odd1, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(odd0, odd1, 0xDD);
  }
}

// out[k*width + j] = source[j*ldb + k], in 16x16 blocks; rows past cols and k past kc are zero/skipped.
void packTransposedPanel(const float* source, ptrdiff_t ldb, int kc, int cols, int width, float* out) {
  for (int j0 = 0; j0 < width; j0 += 16) {
    for (int k0 = 0; k0 < kc; k0 += 16) {
      int depth = kc - k0 < 16 ? kc - k0 : 16;
      __mmask16 kMask = __mmask16((1u << depth) - 1);
      __m512 r[16];
      for (int j = 0; j < 16; ++j)
        r[j] = j0 + j < cols ? _mm512_maskz_loadu_ps(kMask, source + (j0 + j) * ldb + k0) : _mm512_setzero_ps();
      transpose16(r);
      for (int k = 0; k < depth; ++k) _mm512_storeu_ps(out + (k0 + k) * width + j0, r[k]);
    }
  }
}

}  // namespace

const KernelSet& avx512KernelSet() {
  static const KernelSet set = {
      "avx512", kRows, 16, kVectors,
      {tileKernel<1>, kVectors >= 2 ? tileKernel<2> : nullptr, kVectors >= 3 ? tileKernel<3> : nullptr,
       kVectors >= 4 ? tileKernel<4> : nullptr},
      packTransposedPanel};
  return set;
}

}  // namespace cudnet::cpu::gemm
