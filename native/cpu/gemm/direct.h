// direct.h — direct convolution for stride-1 layers whose GEMM would be shallow (few input channels
// times kernel taps: LeNet's conv1 has a depth of 25), where im2col + SGEMM spends its time packing.
//
// Each zero-padded input plane is treated as one flat row of Wp-wide lines (direct_kernels.h): every
// tap is then a shifted contiguous load, and a register tile of filters x 16-float vectors needs no
// edge logic. Forward and backward data run the same loop (backward data is the forward convolution of
// dy, padded by dilation*(kernel-1) - pad, with the filters flipped and transposed); backward filter
// accumulates taps x filters tiles over the images, each thread into its own partial sum. The tiles are
// AVX-512 or AVX2 (direct_avx512.cpp, direct_avx2.cpp), chosen as the SGEMM's are (isa.h).
//
// Per output element the sum runs over the taps in the same order whatever the batch size or the
// blocking, so a batch gives the same bits as its images one by one.
#pragma once
#include "../../core/params.h"
#include "../thread_pool.h"

namespace cudnet::cpu::direct {

// Whether each pass of this convolution runs here (stride 1, a shallow depth; on AVX2 only few
// filters); decided from the layer's shape and the CPU alone, never from the batch size.
bool forwardApplies(const Conv2dParams& p);
bool backwardDataApplies(const Conv2dParams& p);
bool backwardFilterApplies(const Conv2dParams& p);

// The same contracts as convolution::forward / backwardData / backwardFilter (convolution.h).
void forward(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* w, const float* b, float* y);
void backwardData(ThreadPool& pool, const Conv2dParams& p, const float* w, const float* dy, float* dx);
void backwardFilter(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* dy, float* dw);

}  // namespace cudnet::cpu::direct
