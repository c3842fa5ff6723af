// direct_avx512.cpp — AVX-512 register tiles of the direct convolution (direct_kernels.h).
#include <immintrin.h>

#include "direct_tables.h"

// GCC 12's _mm512_reduce_add_ps (through _mm512_undefined_ps) trips the uninitialized warnings.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cudnet::cpu::direct {
namespace {

// Forward: KB filters x V vectors of accumulators (at most 24 + V + 1 registers). Per tap: V loads of
// the shifted plane, KB broadcasts of a weight, KB*V FMAs.
template <int KB, int V>
void forwardBlock(const TileShape& s, const float* input, const float* weights, float* out, size_t outStride) {
  __m512 acc[KB][V];
#pragma GCC unroll 12
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[k][v] = _mm512_setzero_ps();
  const int taps = s.kernelH * s.kernelW;
  for (int c = 0; c < s.channels; ++c) {
    const float* plane = input + c * s.planeStride;
    const float* w = weights + c * taps;
    for (int ky = 0; ky < s.kernelH; ++ky) {
      const float* row = plane + ky * s.rowStep;
      for (int kx = 0; kx < s.kernelW; ++kx) {
        const float* from = row + kx * s.colStep;
        const int tap = ky * s.kernelW + kx;
        __m512 x[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) x[v] = _mm512_loadu_ps(from + 16 * v);
#pragma GCC unroll 12
        for (int k = 0; k < KB; ++k) {
          const __m512 weight = _mm512_set1_ps(w[k * s.weightStride + tap]);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[k][v] = _mm512_fmadd_ps(weight, x[v], acc[k][v]);
        }
      }
    }
  }
#pragma GCC unroll 12
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + k * outStride + 16 * v, acc[k][v]);
}

// Blocks of three vectors, then the one or two left over.
template <int KB>
void forwardRun(const TileShape& s, const float* input, const float* weights, int vectors, float* out,
                 size_t outStride) {
  int v = 0;
  for (; v + 3 <= vectors; v += 3) forwardBlock<KB, 3>(s, input + 16 * v, weights, out + 16 * v, outStride);
  if (vectors - v == 2) forwardBlock<KB, 2>(s, input + 16 * v, weights, out + 16 * v, outStride);
  if (vectors - v == 1) forwardBlock<KB, 1>(s, input + 16 * v, weights, out + 16 * v, outStride);
}


// The tiles for direct_tables.h: the forward runs above, and the vector type of its filter-gradient tile.
struct Avx512 {
  using Reg = __m512;
  static constexpr int kLanes = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg loadAligned(const float* p) { return _mm512_load_ps(p); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(Reg v) { return _mm512_reduce_add_ps(v); }
  template <int KB>
  static void forwardTile(const TileShape& s, const float* input, const float* weights, int vectors, float* out,
                          size_t outStride) {
    forwardRun<KB>(s, input, weights, vectors, out, outStride);
  }
  static constexpr int kMaxForwardFilters = 8;
  // The most filters per block for a run of `taps` taps (the accumulators, inputs and a gradient fit the registers).
  static constexpr int maxFilters(int taps) { return taps == 1 ? 8 : taps == 2 ? 8 : taps == 3 ? 7 : taps == 4 ? 5 : 4; }
};

}  // namespace

const Kernels& avx512Kernels() { return Tables<Avx512>::kernels(); }

}  // namespace cudnet::cpu::direct
