// softmax.cpp — CudaBackend's softmax through cuDNN (channel mode over an [outer, channels, inner, 1]
// tensor, max subtracted), and softmax loss and accuracy in our kernels (kernels/layers.cu).
#include "../cuda_backend.h"
#include "../descriptors.h"

namespace cudnet::cuda {

namespace {

const float kOne = 1.f, kZero = 0.f;
constexpr size_t kNormalizerOffset = 1024 * sizeof(double);  // after the reduction partials in scratch

std::string softmaxText(int outer, int channels, int inner) {
  return "[" + std::to_string(outer) + ", " + std::to_string(channels) + ", " + std::to_string(inner) + "]";
}

}  // namespace

void CudaBackend::softmaxForward(const SoftmaxParams& p, const float* x, float* y) {
  if (size_t(p.outer) * p.channels * p.inner == 0) return;
  TensorDescriptor tensor = makeTensor(p.outer, p.channels, p.inner, 1);
  checkCudnn(libraries().cudnn.cudnnSoftmaxForward(cudnn_, api::CUDNN_SOFTMAX_ACCURATE, api::CUDNN_SOFTMAX_MODE_CHANNEL,
                                                   &kOne, tensor.get(), x, &kZero, tensor.get(), y),
             [&] { return "softmaxForward " + softmaxText(p.outer, p.channels, p.inner); });
}

// dx = y * (dy - sum_c dy*y)
void CudaBackend::softmaxBackward(const SoftmaxParams& p, const float* y, const float* dy, float* dx) {
  if (size_t(p.outer) * p.channels * p.inner == 0) return;
  TensorDescriptor tensor = makeTensor(p.outer, p.channels, p.inner, 1);
  checkCudnn(libraries().cudnn.cudnnSoftmaxBackward(cudnn_, api::CUDNN_SOFTMAX_ACCURATE, api::CUDNN_SOFTMAX_MODE_CHANNEL,
                                                    &kOne, tensor.get(), y, tensor.get(), dy, &kZero, tensor.get(), dx),
             [&] { return "softmaxBackward " + softmaxText(p.outer, p.channels, p.inner); });
}

void CudaBackend::softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                     float* loss) {
  float* noNormalizer = nullptr;
  kernels_->launch(Kernel::SoftmaxLossForward, 1, stream_, p, prob, labels, loss, noNormalizer);
}

// Two launches: one block counts the valid labels into the normalizer, then every element uses it.
void CudaBackend::softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                      const float* lossWeight, float* dx) {
  const size_t n = size_t(p.outer) * p.channels * p.inner;
  if (n == 0) return;
  float* normalizer = reinterpret_cast<float*>(static_cast<char*>(scratch_) + kNormalizerOffset);
  float* noLoss = nullptr;
  kernels_->launch(Kernel::SoftmaxLossForward, 1, stream_, p, prob, labels, noLoss, normalizer);
  const float* normalizerIn = normalizer;
  kernels_->launch(Kernel::SoftmaxLossBackward, kernels_->blocksFor(n), stream_, p, prob, labels, lossWeight,
                   normalizerIn, dx);
}

void CudaBackend::accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) {
  kernels_->launch(Kernel::Accuracy, 1, stream_, p, scores, labels, out);
}

}  // namespace cudnet::cuda
