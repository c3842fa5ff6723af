// sgemm.cpp — the GEMM driver: cache blocking, packing, micro-kernel loop, and the split over threads.
#include "sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "pack.h"

namespace cudnet::cpu::gemm {

const KernelSet& bestKernelSet() {
  static const KernelSet& set = __builtin_cpu_supports("avx512f") ? avx512KernelSet() : avx2KernelSet();
  return set;
}

namespace {

// Blocking (floats). KC: depth of one packed block, so an A row panel (MR x KC) stays in L1 while the
// micro-kernel streams B. NB: columns of a packed B block (KC x NB, in L2). MC: rows of a packed A block
// (MC x KC, in L2/L3), the B block is packed once per MC rows.
#ifndef CUDNET_GEMM_KC
#define CUDNET_GEMM_KC 384
#endif
#ifndef CUDNET_GEMM_NB
#define CUDNET_GEMM_NB 480
#endif
#ifndef CUDNET_GEMM_MC
#define CUDNET_GEMM_MC 1536
#endif
constexpr int kDepthBlock = CUDNET_GEMM_KC;
constexpr int kColumnBlock = CUDNET_GEMM_NB;
constexpr int kRowBlock = CUDNET_GEMM_MC;

// A growable 64-byte aligned scratch buffer, one per thread, reused across calls.
class ScratchBuffer {
 public:
  ~ScratchBuffer() { std::free(data_); }
  float* get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local ScratchBuffer packedA, packedB;

// C = beta*C for the degenerate products (K == 0 or alpha == 0); beta == 0 writes zeros.
void scaleC(int M, int N, float beta, float* C, ptrdiff_t ldc) {
  for (int i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.f)
      std::fill(row, row + N, 0.f);
    else
      for (int j = 0; j < N; ++j) row[j] *= beta;
  }
}

// Runs the micro-kernel over every tile of one packed A block (rows) x packed B block (cols).
void multiplyBlocks(const KernelSet& kernels, int rows, int cols, int kc, const float* Ap, const float* Bp,
                    float alpha, float beta, float* C, ptrdiff_t ldc) {
  const int MR = kernels.MR;
  for (int i0 = 0; i0 < rows; i0 += MR) {
    const float* panelA = Ap + static_cast<ptrdiff_t>(i0) * kc;
    int tileRows = std::min(MR, rows - i0);
    for (int j0 = 0; j0 < cols; j0 += kernels.NR()) {
      int width = panelWidth(kernels, j0, cols);
      MicroKernel kernel = kernels.kernels[width / kernels.lanes - 1];
      kernel(kc, panelA, Bp + static_cast<ptrdiff_t>(j0) * kc, C + i0 * ldc + j0, ldc, alpha, beta, tileRows,
             std::min(width, cols - j0));
    }
  }
}

}  // namespace

void sgemmSerial(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
                 const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) return scaleC(M, N, beta, C, ldc);
  const KernelSet& kernels = bestKernelSet();
  const int MR = kernels.MR, NR = kernels.NR();
  int rowBlock = std::min(M, kRowBlock), columnBlock = std::min(N, kColumnBlock);
  float* Ap = packedA.get(static_cast<size_t>((rowBlock + MR - 1) / MR * MR) * kDepthBlock);
  float* Bp = packedB.get(static_cast<size_t>((columnBlock + NR - 1) / NR * NR) * kDepthBlock);
  const ptrdiff_t aRow = transA ? 1 : lda, aColumn = transA ? lda : 1;
  // Equal depth blocks (K=1200 becomes 4 x 300, not 3 x 384 + 48): a thin last block would pay the
  // C load/store of a full pass for little work.
  int depthBlocks = (K + kDepthBlock - 1) / kDepthBlock, depthStep = (K + depthBlocks - 1) / depthBlocks;
  for (int p0 = 0; p0 < K; p0 += depthStep) {
    int kc = std::min(depthStep, K - p0);
    float blockBeta = p0 == 0 ? beta : 1.f;  // later depth blocks add onto the first one's result
    for (int i0 = 0; i0 < M; i0 += rowBlock) {
      int rows = std::min(rowBlock, M - i0);
      packA(A + i0 * aRow + p0 * aColumn, aRow, aColumn, rows, kc, MR, Ap);
      for (int j0 = 0; j0 < N; j0 += columnBlock) {
        int cols = std::min(columnBlock, N - j0);
        const float* source = transB ? B + j0 * ldb + p0 : B + p0 * ldb + j0;
        packB(kernels, source, ldb, transB, kc, cols, Bp);
        multiplyBlocks(kernels, rows, cols, kc, Ap, Bp, alpha, blockBeta, C + i0 * ldc + j0, ldc);
      }
    }
  }
}

void sgemm(ThreadPool& pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
           ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc) {
  const KernelSet& kernels = bestKernelSet();
  const int MR = kernels.MR, NR = kernels.NR();
  int threads = pool.size();
  double work = double(M) * N * std::max(K, 1);
  if (threads <= 1 || work < 2e5)
    return sgemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  // Split the columns (each part repacks A, which is small beside B) unless there are too few
  // column tiles, then the rows. Part boundaries fall on whole tiles.
  int columnTiles = (N + NR - 1) / NR, rowTiles = (M + MR - 1) / MR;
  int columnParts = std::min(threads, columnTiles);
  if (columnTiles < 2 * threads && rowTiles >= 2 * threads) columnParts = 1;
  int rowParts = std::max(1, std::min(threads / columnParts, rowTiles));
  pool.parallelFor(static_cast<size_t>(rowParts) * columnParts, [&](size_t part) {
    int r = static_cast<int>(part) / columnParts, c = static_cast<int>(part) % columnParts;
    int i0 = rowTiles * r / rowParts * MR, i1 = std::min(M, rowTiles * (r + 1) / rowParts * MR);
    int j0 = columnTiles * c / columnParts * NR, j1 = std::min(N, columnTiles * (c + 1) / columnParts * NR);
    if (i0 >= i1 || j0 >= j1) return;
    const float* partA = transA ? A + i0 : A + i0 * lda;
    const float* partB = transB ? B + j0 * ldb : B + j0;
    sgemmSerial(transA, transB, i1 - i0, j1 - j0, K, alpha, partA, lda, partB, ldb, beta, C + i0 * ldc + j0, ldc);
  });
}

}  // namespace cudnet::cpu::gemm
