// isa.h — whether the CPU kernels use AVX-512: where the CPU has it, unless CUDNET_CPU_ISA=avx2 asks
// for the AVX2 kernels (every x86-64 machine cudnet runs on has AVX2 + FMA), so that their code
// paths can be tested and timed on an AVX-512 machine too. Read once per process.
#pragma once
#include <cstdlib>
#include <cstring>

namespace cudnet::cpu {

inline bool useAvx512() {
  static const bool avx512 = [] {
    const char* isa = std::getenv("CUDNET_CPU_ISA");
    if (isa && std::strcmp(isa, "avx2") == 0) return false;
    // The *_avx512.cpp files are compiled for F, BW, DQ and VL (CMakeLists.txt): all four must be there.
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }();
  return avx512;
}

}  // namespace cudnet::cpu
