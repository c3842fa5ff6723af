// sgemm.h — our single-precision GEMM on strided row-major operands, serial and over the thread pool.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
//   op(A)(i,k) = transA ? A[k*lda + i] : A[i*lda + k]      op(B)(k,j) = transB ? B[j*ldb + k] : B[k*ldb + j]
//   C(i,j) = C[i*ldc + j]
// beta == 0 overwrites C without reading it. The algorithm is Goto's: B blocks packed into L2-sized
// panels, A row panels packed to stay in L1, a register-tile micro-kernel (microkernel.h) over both.
#pragma once
#include <cstddef>

#include "../thread_pool.h"

namespace cudnet::cpu::gemm {

void sgemmSerial(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
                 const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

// Splits C into blocks, one per thread of the pool, each computed by sgemmSerial.
void sgemm(ThreadPool& pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
           ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

}  // namespace cudnet::cpu::gemm
