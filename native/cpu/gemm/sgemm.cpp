// sgemm.cpp — the GEMM driver: cache blocking, packing, micro-kernel loop, and the split over threads.
#include "sgemm.h"
#include "../isa.h"

#include <algorithm>

#include "pack.h"
#include "scratch.h"
#include "smallm.h"

namespace cudnet::cpu::gemm {

const KernelSet& bestKernelSet() {
  static const KernelSet& set = useAvx512() ? avx512KernelSet() : avx2KernelSet();
  return set;
}

namespace {

// Blocking (floats). KC: depth of one packed block, so an A row panel (MR x KC, 24 KiB at 8 x 768) stays
// in L1 while the micro-kernel streams B; deep blocks also mean few passes over C. (768 measured best on
// Zen 5 with its 48 KiB L1, against 256, 384, 512 and 1024.) NB: columns of a packed B block (KC x NB, in L2). MC: rows of a packed A block
// (MC x KC, in L2/L3); the B block is packed once per MC rows.
#ifndef CUDNET_GEMM_KC
#define CUDNET_GEMM_KC 768
#endif
#ifndef CUDNET_GEMM_NB
#define CUDNET_GEMM_NB 240
#endif
#ifndef CUDNET_GEMM_MC
#define CUDNET_GEMM_MC 1536
#endif
constexpr int kDepthBlock = CUDNET_GEMM_KC;
constexpr int kColumnBlock = CUDNET_GEMM_NB;
constexpr int kRowBlock = CUDNET_GEMM_MC;

// Equal depth blocks (K=1200 becomes 4 x 300, not 3 x 384 + 48): a thin last block would pay the
// C load/store of a full pass for little work.
int depthStep(int K) {
  int blocks = (K + kDepthBlock - 1) / kDepthBlock;
  return (K + blocks - 1) / blocks;
}

thread_local ScratchBuffer packedABuffer, packedBBuffer;

// Where the A operand comes from: a strided matrix packed block by block, or a PackedA
// (rows from rowOffset on, when a thread computes a slice of the rows).
struct OperandA {
  const float* A = nullptr;
  ptrdiff_t lda = 0;
  bool transposed = false;
  const PackedA* packed = nullptr;
  int rowOffset = 0;
};

// Where the B operand comes from: a strided matrix, or a PanelSource (columns from columnOffset on).
struct OperandB {
  const float* B = nullptr;
  ptrdiff_t ldb = 0;
  bool transposed = false;
  const PanelSource* source = nullptr;
  int columnOffset = 0;
};

// Packs rows [p0, p0+kc) x columns [j0, j0+cols) of op(B).
void packBlockOfB(const KernelSet& kernels, const OperandB& b, int p0, int kc, int j0, int cols, float* out) {
  if (b.source) return b.source->pack(kernels, p0, kc, b.columnOffset + j0, cols, out);
  packB(kernels, b.transposed ? b.B + j0 * b.ldb + p0 : b.B + p0 * b.ldb + j0, b.ldb, b.transposed, kc, cols, out);
}

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
// The A row panel stays in L1 across the inner loop while B panels stream from L2.
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

// The packed A block for rows [i0, i0+rows) x depth [p0, p0+kc): packed now, or found in the PackedA.
const float* blockOfA(const KernelSet& kernels, const OperandA& a, int i0, int rows, int p0, int kc) {
  if (a.packed) return a.packed->block(p0, kc, a.rowOffset + i0);
  const ptrdiff_t rowStride = a.transposed ? 1 : a.lda, columnStride = a.transposed ? a.lda : 1;
  float* Ap = packedABuffer.get(static_cast<size_t>((rows + kernels.MR - 1) / kernels.MR * kernels.MR) * kc);
  packA(a.A + i0 * rowStride + p0 * columnStride, rowStride, columnStride, rows, kc, kernels.MR, Ap);
  return Ap;
}

void gemmCore(const OperandA& a, const OperandB& b, int M, int N, int K, float alpha, float beta, float* C,
              ptrdiff_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.f) return scaleC(M, N, beta, C, ldc);
  const KernelSet& kernels = bestKernelSet();
  const int NR = kernels.NR(), step = depthStep(K);
  int rowBlock = a.packed ? M : std::min(M, kRowBlock), columnBlock = std::min(N, kColumnBlock);
  float* Bp = packedBBuffer.get(static_cast<size_t>((columnBlock + NR - 1) / NR * NR) * step);
  for (int p0 = 0; p0 < K; p0 += step) {
    int kc = std::min(step, K - p0);
    float blockBeta = p0 == 0 ? beta : 1.f;  // later depth blocks add onto the first one's result
    for (int i0 = 0; i0 < M; i0 += rowBlock) {
      int rows = std::min(rowBlock, M - i0);
      const float* Ap = blockOfA(kernels, a, i0, rows, p0, kc);
      for (int j0 = 0; j0 < N; j0 += columnBlock) {
        int cols = std::min(columnBlock, N - j0);
        packBlockOfB(kernels, b, p0, kc, j0, cols, Bp);
        multiplyBlocks(kernels, rows, cols, kc, Ap, Bp, alpha, blockBeta, C + i0 * ldc + j0, ldc);
      }
    }
  }
}

// The time of the slowest thread, in products of a row by a column of depth K, when the rowTiles x
// columnTiles tiles of C are split into rowParts x columnParts blocks: its block's rows x columns, plus
// packing each of its rows of A and columns of B (depth K each), which costs about as much as 10 such
// products (a packed float ~0.3 cycle, a product 2K flops at 64 flops a cycle).
double slowestPart(int M, int N, int MR, int NR, int rowTiles, int columnTiles, int rowParts, int columnParts) {
  int rows = std::min(M, (rowTiles + rowParts - 1) / rowParts * MR);
  int columns = std::min(N, (columnTiles + columnParts - 1) / columnParts * NR);
  return double(rows) * columns + 10.0 * (rows + columns);
}

// Splits C into a grid of blocks on whole tiles, one per thread, choosing the grid whose slowest part is
// fastest: conv3's M=384 x N=169 on 2 threads splits its rows (192 + 192), not its columns (96 + 73, one
// thread idle 13% of the time); fc6's M=128 x N=4096 its columns (a row split would pack all of B twice).
void gemmThreaded(ThreadPool& pool, const OperandA& a, const OperandB& b, int M, int N, int K, float alpha,
                  float beta, float* C, ptrdiff_t ldc) {
  const KernelSet& kernels = bestKernelSet();
  const int MR = kernels.MR, NR = kernels.NR(), threads = pool.size();
  if (threads <= 1 || double(M) * N * std::max(K, 1) < 2e5)
    return gemmCore(a, b, M, N, K, alpha, beta, C, ldc);
  int columnTiles = (N + NR - 1) / NR, rowTiles = (M + MR - 1) / MR;
  int columnParts = 1, rowParts = 1;
  double best = 0;
  for (int columns = std::min(threads, columnTiles); columns >= 1; --columns) {
    int rows = std::max(1, std::min(threads / columns, rowTiles));
    double block = slowestPart(M, N, MR, NR, rowTiles, columnTiles, rows, columns);
    if (best == 0 || block < best) best = block, columnParts = columns, rowParts = rows;
  }
  pool.parallelFor(static_cast<size_t>(rowParts) * columnParts, [&](size_t part) {
    int r = static_cast<int>(part) / columnParts, c = static_cast<int>(part) % columnParts;
    int i0 = rowTiles * r / rowParts * MR, i1 = std::min(M, rowTiles * (r + 1) / rowParts * MR);
    int j0 = columnTiles * c / columnParts * NR, j1 = std::min(N, columnTiles * (c + 1) / columnParts * NR);
    if (i0 >= i1 || j0 >= j1) return;
    OperandA slice = a;
    if (a.packed)
      slice.rowOffset += i0;
    else
      slice.A += a.transposed ? i0 : i0 * a.lda;
    OperandB columns = b;
    if (b.source)
      columns.columnOffset += j0;
    else
      columns.B += b.transposed ? j0 * b.ldb : j0;
    gemmCore(slice, columns, i1 - i0, j1 - j0, K, alpha, beta, C + i0 * ldc + j0, ldc);
  });
}

}  // namespace

