// smallm.h — products with few rows of op(A) (a fully connected layer on a small batch):
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C,  M <= kSmallRows, or M <= kBlockedRows with transB,
// computed straight from B without packing it, so that B (the weights) is read from memory once.
//   transB (B [N,K], the forward pass of a fully connected layer): C(i,j) is the dot product of A's row i with
//     B's row j; rows of B split over the threads, several at a time so that their loads stay in flight; for
//     M > kSmallRows, K in blocks so that each block of B's rows is reused from L1 by every row of A.
//     Every C(i,j) sums its products in the same order whatever M, so a batch's rows equal the rows alone.
//   not transB (B [K,N]): C's rows are sums of B's rows scaled by A's values (axpy); columns split over the threads.
// beta == 0 overwrites C without reading it.
#pragma once
#include <cstddef>

#include "../thread_pool.h"

namespace cudnet::cpu::gemm {

constexpr int kSmallRows = 4;
constexpr int kBlockedRows = 16;

// Whether sgemm takes the small-M path: M <= kSmallRows (M <= kBlockedRows with transB), a non-empty product
// and alpha != 0 (the degenerate ones stay with the general code, which only scales C).
inline bool smallMApplies(bool transB, int M, int N, int K, float alpha) {
  return M >= 1 && M <= (transB ? kBlockedRows : kSmallRows) && N > 0 && K > 0 && alpha != 0.f;
}

// The small-M product; pool == nullptr runs it on the calling thread. Requires smallMApplies.
void sgemmSmallM(ThreadPool* pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                 ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

// One ISA's kernels over a slice of the output (x: M rows of K floats, row stride ldx, M <= kSmallRows).
//   dotRows: C(i, j) for j in [j0, j1), B [N,K].   axpyColumns: C(i, j) for j in [j0, j1), B [K,N].
//   dotRowsBlocked: as dotRows for M <= kBlockedRows (K in blocks).
using SmallMKernel = void (*)(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0,
                              int j1, float alpha, float beta, float* C, ptrdiff_t ldc);
struct SmallMKernels {
  SmallMKernel dotRows, axpyColumns, dotRowsBlocked;
  int lanes;
};
const SmallMKernels& smallMKernelsAvx512();
const SmallMKernels& smallMKernelsAvx2();

}  // namespace cudnet::cpu::gemm
