// smallm_kernels.h — the small-M kernels (smallm.h) written once over a vector type V, included by
// smallm.cpp (AVX2) and smallm_avx512.cpp (AVX-512) inside an anonymous namespace, each compiled for its ISA.
//
// V provides: Reg, kLanes, zero(), load(p), loadTail(p, n) (n < kLanes lanes, the rest zero),
// storeTail(p, v, n), store(p, v), broadcast(f), fmadd(a, b, c), sum(v), and kRegisters.
// The including file includes <algorithm> and <cstddef> first (this file sits inside its namespace).
#pragma once

// Dot products of G rows of x with R rows of B over K's range [k0, k1): G*R accumulators, R independent load
// streams; started from zero at k0 = 0, else from `saved`, and left in `saved` unless k1 = K, where C gets them
// (Whole: the range is all of K, and `saved` is not used).
// Each lane adds its products in k order, so splitting K into blocks changes nothing: C(i, j) is the same
// bit for bit whatever M, G, R and the blocks, and a batch's rows equal the rows computed alone.
//
// The small-batch path (kSmallRows < M <= kBlockedRows, a fully connected layer on up to 16 images) still reads
// B [N,K] from memory once: R rows of B at a time, K in blocks of kDotBlock floats, each block of the R rows
// (R * 2 KiB) staying in L1 while every group of G rows of x multiplies it.
constexpr int kDotBlock = 512;

template <class V, int G, int R, bool Whole = false>
void dotGroupBlock(int k0, int k1, int K, const float* x, ptrdiff_t ldx, const float* const* rows, float alpha,
                   float beta, float* C, ptrdiff_t ldc, typename V::Reg* saved) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  Reg acc[G][R];
#pragma GCC unroll 16
  for (int i = 0; i < G; ++i)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      if constexpr (Whole)
        acc[i][r] = V::zero();
      else
        acc[i][r] = k0 == 0 ? V::zero() : saved[i * R + r];
    }
  int k = k0;
  for (; k + L <= k1; k += L) {
    Reg w[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) w[r] = V::load(rows[r] + k);
#pragma GCC unroll 16
    for (int i = 0; i < G; ++i) {
      Reg a = V::load(x + i * ldx + k);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[i][r] = V::fmadd(a, w[r], acc[i][r]);
    }
  }
  if (k < k1) {  // only in K's last block: the blocks are whole vectors
    const int n = k1 - k;
    Reg w[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) w[r] = V::loadTail(rows[r] + k, n);
#pragma GCC unroll 16
    for (int i = 0; i < G; ++i) {
      Reg a = V::loadTail(x + i * ldx + k, n);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[i][r] = V::fmadd(a, w[r], acc[i][r]);
    }
  }
  if (!Whole && k1 < K) {
#pragma GCC unroll 16
    for (int i = 0; i < G; ++i)
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) saved[i * R + r] = acc[i][r];
    return;
  }
#pragma GCC unroll 16
  for (int i = 0; i < G; ++i)
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      float* c = C + i * ldc + r;
      float value = alpha * V::sum(acc[i][r]);
      *c = beta == 0.f ? value : value + beta * *c;
    }
}

// Dot products of x's M rows with R rows of B at a time (M <= kSmallRows): M*R accumulators, R independent load
// streams, the whole of K in one pass.
template <class V, int M, int R>
void dotBlock(int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j, float alpha, float beta,
              float* C, ptrdiff_t ldc) {
  const float* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = B + (j + r) * ldb;
  dotGroupBlock<V, M, R, true>(0, K, K, x, ldx, rows, alpha, beta, C + j, ldc, nullptr);
}

template <class V, int M, int R>
void dotRowsOf(int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0, int j1, float alpha,
               float beta, float* C, ptrdiff_t ldc) {
  int j = j0;
  for (; j + R <= j1; j += R) dotBlock<V, M, R>(K, x, ldx, B, ldb, j, alpha, beta, C, ldc);
  for (; j < j1; ++j) dotBlock<V, M, 1>(K, x, ldx, B, ldb, j, alpha, beta, C, ldc);
}

// Rows of B at a time at M = 1 with 32 registers (2, 4, 8, 12 measured alike on fc6/fc7 within the noise).
#ifndef CUDNET_SMALLM_ROWS1
#define CUDNET_SMALLM_ROWS1 8
#endif
// R rows of B in flight: fewer as M grows, so that M*R accumulators + R loads fit the registers.
template <class V>
void dotRows(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0, int j1, float alpha,
             float beta, float* C, ptrdiff_t ldc) {
  constexpr bool wide = V::kRegisters >= 32;
  switch (M) {
    case 1: return dotRowsOf<V, 1, wide ? CUDNET_SMALLM_ROWS1 : 4>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    case 2: return dotRowsOf<V, 2, wide ? 6 : 4>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    case 3: return dotRowsOf<V, 3, wide ? 5 : 3>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    default: return dotRowsOf<V, 4, wide ? 4 : 2>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
  }
}

