// pool.cpp — CudaBackend's pooling in our kernels (kernels/layers.cu): the interface needs the MAX
// argmax mask and Caffe's ceil/clip output rule and AVE divisor, which cuDNN's pooling does not give.
#include "../cuda_backend.h"

namespace cudnet::cuda {

void CudaBackend::poolForward(const PoolParams& p, const float* x, float* y, float* mask) {
  const size_t n = size_t(p.N) * p.C * p.outH * p.outW;
  if (n == 0) return;
  if (p.method == PoolMethod::Max) {
    kernels_->launch(Kernel::MaxPoolForward, kernels_->blocksFor(n), stream_, p, x, y, mask);
  } else {
    kernels_->launch(Kernel::AvePoolForward, kernels_->blocksFor(n), stream_, p, x, y);
  }
}

void CudaBackend::poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) {
  const size_t n = size_t(p.N) * p.C * p.H * p.W;
  if (n == 0) return;
  if (p.method == PoolMethod::Max) {
    kernels_->launch(Kernel::MaxPoolBackward, kernels_->blocksFor(n), stream_, p, dy, mask, dx);
  } else {
    kernels_->launch(Kernel::AvePoolBackward, kernels_->blocksFor(n), stream_, p, dy, dx);
  }
}

}  // namespace cudnet::cuda
