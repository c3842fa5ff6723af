// sgemm.h — our single-precision GEMM on strided row-major operands, serial and over the thread pool.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C
//   op(A)(i,k) = transA ? A[k*lda + i] : A[i*lda + k]      op(B)(k,j) = transB ? B[j*ldb + k] : B[k*ldb + j]
//   C(i,j) = C[i*ldc + j]
// beta == 0 overwrites C without reading it. The algorithm is Goto's: B blocks packed into L2-sized
// panels, A row panels packed to stay in L1, a register-tile micro-kernel (microkernel.h) over both.
#pragma once
#include <cstddef>
#include <vector>

#include "../thread_pool.h"
#include "microkernel.h"
#include "scratch.h"

namespace cudnet::cpu::gemm {

// op(A) [M,K] packed once into the micro-kernel's layout, for many products that share it
// (a convolution's weights, reused by every image). Layout: depth block after depth block
// (depthStep(K) deep), each holding all rows in panels of MR (pack.h).
// pack() may be called again with other matrices: the storage is kept (never zero-filled, never given
// back), so a convolution that repacks its weights on every call pays no allocation or page faults.
class PackedA {
 public:
  PackedA() = default;
  PackedA(bool transA, int M, int K, const float* A, ptrdiff_t lda) { pack(transA, M, K, A, lda); }
  // Packs op(A) [M,K]; with a pool, its row panels are split over the threads.
  void pack(bool transA, int M, int K, const float* A, ptrdiff_t lda, ThreadPool* pool = nullptr);
  int rows() const { return M_; }
  int depth() const { return K_; }
  // The panels of rows [i0, ...) (i0 a multiple of MR) in the depth block starting at p0 (kc deep).
  const float* block(int p0, int kc, int i0) const {
    return data_ + static_cast<ptrdiff_t>(p0) * paddedRows_ + static_cast<ptrdiff_t>(i0) * kc;
  }

 private:
  int M_ = 0, K_ = 0, paddedRows_ = 0;
  ScratchBuffer storage_;
  float* data_ = nullptr;
};

// A B operand that packs its own panels, so that the matrix never has to exist whole (a convolution's
// columns made straight from the image). pack() writes rows [p0, p0+kc) x columns [j0, j0+cols) of op(B)
// in packB's layout (pack.h): panels of kernels.NR() columns, the last rounded up to whole vectors.
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  virtual void pack(const KernelSet& kernels, int p0, int kc, int j0, int cols, float* out) const = 0;
};

// C[M,N] = alpha * op(A) * B + beta * C with B given by a PanelSource (serial).
void sgemmSerial(bool transA, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda, const PanelSource& b,
                 float beta, float* C, ptrdiff_t ldc);
void sgemmSerial(const PackedA& a, const PanelSource& b, int N, float alpha, float beta, float* C, ptrdiff_t ldc);
// The same over the pool: each thread packs its own columns of B.
void sgemm(ThreadPool& pool, bool transA, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
           const PanelSource& b, float beta, float* C, ptrdiff_t ldc);
void sgemm(ThreadPool& pool, const PackedA& a, const PanelSource& b, int N, float alpha, float beta, float* C,
           ptrdiff_t ldc);

// C[M,N] = alpha * A * op(B) + beta * C with A prepacked (M = a.rows(), K = a.depth()).
void sgemmSerial(const PackedA& a, bool transB, int N, float alpha, const float* B, ptrdiff_t ldb, float beta,
                 float* C, ptrdiff_t ldc);
void sgemm(ThreadPool& pool, const PackedA& a, bool transB, int N, float alpha, const float* B, ptrdiff_t ldb,
           float beta, float* C, ptrdiff_t ldc);

// M <= kSmallRows (smallm.h) streams B unpacked.
void sgemmSerial(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
                 const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

// Splits C into blocks, one per thread of the pool, each computed by sgemmSerial.
void sgemm(ThreadPool& pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
           ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc);

}  // namespace cudnet::cpu::gemm
