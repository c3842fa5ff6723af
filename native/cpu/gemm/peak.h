// peak.h — measures the machine's single-precision FMA peak (GFLOP/s) with a register-only FMA loop.
#pragma once
#include "../thread_pool.h"

namespace cudnet::cpu::gemm {

// Runs independent FMA chains on every thread of the pool (AVX-512 where present, else AVX2) for
// about `seconds`, and returns the FLOP rate: 2 flops per lane per FMA.
double measureFmaPeak(ThreadPool& pool, double seconds);

// One thread's FMA loop: `iterations` rounds of 24 independent vector FMAs; returns the flops done.
double fmaLoopAvx512(long iterations);
double fmaLoopAvx2(long iterations);

}  // namespace cudnet::cpu::gemm
