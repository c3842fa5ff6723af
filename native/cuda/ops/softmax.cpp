// softmax.cpp — CudaBackend's softmax through cuDNN (channel mode over an [outer, channels, inner, 1]
// tensor, max subtracted), and softmax loss and accuracy in our kernels (kernels/layers.cu).
#include "../../core/labels.h"
#include "../cuda_backend.h"
#include "../descriptors.h"

namespace cudnet::cuda {

namespace {

const float kOne = 1.f, kZero = 0.f;
// In the backend's scratch block (cuda_backend.cpp's kScratchBytes: 1024 reduction partials, then 256
// bytes): the loss normalizer, then the label check of the last loss or accuracy kernel.
constexpr size_t kNormalizerOffset = 1024 * sizeof(double);
constexpr size_t kLabelCheckOffset = kNormalizerOffset + 16;
static_assert(kLabelCheckOffset % alignof(LabelCheck) == 0, "the label check is aligned");
static_assert(kLabelCheckOffset + sizeof(LabelCheck) <= kNormalizerOffset + 256,
              "the label check fits the 256 bytes of scratch after the reduction partials");

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

LabelCheck* CudaBackend::labelCheck() {
  return reinterpret_cast<LabelCheck*>(static_cast<char*>(scratch_) + kLabelCheckOffset);
}

// Reads back the check the last loss or accuracy kernel wrote and raises the CPU's error for a bad label.
// This waits for the stream, on the stream's own thread (ops run there, native/core/stream.cpp), never on
// the event loop: a wrong label must fail the op that read it, as on the CPU, instead of indexing past
// the probabilities, and the 16-byte copy costs one round trip per loss or accuracy.
void CudaBackend::throwOnUnusableLabel(int channels) {
  LabelCheck check;
  copyToHost(&check, labelCheck(), sizeof(check));
  if (check.position >= 0) throw labelOutsideRange(check.value, static_cast<size_t>(check.position), channels);
}

void CudaBackend::softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                     float* loss) {
  float* noNormalizer = nullptr;
  kernels_->launch(Kernel::SoftmaxLossForward, 1, stream_, p, prob, labels, loss, noNormalizer, labelCheck());
  throwOnUnusableLabel(p.channels);
}

// Two launches: one block checks the labels and counts the valid ones into the normalizer, then every
// element uses it. The check is read between them, so a bad label leaves dx untouched, as on the CPU.
void CudaBackend::softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                      const float* lossWeight, float* dx) {
  const size_t n = size_t(p.outer) * p.channels * p.inner;
  if (n == 0) return;
  float* normalizer = reinterpret_cast<float*>(static_cast<char*>(scratch_) + kNormalizerOffset);
  float* noLoss = nullptr;
  kernels_->launch(Kernel::SoftmaxLossForward, 1, stream_, p, prob, labels, noLoss, normalizer, labelCheck());
  throwOnUnusableLabel(p.channels);
  const float* normalizerIn = normalizer;
  kernels_->launch(Kernel::SoftmaxLossBackward, kernels_->blocksFor(n), stream_, p, prob, labels, lossWeight,
                   normalizerIn, dx);
}

void CudaBackend::accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) {
  kernels_->launch(Kernel::Accuracy, 1, stream_, p, scores, labels, out, labelCheck());
  throwOnUnusableLabel(p.channels);
}

}  // namespace cudnet::cuda
