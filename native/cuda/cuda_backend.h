// cuda_backend.h — CudaBackend: the Backend interface on one NVIDIA GPU (cuDNN, cuBLAS and our kernels
// on one CUDA stream), and the free functions the binding uses to find and open GPUs.
// Each group of ops is implemented in its own file under native/cuda/ops/ (one base name per op).
#pragma once
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "../core/backend.h"
#include "allocator.h"
#include "api/cublas.h"
#include "api/cudnn.h"
#include "api/driver.h"
#include "kernels.h"
#include "ops/conv_choice.h"

namespace cudnet::cuda {

struct ConvolutionPlan;  // descriptors and chosen algorithms of one convolution shape (ops/conv.cpp)

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int ordinal);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda:" + std::to_string(ordinal_); }
  std::string describe() const override { return description_; }
  void bindToCurrentThread() override;

  // TF32 tensor cores for convolutions and GEMM (off by default: float32 results agree with the CPU).
  void setTf32(bool enabled);
  bool tf32() const { return tf32_; }
  // Only convolution algorithms cuDNN marks deterministic (off by default: the fastest run, and some, such
  // as backward-data and backward-filter ALGO_0, add with atomics in an order that changes between runs).
  // Plans are keyed by it, as by TF32, so each setting keeps its own choices.
  void setDeterministic(bool enabled) { deterministic_ = enabled; }
  bool deterministic() const { return deterministic_; }

  // memory (cuda_backend.cpp)
  void* allocate(size_t bytes) override;
  void release(void* pointer, size_t bytes) override;
  void copyFromHost(void* destination, const void* source, size_t bytes) override;
  void copyToHost(void* destination, const void* source, size_t bytes) override;
  void synchronize() override;
  size_t cachedBytes() const override;
  void emptyCache() override;
  size_t reservedBytes() const;  // device bytes held (live tensors + cache + cuDNN workspace)

  // ops/elementwise.cpp
  void fill(size_t n, float value, float* y) override;
  void copy(size_t n, const float* x, float* y) override;
  void axpby(size_t n, float alpha, const float* x, float beta, float* y) override;
  void multiply(size_t n, const float* a, const float* b, float* y) override;
  void powerForward(size_t n, float power, float scale, float shift, const float* x, float* y) override;
  void powerBackward(size_t n, float power, float scale, float shift, const float* x, const float* dy,
                     float* dx) override;
  void maxAccumulate(size_t n, int index, const float* x, float* y, float* mask) override;
  void maxSelectBackward(size_t n, int index, const float* mask, const float* dy, float* dx) override;
  void channelAffineForward(int outer, int channels, int inner, const float* x, const float* scale,
                            const float* bias, float* y) override;
  void channelAffineBackward(int outer, int channels, int inner, const float* x, const float* scale,
                             const float* dy, float* dx, float* dscale, float* dbias) override;
  void copyBlocks(size_t count, size_t block, const float* source, size_t sourceStride, float* destination,
                  size_t destinationStride) override;
  void dot(size_t n, const float* x, const float* y, float* out) override;
  void sumSquares(size_t n, const float* x, float* out) override;
  void sumAbs(size_t n, const float* x, float* out) override;

  // ops/gemm.cpp
  void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override;
  void addRowBias(int rows, int columns, const float* bias, float* y) override;
  void sumRowsInto(int rows, int columns, const float* dy, float* db) override;

  // ops/conv.cpp
  void conv2dForward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) override;
  void conv2dBackwardData(const Conv2dParams& p, const float* w, const float* dy, float* dx) override;
  void conv2dBackwardFilter(const Conv2dParams& p, const float* x, const float* dy, float* dw) override;
  void conv2dBackwardBias(const Conv2dParams& p, const float* dy, float* db) override;
  // Times every cuDNN algorithm of the three directions for this shape, as JSON (ops/conv.cpp).
  std::string convolutionAlgorithmsJson(const Conv2dParams& p);

  // ops/pool.cpp
  void poolForward(const PoolParams& p, const float* x, float* y, float* mask) override;
  void poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) override;
  // ops/lrn.cpp
  void lrnForward(const LrnParams& p, const float* x, float* y, float* scale) override;
  void lrnBackward(const LrnParams& p, const float* x, const float* y, const float* scale, const float* dy,
                   float* dx) override;
  // ops/activation.cpp
  void reluForward(size_t n, float slope, const float* x, float* y) override;
  void reluBackward(size_t n, float slope, const float* x, const float* dy, float* dx) override;
  void dropoutForward(size_t n, float ratio, uint64_t seed, const float* x, float* y, float* mask) override;

  // ops/softmax.cpp
  void softmaxForward(const SoftmaxParams& p, const float* x, float* y) override;
  void softmaxBackward(const SoftmaxParams& p, const float* y, const float* dy, float* dx) override;
  void softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels, float* loss) override;
  void softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                           const float* lossWeight, float* dx) override;
  void accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) override;

  // ops/solver.cpp
  void solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                    float* history2) override;

 private:
  void createHandles();
  void releaseResources() noexcept;
  void applyMathModes();
  void reduce(int kind, size_t n, const float* x, const float* y, float* out);
  ConvolutionPlan& planFor(const Conv2dParams& p);
  ConvolutionMode convolutionMode() const { return ConvolutionMode{tf32_, deterministic_}; }
  LabelCheck* labelCheck();                  // in scratch_ (ops/softmax.cpp)
  void throwOnUnusableLabel(int channels);  // reads labelCheck() back (ops/softmax.cpp)
  void* workspace(size_t bytes);  // the shared cuDNN workspace, grown (between iterations) as needed
  size_t workspaceLimit() const { return workspaceLimit_; }
  friend struct ConvolutionSearch;

  int ordinal_;
  api::CUdevice device_ = 0;
  api::CUcontext context_ = nullptr;
  api::CUstream stream_ = nullptr;
  api::cudnnHandle_t cudnn_ = nullptr;
  api::cublasHandle_t cublas_ = nullptr;
  std::unique_ptr<KernelModule> kernels_;
  std::unique_ptr<CachingAllocator> allocator_;
  void* scratch_ = nullptr;  // reduction partials (1024 doubles), then the loss normalizer and the label check
  void* workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
  size_t workspaceLimit_ = 0;
  bool tf32_ = false;
  bool deterministic_ = false;
  std::string description_;
  std::map<std::array<int, 16>, std::unique_ptr<ConvolutionPlan>> plans_;
};

// Number of usable CUDA devices; 0 when none, with whyNot set to one message saying what is missing
// (no driver / no device / no cuDNN / no cuBLAS) and every path the loader tried.
int deviceCount(std::string* whyNot);
// Opens device `ordinal` (throws cudnet::Error("CUDA_UNAVAILABLE", whyNot) when it cannot).
std::unique_ptr<cudnet::Backend> createBackend(int ordinal);
// Versions and the paths the libraries were loaded from (for the GPU check's header), as JSON text.
std::string diagnosticsJson();
// Per-algorithm timings for a convolution shape (for `cudnet bench --algorithms`), as JSON text.
std::string convolutionAlgorithmsJson(cudnet::Backend& backend, const cudnet::Conv2dParams& p);

}  // namespace cudnet::cuda
