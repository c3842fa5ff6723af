// gemm.cpp — CudaBackend's dense algebra: row-major GEMM through column-major cublasSgemm, and the
// InnerProduct bias helpers in our kernels.
#include <algorithm>

#include "../cuda_backend.h"
#include "../loader.h"

namespace cudnet::cuda {

// Row-major C = A*B is column-major C^T = B^T * A^T, so cuBLAS gets B first and the sizes swapped:
// cublasSgemm(opB, opA, N, M, K, B, ldb, A, lda, C, N), with lda = transA ? M : K, ldb = transB ? K : N.
void CudaBackend::gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B,
                       float beta, float* C) {
  if (M == 0 || N == 0) return;
  const int lda = std::max(1, transA ? M : K);  // cuBLAS rejects a leading dimension of 0 (K == 0)
  const int ldb = std::max(1, transB ? K : N);
  checkCublas(libraries().cublas.cublasSgemm_v2(cublas_, transB ? api::CUBLAS_OP_T : api::CUBLAS_OP_N,
                                                transA ? api::CUBLAS_OP_T : api::CUBLAS_OP_N, N, M, K, &alpha, B, ldb,
                                                A, lda, &beta, C, N),
              [&] {
                return "gemm M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
                       (transA ? " transA" : "") + (transB ? " transB" : "");
              });
}

void CudaBackend::addRowBias(int rows, int columns, const float* bias, float* y) {
  const size_t n = size_t(rows) * columns;
  if (n == 0) return;
  kernels_->launch(Kernel::AddRowBias, kernels_->blocksFor(n), stream_, rows, columns, bias, y);
}

void CudaBackend::sumRowsInto(int rows, int columns, const float* dy, float* db) {
  if (rows == 0 || columns == 0) return;
  kernels_->launch(Kernel::SumRowsInto, kernels_->blocksFor(size_t(columns)), stream_, rows, columns, dy, db);
}

}  // namespace cudnet::cuda
