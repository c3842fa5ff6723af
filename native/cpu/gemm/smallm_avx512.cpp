// smallm_avx512.cpp — the small-M kernels (smallm_kernels.h) on 16-float AVX-512 vectors.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>

#include "smallm.h"

// GCC 12's _mm512_reduce_add_ps (its _mm512_undefined_ps) trips -Wuninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cudnet::cpu::gemm {
namespace {

struct Avx512 {
  using Reg = __m512;
  static constexpr int kLanes = 16, kRegisters = 32;
  static __mmask16 mask(int n) { return __mmask16((1u << n) - 1); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg loadTail(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static void storeTail(float* p, Reg v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static Reg broadcast(float f) { return _mm512_set1_ps(f); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(Reg v) { return _mm512_reduce_add_ps(v); }
};

#include "smallm_kernels.h"

}  // namespace

const SmallMKernels& smallMKernelsAvx512() {
  static const SmallMKernels kernels{dotRows<Avx512>, axpyColumns<Avx512>, dotRowsBlocked<Avx512>, Avx512::kLanes};
  return kernels;
}

}  // namespace cudnet::cpu::gemm