// C(i, j..j+R) for every row i of x, over K's blocks; the last group of rows may be smaller than G.
template <class V, int G, int R>
void dotTileBlocked(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j, float alpha,
                    float beta, float* C, ptrdiff_t ldc, typename V::Reg* saved) {
  const float* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = B + (j + r) * ldb;
  for (int k0 = 0; k0 < K; k0 += kDotBlock) {
    const int k1 = std::min(K, k0 + kDotBlock);
    int i = 0;
    for (; i + G <= M; i += G)
      dotGroupBlock<V, G, R>(k0, k1, K, x + i * ldx, ldx, rows, alpha, beta, C + i * ldc + j, ldc, saved + i * R);
    const float* xi = x + i * ldx;
    float* ci = C + i * ldc + j;
    typename V::Reg* si = saved + i * R;
    switch (M - i) {
      case 0: break;
      case 1: dotGroupBlock<V, 1, R>(k0, k1, K, xi, ldx, rows, alpha, beta, ci, ldc, si); break;
      case 2: dotGroupBlock<V, 2, R>(k0, k1, K, xi, ldx, rows, alpha, beta, ci, ldc, si); break;
      default: dotGroupBlock<V, 3, R>(k0, k1, K, xi, ldx, rows, alpha, beta, ci, ldc, si); break;  // G <= 4
    }
  }
}

template <class V>
void dotRowsBlocked(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0, int j1,
                    float alpha, float beta, float* C, ptrdiff_t ldc) {
  constexpr bool wide = V::kRegisters >= 32;
  constexpr int G = wide ? 4 : 2, R = wide ? 6 : 5;
  typename V::Reg saved[kBlockedRows * R];
  int j = j0;
  for (; j + R <= j1; j += R) dotTileBlocked<V, G, R>(M, K, x, ldx, B, ldb, j, alpha, beta, C, ldc, saved);
  for (; j < j1; ++j) dotTileBlocked<V, G, 1>(M, K, x, ldx, B, ldb, j, alpha, beta, C, ldc, saved);
}

// C's columns [j0, j1) for B [K,N]: in blocks of kColumns columns whose M accumulator rows stay in L1 (16 KiB
// at M=4), each block adding four rows of B at a time (each row's block read contiguously, 4 KiB).
template <class V, int M>
void axpyColumnsOf(int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0, int j1, float alpha,
                   float beta, float* C, ptrdiff_t ldc) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes, kColumns = 1024;
  alignas(64) float acc[M][kColumns];
  for (int c0 = j0; c0 < j1; c0 += kColumns) {
    const int width = std::min(kColumns, j1 - c0), vectors = width / L, tail = width - vectors * L;
    for (int i = 0; i < M; ++i) std::fill(acc[i], acc[i] + vectors * L + (tail ? L : 0), 0.f);
    int k = 0;
    for (; k + 4 <= K; k += 4) {
      const float* b0 = B + k * ldb + c0;
      const float *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      Reg a[M][4];
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
        for (int q = 0; q < 4; ++q) a[i][q] = V::broadcast(x[i * ldx + k + q]);
      for (int v = 0; v < vectors; ++v) {
        Reg w0 = V::load(b0 + v * L), w1 = V::load(b1 + v * L), w2 = V::load(b2 + v * L), w3 = V::load(b3 + v * L);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) {
          Reg s = V::load(acc[i] + v * L);
          s = V::fmadd(a[i][0], w0, s), s = V::fmadd(a[i][1], w1, s);
          s = V::fmadd(a[i][2], w2, s), s = V::fmadd(a[i][3], w3, s);
          V::store(acc[i] + v * L, s);
        }
      }
      if (tail) {
        const int o = vectors * L;
        Reg w0 = V::loadTail(b0 + o, tail), w1 = V::loadTail(b1 + o, tail), w2 = V::loadTail(b2 + o, tail),
            w3 = V::loadTail(b3 + o, tail);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i) {
          Reg s = V::load(acc[i] + o);
          s = V::fmadd(a[i][0], w0, s), s = V::fmadd(a[i][1], w1, s);
          s = V::fmadd(a[i][2], w2, s), s = V::fmadd(a[i][3], w3, s);
          V::store(acc[i] + o, s);
        }
      }
    }
    for (; k < K; ++k) {
      const float* b0 = B + k * ldb + c0;
      for (int v = 0; v * L < width; ++v) {
        const int n = std::min(L, width - v * L);
        Reg w = n == L ? V::load(b0 + v * L) : V::loadTail(b0 + v * L, n);
#pragma GCC unroll 16
        for (int i = 0; i < M; ++i)
          V::store(acc[i] + v * L, V::fmadd(V::broadcast(x[i * ldx + k]), w, V::load(acc[i] + v * L)));
      }
    }
    const Reg alphaVector = V::broadcast(alpha), betaVector = V::broadcast(beta);
    for (int i = 0; i < M; ++i) {
      float* row = C + i * ldc + c0;
      for (int v = 0; v * L < width; ++v) {
        const int n = std::min(L, width - v * L);
        Reg value = V::fmadd(V::load(acc[i] + v * L), alphaVector, V::zero());
        if (n == L) {
          if (beta != 0.f) value = V::fmadd(V::load(row + v * L), betaVector, value);
          V::store(row + v * L, value);
        } else {
          if (beta != 0.f) value = V::fmadd(V::loadTail(row + v * L, n), betaVector, value);
          V::storeTail(row + v * L, value, n);
        }
      }
    }
  }
}

template <class V>
void axpyColumns(int M, int K, const float* x, ptrdiff_t ldx, const float* B, ptrdiff_t ldb, int j0, int j1,
                 float alpha, float beta, float* C, ptrdiff_t ldc) {
  switch (M) {
    case 1: return axpyColumnsOf<V, 1>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    case 2: return axpyColumnsOf<V, 2>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    case 3: return axpyColumnsOf<V, 3>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
    default: return axpyColumnsOf<V, 4>(K, x, ldx, B, ldb, j0, j1, alpha, beta, C, ldc);
  }
}
