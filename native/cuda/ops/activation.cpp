// activation.cpp — CudaBackend's ReLU (with Caffe's negative slope, which cuDNN lacks) and dropout, in
// our kernels; dropout draws from core/random.h's counter-based generator so its mask equals the CPU's.
#include "../cuda_backend.h"

namespace cudnet::cuda {

namespace {
using Index = unsigned long long;
}

void CudaBackend::reluForward(size_t n, float slope, const float* x, float* y) {
  if (n == 0) return;
  kernels_->launch(Kernel::ReluForward, kernels_->blocksFor(n), stream_, Index(n), slope, x, y);
}

void CudaBackend::reluBackward(size_t n, float slope, const float* x, const float* dy, float* dx) {
  if (n == 0) return;
  kernels_->launch(Kernel::ReluBackward, kernels_->blocksFor(n), stream_, Index(n), slope, x, dy, dx);
}

void CudaBackend::dropoutForward(size_t n, float ratio, uint64_t seed, const float* x, float* y, float* mask) {
  if (n == 0) return;
  kernels_->launch(Kernel::DropoutForward, kernels_->blocksFor(n), stream_, Index(n), ratio,
                   static_cast<unsigned long long>(seed), x, y, mask);
}

}  // namespace cudnet::cuda
