// direct_filter_tile.h — the filter-gradient tile of the direct convolution (FilterTile in direct_kernels.h),
// written once over a vector type Vec; included by direct_tables.h inside its anonymous namespace, so each of
// direct_avx512.cpp and direct_avx2.cpp compiles it for its ISA.
//
// Vec provides: Reg, kLanes, zero(), load(p) (unaligned), loadAligned(p), fmadd(a, b, c), sum(v).
#pragma once

// KB filters x TB taps of accumulators, each a vector of partial sums over j (lanes summed once at the end; on
// AVX2 both halves of a 16-float unit go into the same accumulator). Per vector of j: KB aligned loads of dy,
// TB loads of the shifted plane, KB*TB FMAs.
template <class Vec, int KB, int TB>
void filterTile(const float* dy, size_t dyImageStride, size_t dyRowStride, const float* input, size_t inputImageStride,
                int colStep, int images, int vectors, float* out, size_t outStride) {
  using Reg = typename Vec::Reg;
  Reg acc[KB][TB];
#pragma GCC unroll 8
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 5
    for (int t = 0; t < TB; ++t) acc[k][t] = Vec::zero();
  for (int m = 0; m < images; ++m) {
    const float* d = dy + m * dyImageStride;
    const float* x = input + m * inputImageStride;
    for (int j = 0; j < 16 * vectors; j += Vec::kLanes) {
      Reg in[TB];
#pragma GCC unroll 5
      for (int t = 0; t < TB; ++t) in[t] = Vec::load(x + t * colStep + j);
#pragma GCC unroll 8
      for (int k = 0; k < KB; ++k) {
        const Reg gradient = Vec::loadAligned(d + k * dyRowStride + j);
#pragma GCC unroll 5
        for (int t = 0; t < TB; ++t) acc[k][t] = Vec::fmadd(gradient, in[t], acc[k][t]);
      }
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < KB; ++k)
#pragma GCC unroll 5
    for (int t = 0; t < TB; ++t) out[k * outStride + t] += Vec::sum(acc[k][t]);
}
