// gemm.cpp — CpuBackend's dense algebra: gemm (our SGEMM over all cores), addRowBias, sumRowsInto.
#include <immintrin.h>

#include "../cpu_backend.h"
#include "../gemm/sgemm.h"

namespace cudnet::cpu {

void CpuBackend::gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B,
                      float beta, float* C) {
  gemm::sgemm(pool_, transA, transB, M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

// y[i, j] += bias[j]: rows split over the threads.
void CpuBackend::addRowBias(int rows, int columns, const float* bias, float* y) {
  pool_.parallelRanges(rows, [&](size_t begin, size_t end, int) {
    for (size_t i = begin; i < end; ++i) {
      float* row = y + i * columns;
      for (int j = 0; j < columns; ++j) row[j] += bias[j];
    }
  });
}

// db[j] += sum_i dy[i, j]: columns split over the threads, each column summed down the rows
// (8 columns per AVX2 vector) so every thread writes its own slice of db.
void CpuBackend::sumRowsInto(int rows, int columns, const float* dy, float* db) {
  pool_.parallelRanges((columns + 7) / 8, [&](size_t begin, size_t end, int) {
    for (size_t block = begin; block < end; ++block) {
      int j0 = static_cast<int>(block) * 8;
      if (j0 + 8 <= columns) {
        __m256 total = _mm256_setzero_ps();
        for (int i = 0; i < rows; ++i) total = _mm256_add_ps(total, _mm256_loadu_ps(dy + size_t(i) * columns + j0));
        _mm256_storeu_ps(db + j0, _mm256_add_ps(_mm256_loadu_ps(db + j0), total));
        continue;
      }
      for (int j = j0; j < columns; ++j) {
        float total = 0.f;
        for (int i = 0; i < rows; ++i) total += dy[size_t(i) * columns + j];
        db[j] += total;
      }
    }
  });
}

}  // namespace cudnet::cpu
