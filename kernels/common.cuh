// common.cuh — helpers every kernel file shares: the index type, the grid-stride loop and block sums.
// Kernels take sizes as `Index` (64-bit) and are launched by native/cuda/kernels.cpp through
// cuLaunchKernel, whose argument list must match these signatures exactly.
#pragma once
#include <cfloat>
#include <cstdint>

#include "core/params.h"
#include "core/random.h"

typedef unsigned long long Index;

// Every thread of the grid visits i = its global id, then steps by the whole grid's size.
#define CUDNET_GRID_LOOP(i, n)                                                       \
  for (Index i = blockIdx.x * (Index)blockDim.x + threadIdx.x; i < (Index)(n); \
       i += (Index)blockDim.x * gridDim.x)

// Block size of every reduction kernel (a power of two; kernels.cpp launches with it).
#define CUDNET_REDUCE_THREADS 256

// Sum of `value` over the block; the result is valid in thread 0. Uses the shared array `scratch`
// of CUDNET_REDUCE_THREADS entries, and a fixed tree order so results are reproducible.
template <typename T>
__device__ T blockSum(T value, T* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  T total = scratch[0];
  __syncthreads();
  return total;
}

// Smallest `value` over the block, valid in every thread; `scratch` and the tree order as blockSum.
template <typename T>
__device__ T blockMinimum(T value, T* scratch) {
  scratch[threadIdx.x] = value;
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride && scratch[threadIdx.x + stride] < scratch[threadIdx.x]) {
      scratch[threadIdx.x] = scratch[threadIdx.x + stride];
    }
    __syncthreads();
  }
  T smallest = scratch[0];
  __syncthreads();
  return smallest;
}
