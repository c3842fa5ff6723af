// microkernel.h — the register-tile kernels of our SGEMM and the per-ISA set the driver picks at run time.
//
// A micro-kernel computes one tile C[rows, cols] (rows <= MR, cols <= panel width) from packed panels:
//   Ap: MR x kc, stored k-major (Ap[k*MR + i]), rows past the matrix edge are zero;
//   Bp: kc x width, stored k-major (Bp[k*width + j]), width = vectors*lanes, columns past the edge are zero.
// It accumulates the kc rank-1 updates in registers, then stores C = alpha*acc + beta*C.
// When beta == 0, C is never read (it may hold NaN).
#pragma once
#include <cstddef>

namespace cudnet::cpu::gemm {

using MicroKernel = void (*)(int kc, const float* Ap, const float* Bp, float* C, ptrdiff_t ldc, float alpha,
                             float beta, int rows, int cols);

// Packs a B panel from a transposed source: out[k*width + j] = source[j*ldb + k] for j < cols, k < kc,
// zero for cols <= j < width. width is a multiple of the vector lanes.
using TransposedPanelPacker = void (*)(const float* source, ptrdiff_t ldb, int kc, int cols, int width, float* out);

struct KernelSet {
  const char* name;
  int MR;          // rows of a tile (broadcast side)
  int lanes;       // floats per vector
  int maxVectors;  // vectors across a full tile: NR = maxVectors * lanes
  // kernels[v - 1] handles a panel of v vectors (the last, narrower panel uses fewer).
  MicroKernel kernels[8];
  TransposedPanelPacker packTransposedPanel;
  int NR() const { return maxVectors * lanes; }
};

// AVX-512 (16 lanes) and AVX2+FMA (8 lanes) sets; avx512 only callable where the CPU supports it.
const KernelSet& avx512KernelSet();
const KernelSet& avx2KernelSet();

// The best set for this CPU, chosen once with __builtin_cpu_supports.
const KernelSet& bestKernelSet();

}  // namespace cudnet::cpu::gemm
