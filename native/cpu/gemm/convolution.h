// convolution.h — 2-D convolution lowered to our SGEMM (im2col + GEMM per image and group), Caffe's semantics.
//
// Per image n and group g (channels = C/group, filters = K/group, columnRows = channels*kernelH*kernelW,
// spatial = outH*outW, W_g: [filters, columnRows], col = im2col(x_ng): [columnRows, spatial]):
//   forward:         y_ng  = W_g * col + b_g                    (y overwritten)
//   backward data:   dx_ng = col2im(W_g^T * dy_ng)              (dx overwritten)
//   backward filter: dW_g += sum_n dy_ng * col_ng^T             (accumulates)
//   backward bias:   db[k] += sum_{n, oh, ow} dy[n, k, oh, ow]  (accumulates)
// A 1x1, stride 1, pad 0 convolution uses x_ng itself as col. With a batch of at least as many images
// as threads, each thread takes whole images (serial GEMMs); otherwise every GEMM uses all threads.
// When one image's output is small (outH*outW < 384, LeNet's conv2: 64), several images' columns go side
// by side into one GEMM ([columnRows, images*spatial]; for backward filter they are the GEMM's depth), so
// the micro-kernel's tiles are full and the fixed costs of a GEMM are paid once per run of images.
#pragma once
#include "../../core/params.h"
#include "../thread_pool.h"

namespace cudnet::cpu::convolution {

void forward(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* w, const float* b, float* y);
void backwardData(ThreadPool& pool, const Conv2dParams& p, const float* w, const float* dy, float* dx);
void backwardFilter(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* dy, float* dw);
void backwardBias(ThreadPool& pool, const Conv2dParams& p, const float* dy, float* db);

}  // namespace cudnet::cpu::convolution
