// smallm.cpp — the small-M product (smallm.h): its split over the threads, and its AVX2 kernels.
#include "smallm.h"
#include "../isa.h"

#include <immintrin.h>

#include <algorithm>

#include "scratch.h"

namespace cudnet::cpu::gemm {
namespace {

struct Avx2 {
  using Reg = __m256;
  static constexpr int kLanes = 8, kRegisters = 16;
  static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg loadTail(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static void storeTail(float* p, Reg v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  static Reg broadcast(float f) { return _mm256_set1_ps(f); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(Reg v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
};

#include "smallm_kernels.h"

const SmallMKernels& bestSmallMKernels() {
  static const SmallMKernels& set = useAvx512() ? smallMKernelsAvx512() : smallMKernelsAvx2();
  return set;
}

// A thread's share is never under this many multiply-adds: below it, waking a worker costs more than it saves.
constexpr double kMinWorkPerThread = 1 << 17;

thread_local ScratchBuffer transposedABuffer;

}  // namespace

const SmallMKernels& smallMKernelsAvx2() {
  static const SmallMKernels avx2{dotRows<Avx2>, axpyColumns<Avx2>, dotRowsBlocked<Avx2>, Avx2::kLanes};
  return avx2;
}

void sgemmSmallM(ThreadPool* pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                 ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc) {
  const SmallMKernels& kernels = bestSmallMKernels();
  // op(A) as M contiguous rows: A itself, or its columns gathered (M*K floats, small).
  const float* x = A;
  ptrdiff_t ldx = lda;
  if (transA) {
    float* rows = transposedABuffer.get(static_cast<size_t>(M) * K);
    for (int k = 0; k < K; ++k)
      for (int i = 0; i < M; ++i) rows[static_cast<ptrdiff_t>(i) * K + k] = A[k * lda + i];
    x = rows, ldx = K;
  }
  // transB: ranges of B's rows (C's columns); otherwise ranges of whole vectors of C's columns.
  const int unit = transB ? 1 : kernels.lanes;
  const size_t units = static_cast<size_t>((N + unit - 1) / unit);
  const double workPerUnit = double(M) * K * unit;
  const size_t minUnits = static_cast<size_t>(std::max(1.0, kMinWorkPerThread / workPerUnit));
  SmallMKernel kernel = !transB ? kernels.axpyColumns : M <= kSmallRows ? kernels.dotRows : kernels.dotRowsBlocked;
  auto run = [&](size_t begin, size_t end, int) {
    int j0 = static_cast<int>(begin) * unit, j1 = std::min(N, static_cast<int>(end) * unit);
    if (j0 < j1) kernel(M, K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
  };
  if (pool && pool->size() > 1 && units >= 2 * minUnits)
    pool->parallelRanges(units, run, minUnits);
  else
    run(0, units, 0);
}

}  // namespace cudnet::cpu::gemm
