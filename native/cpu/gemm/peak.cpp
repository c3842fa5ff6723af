// peak.cpp — the AVX2 FMA loop and the timed, all-threads peak measurement (peak.h).
#include "peak.h"
#include "../isa.h"

#include <immintrin.h>

#include <chrono>
#include <vector>

namespace cudnet::cpu::gemm {

double fmaLoopAvx2(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 scale = _mm256_set1_ps(0.999999f), shift = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], scale, shift);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return 2.0 * 8 * 12 * double(iterations);
}

double measureFmaPeak(ThreadPool& pool, double seconds) {
  const bool avx512 = useAvx512();
  auto loop = [&](long iterations) { return avx512 ? fmaLoopAvx512(iterations) : fmaLoopAvx2(iterations); };
  using Clock = std::chrono::steady_clock;
  // Calibrate on one thread, then run the same count on every thread at once.
  long iterations = 1 << 16;
  for (;;) {
    auto start = Clock::now();
    loop(iterations);
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed > seconds / 4 || iterations > (1L << 40)) {
      iterations = static_cast<long>(iterations * seconds / elapsed);
      break;
    }
    iterations *= 4;
  }
  std::vector<double> flops(pool.size(), 0.0);
  auto start = Clock::now();
  pool.parallelFor(pool.size(), [&](size_t thread) { flops[thread] = loop(iterations); });
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  double total = 0;
  for (double f : flops) total += f;
  return total / elapsed * 1e-9;
}

}  // namespace cudnet::cpu::gemm