void PackedA::pack(bool transA, int M, int K, const float* A, ptrdiff_t lda, ThreadPool* pool) {
  const KernelSet& kernels = bestKernelSet();
  M_ = M, K_ = K;
  paddedRows_ = (M + kernels.MR - 1) / kernels.MR * kernels.MR;
  data_ = storage_.get(std::max<size_t>(static_cast<size_t>(paddedRows_) * std::max(K, 0), 1));
  const ptrdiff_t rowStride = transA ? 1 : lda, columnStride = transA ? lda : 1;
  const int step = depthStep(K), MR = kernels.MR;
  // Row panels [begin, end) of every depth block; each panel is written by one thread.
  auto packPanels = [&](size_t begin, size_t end, int) {
    const int r0 = static_cast<int>(begin) * MR, rows = std::min(M, static_cast<int>(end) * MR) - r0;
    for (int p0 = 0; p0 < K; p0 += step) {
      int kc = std::min(step, K - p0);
      packA(A + r0 * rowStride + p0 * columnStride, rowStride, columnStride, rows, kc, MR,
            const_cast<float*>(block(p0, kc, r0)));
    }
  };
  const size_t panels = static_cast<size_t>(paddedRows_ / MR);
  // Split only where each thread copies at least ~256 KiB: below that, waking the workers costs more.
  const size_t minPanels = std::max<size_t>(1, (size_t(64) << 10) / (size_t(MR) * std::max(K, 1)));
  if (pool && pool->size() > 1 && panels >= 2 * minPanels)
    pool->parallelRanges(panels, packPanels, minPanels);
  else
    packPanels(0, panels, 0);
}

