// peak_avx512.cpp — the AVX-512 FMA loop of the peak measurement (peak.h).
#include <immintrin.h>

#include "peak.h"

namespace cudnet::cpu::gemm {

// 24 independent accumulators cover FMA latency (4-5 cycles) x 2 pipes with room to spare.
double fmaLoopAvx512(long iterations) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];  // keeps the loop alive
  (void)sink;
  return 2.0 * 16 * 24 * double(iterations);
}

}  // namespace cudnet::cpu::gemm
