// smallm.h — products with few rows of op(A) (a fully connected layer on one to four images):
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C,  M <= kSmallRows,
// computed straight from B without packing it, so that B (the weights) is read from memory once.
//   transB (B [N,K]): C(i,j) is the dot product of A's row i with B's row j; rows of B split over the threads,
//     several at a time so that their loads stay in flight.
//   not transB (B [K,N]): C's rows are sums of B's rows scaled by A's values (axpy); columns split over the threads.
// beta == 0 overwrites C without reading it.
#pragma once
#include <cstddef>

#include "../thread_pool.h"

namespace cudnet::cpu::gemm {

constexpr int kSmallRows = 4;

// Whether sgemm takes the small-M path: M <= kSmallRows, a non-empty product and alpha != 0
// (the degenerate ones stay with the general code, which only scales C).
inline bool smallMApplies(int M, int N, int K, float alpha) {
  return M >= 1 && M <= kSmallRows && N > 0 && K > 0 && alpha != 0.f;
}

// The small-M product; pool == nullptr runs it on the calling thread. Requires smallMApplies.
void sgemmSmallM(ThreadPool* pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                 ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

// One ISA's kernels over a slice of the output (x: M rows of K floats, row stride ldx, M <= kSmallRows).
//   dotRows: C(i, j) for j in [j0, j1), B [N,K].   axpyColumns: C(i, j) for j in [j0, j1), B [K,N].
using SmallMKernel = void (*)(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0,
                              int j1, float alpha, float beta, float* C, ptrdiff_t ldc);
struct SmallMKernels {
  SmallMKernel dotRows, axpyColumns;
  int lanes;
};
const SmallMKernels& smallMKernelsAvx512();
const SmallMKernels& smallMKernelsAvx2();

}  // namespace cudnet::cpu::gemm