static OperandA matrixA(bool transA, const float* A, ptrdiff_t lda) {
  OperandA a;
  a.A = A, a.lda = lda, a.transposed = transA;
  return a;
}
static OperandA packedOperand(const PackedA& packed) {
  OperandA a;
  a.packed = &packed;
  return a;
}
static OperandB matrixB(bool transB, const float* B, ptrdiff_t ldb) {
  OperandB b;
  b.B = B, b.ldb = ldb, b.transposed = transB;
  return b;
}
static OperandB sourceOperand(const PanelSource& source) {
  OperandB b;
  b.source = &source;
  return b;
}

void sgemmSerial(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
                 const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc) {
  if (smallMApplies(transB, M, N, K, alpha))
    return sgemmSmallM(nullptr, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  gemmCore(matrixA(transA, A, lda), matrixB(transB, B, ldb), M, N, K, alpha, beta, C, ldc);
}

void sgemm(ThreadPool& pool, bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
           ptrdiff_t lda, const float* B, ptrdiff_t ldb, float beta, float* C, ptrdiff_t ldc) {
  if (smallMApplies(transB, M, N, K, alpha))
    return sgemmSmallM(&pool, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  gemmThreaded(pool, matrixA(transA, A, lda), matrixB(transB, B, ldb), M, N, K, alpha, beta, C, ldc);
}

void sgemmSerial(const PackedA& packed, bool transB, int N, float alpha, const float* B, ptrdiff_t ldb, float beta,
                 float* C, ptrdiff_t ldc) {
  gemmCore(packedOperand(packed), matrixB(transB, B, ldb), packed.rows(), N, packed.depth(), alpha, beta, C, ldc);
}

void sgemm(ThreadPool& pool, const PackedA& packed, bool transB, int N, float alpha, const float* B, ptrdiff_t ldb,
           float beta, float* C, ptrdiff_t ldc) {
  gemmThreaded(pool, packedOperand(packed), matrixB(transB, B, ldb), packed.rows(), N, packed.depth(), alpha, beta, C,
               ldc);
}

void sgemmSerial(bool transA, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda, const PanelSource& b,
                 float beta, float* C, ptrdiff_t ldc) {
  gemmCore(matrixA(transA, A, lda), sourceOperand(b), M, N, K, alpha, beta, C, ldc);
}

void sgemmSerial(const PackedA& packed, const PanelSource& b, int N, float alpha, float beta, float* C, ptrdiff_t ldc) {
  gemmCore(packedOperand(packed), sourceOperand(b), packed.rows(), N, packed.depth(), alpha, beta, C, ldc);
}

void sgemm(ThreadPool& pool, bool transA, int M, int N, int K, float alpha, const float* A, ptrdiff_t lda,
           const PanelSource& b, float beta, float* C, ptrdiff_t ldc) {
  gemmThreaded(pool, matrixA(transA, A, lda), sourceOperand(b), M, N, K, alpha, beta, C, ldc);
}

void sgemm(ThreadPool& pool, const PackedA& packed, const PanelSource& b, int N, float alpha, float beta, float* C,
           ptrdiff_t ldc) {
  gemmThreaded(pool, packedOperand(packed), sourceOperand(b), packed.rows(), N, packed.depth(), alpha, beta, C, ldc);
}

}  // namespace cudnet::cpu::gemm
