// direct_avx2.cpp — AVX2 register tiles of the direct convolution (direct_kernels.h), for CPUs without
// AVX-512. The same 16-float units as the AVX-512 tiles, each two 8-float vectors; with 16 registers the
// tiles are smaller (at most 6 filters forward, KB*TB + TB + 1 <= 16 for the filter gradient).
#include <immintrin.h>

#include "direct_tables.h"

namespace cudnet::cpu::direct {
namespace {

// Forward: KB filters x one 16-float unit (two vectors) of accumulators.
template <int KB>
void forwardUnit(const TileShape& s, const float* input, const float* weights, float* out, size_t outStride) {
  __m256 acc[KB][2];
#pragma GCC unroll 6
  for (int k = 0; k < KB; ++k) acc[k][0] = acc[k][1] = _mm256_setzero_ps();
  const int taps = s.kernelH * s.kernelW;
  for (int c = 0; c < s.channels; ++c) {
    const float* plane = input + c * s.planeStride;
    const float* w = weights + c * taps;
    for (int ky = 0; ky < s.kernelH; ++ky) {
      const float* row = plane + ky * s.rowStep;
      for (int kx = 0; kx < s.kernelW; ++kx) {
        const float* from = row + kx * s.colStep;
        const int tap = ky * s.kernelW + kx;
        const __m256 low = _mm256_loadu_ps(from), high = _mm256_loadu_ps(from + 8);
#pragma GCC unroll 6
        for (int k = 0; k < KB; ++k) {
          const __m256 weight = _mm256_set1_ps(w[k * s.weightStride + tap]);
          acc[k][0] = _mm256_fmadd_ps(weight, low, acc[k][0]);
          acc[k][1] = _mm256_fmadd_ps(weight, high, acc[k][1]);
        }
      }
    }
  }
#pragma GCC unroll 6
  for (int k = 0; k < KB; ++k) {
    _mm256_storeu_ps(out + k * outStride, acc[k][0]);
    _mm256_storeu_ps(out + k * outStride + 8, acc[k][1]);
  }
}

template <int KB>
void forwardRun(const TileShape& s, const float* input, const float* weights, int vectors, float* out,
                 size_t outStride) {
  for (int v = 0; v < vectors; ++v) forwardUnit<KB>(s, input + 16 * v, weights, out + 16 * v, outStride);
}


inline float sum8(__m256 v) {
  __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// The tiles for direct_tables.h: the forward runs above, and the vector type of its filter-gradient tile.
struct Avx2 {
  using Reg = __m256;
  static constexpr int kLanes = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg loadAligned(const float* p) { return _mm256_load_ps(p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(Reg v) { return sum8(v); }
  template <int KB>
  static void forwardTile(const TileShape& s, const float* input, const float* weights, int vectors, float* out,
                          size_t outStride) {
    forwardRun<KB>(s, input, weights, vectors, out, outStride);
  }
  static constexpr int kMaxForwardFilters = 6;
  // The most filters per block for a run of `taps` taps (the accumulators, inputs and a gradient fit the registers).
  static constexpr int maxFilters(int taps) { return taps == 1 ? 8 : taps == 2 ? 6 : taps == 3 ? 3 : 2; }
};

}  // namespace

const Kernels& avx2Kernels() { return Tables<Avx2>::kernels(); }

}  // namespace cudnet::cpu::direct
