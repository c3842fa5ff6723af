// lrn.cpp — CudaBackend's local response normalization. ACROSS_CHANNELS runs in cuDNN, whose formula is
// Caffe's (both divide alpha by n), so local_size, alpha, beta and k pass straight through; our kernel
// still writes the `scale` buffer the interface returns. Outside cuDNN's limits (n > 16, k < 1e-5,
// beta < 0.01), and for WITHIN_CHANNEL (which cuDNN does not have), our kernels do all of it.
#include "../cuda_backend.h"
#include "../descriptors.h"

namespace cudnet::cuda {

namespace {

bool cudnnCanRun(const LrnParams& p) {
  return p.region == LrnRegion::AcrossChannels && p.localSize >= int(api::CUDNN_LRN_MIN_N) &&
         p.localSize <= int(api::CUDNN_LRN_MAX_N) && p.k >= api::CUDNN_LRN_MIN_K && p.beta >= api::CUDNN_LRN_MIN_BETA;
}

std::string lrnText(const LrnParams& p) {
  return "LRN " + shapeText(p.N, p.C, p.H, p.W) + " local_size " + std::to_string(p.localSize) + " alpha " +
         std::to_string(p.alpha) + " beta " + std::to_string(p.beta) + " k " + std::to_string(p.k);
}

LrnDescriptor makeLrn(const LrnParams& p) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  LrnDescriptor descriptor(cudnn.cudnnCreateLRNDescriptor, cudnn.cudnnDestroyLRNDescriptor, "cudnnCreateLRNDescriptor");
  checkCudnn(cudnn.cudnnSetLRNDescriptor(descriptor.get(), static_cast<unsigned>(p.localSize), p.alpha, p.beta, p.k),
             [&] { return "cudnnSetLRNDescriptor for " + lrnText(p); });
  return descriptor;
}

const float kOne = 1.f, kZero = 0.f;

}  // namespace

void CudaBackend::lrnForward(const LrnParams& p, const float* x, float* y, float* scale) {
  const size_t n = size_t(p.N) * p.C * p.H * p.W;
  if (n == 0) return;
  if (p.region == LrnRegion::WithinChannel) {
    kernels_->launch(Kernel::LrnWithinForward, kernels_->blocksFor(n), stream_, p, x, y, scale);
    return;
  }
  if (!cudnnCanRun(p)) {
    kernels_->launch(Kernel::LrnAcrossScale, kernels_->blocksFor(n), stream_, p, x, scale, y);
    return;
  }
  float* noOutput = nullptr;
  kernels_->launch(Kernel::LrnAcrossScale, kernels_->blocksFor(n), stream_, p, x, scale, noOutput);
  TensorDescriptor tensor = makeTensor(p.N, p.C, p.H, p.W);
  LrnDescriptor lrn = makeLrn(p);
  checkCudnn(libraries().cudnn.cudnnLRNCrossChannelForward(cudnn_, lrn.get(), api::CUDNN_LRN_CROSS_CHANNEL_DIM1, &kOne,
                                                           tensor.get(), x, &kZero, tensor.get(), y),
             [&] { return "lrnForward " + lrnText(p); });
}

void CudaBackend::lrnBackward(const LrnParams& p, const float* x, const float* y, const float* scale,
                              const float* dy, float* dx) {
  const size_t n = size_t(p.N) * p.C * p.H * p.W;
  if (n == 0) return;
  if (p.region == LrnRegion::WithinChannel) {
    kernels_->launch(Kernel::LrnWithinBackward, kernels_->blocksFor(n), stream_, p, x, y, scale, dy, dx);
    return;
  }
  if (!cudnnCanRun(p)) {
    kernels_->launch(Kernel::LrnAcrossBackward, kernels_->blocksFor(n), stream_, p, x, y, scale, dy, dx);
    return;
  }
  TensorDescriptor tensor = makeTensor(p.N, p.C, p.H, p.W);
  LrnDescriptor lrn = makeLrn(p);
  checkCudnn(libraries().cudnn.cudnnLRNCrossChannelBackward(cudnn_, lrn.get(), api::CUDNN_LRN_CROSS_CHANNEL_DIM1,
                                                            &kOne, tensor.get(), y, tensor.get(), dy, tensor.get(), x,
                                                            &kZero, tensor.get(), dx),
             [&] { return "lrnBackward " + lrnText(p); });
}

}  // namespace cudnet::cuda
