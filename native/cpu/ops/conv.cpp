// conv.cpp — CpuBackend's convolution: im2col + our SGEMM over all cores (native/cpu/gemm/convolution.h).
#include "../cpu_backend.h"
#include "../gemm/convolution.h"

namespace cudnet::cpu {

void CpuBackend::conv2dForward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  convolution::forward(pool_, p, x, w, b, y);
}

void CpuBackend::conv2dBackwardData(const Conv2dParams& p, const float* w, const float* dy, float* dx) {
  convolution::backwardData(pool_, p, w, dy, dx);
}

void CpuBackend::conv2dBackwardFilter(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  convolution::backwardFilter(pool_, p, x, dy, dw);
}

void CpuBackend::conv2dBackwardBias(const Conv2dParams& p, const float* dy, float* db) {
  convolution::backwardBias(pool_, p, dy, db);
}

}  // namespace cudnet::cpu
