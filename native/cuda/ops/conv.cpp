// conv.cpp — CudaBackend's convolution through cuDNN: groups on the descriptor, algorithms chosen by
// timing the candidates once per shape and mode (cudnnFind*AlgorithmEx) within the workspace limit, by
// the rule of conv_choice.h, Caffe's accumulation of filter and bias gradients (beta = 1) and
// overwritten data gradient (beta = 0).
#include <algorithm>
#include <sstream>
#include <vector>

#include "../cuda_backend.h"
#include "../loader.h"
#include "conv_plan.h"

namespace cudnet::cuda {

namespace {

std::string convolutionText(const Conv2dParams& p) {
  std::ostringstream text;
  text << "x " << shapeText(p.N, p.C, p.H, p.W) << ", w " << shapeText(p.K, p.C / (p.group > 0 ? p.group : 1),
                                                                      p.kernelH, p.kernelW)
       << ", y " << shapeText(p.N, p.K, p.outH, p.outW) << ", pad " << p.padH << "x" << p.padW << ", stride "
       << p.strideH << "x" << p.strideW << ", dilation " << p.dilationH << "x" << p.dilationW << ", group "
       << p.group;
  return text.str();
}

std::array<int, 16> keyOf(const Conv2dParams& p, const ConvolutionMode& mode) {
  return {p.N, p.C, p.H, p.W, p.K, p.kernelH, p.kernelW, p.padH, p.padW, p.strideH, p.strideW, p.dilationH,
          p.dilationW, p.group, mode.tf32 ? 1 : 0, mode.deterministic ? 1 : 0};
}

const float kOne = 1.f, kZero = 0.f;

void useMathType(api::cudnnConvolutionDescriptor_t convolution, int mathType, const std::string& what) {
  checkCudnn(libraries().cudnn.cudnnSetConvolutionMathType(convolution, mathType), what);
}

}  // namespace

// One search of one direction. It first sets the mode's search math type on the descriptor: cuDNN times
// the candidates under the descriptor's math type, and running the previous direction's choice left that
// choice's math type there. Then the temporary workspace for timing candidates: as much of the limit as
// the device can give, handed back to the driver right after the search so it never stays reserved.
struct ConvolutionSearch {
  CudaBackend& backend;
  void* space = nullptr;
  size_t bytes = 0;

  ConvolutionSearch(CudaBackend& owner, ConvolutionPlan& plan) : backend(owner) {
    useMathType(plan.convolution.get(), searchMathType(backend.convolutionMode()), "setting the search math type");
    const api::DriverApi& driver = libraries().driver;
    size_t freeBytes = 0, totalBytes = 0;
    checkDriver(driver.cuMemGetInfo_v2(&freeBytes, &totalBytes), "asking the free memory for a convolution search");
    bytes = std::min(backend.workspaceLimit(), freeBytes / 2);
    while (bytes >= (size_t(1) << 20)) {
      api::CUdeviceptr block = 0;
      if (driver.cuMemAlloc_v2(&block, bytes) == api::CUDA_SUCCESS) {
        space = reinterpret_cast<void*>(static_cast<uintptr_t>(block));
        return;
      }
      bytes /= 2;
    }
    bytes = 0;
  }
  ~ConvolutionSearch() {
    if (space == nullptr) return;
    libraries().driver.cuStreamSynchronize(backend.stream_);
    libraries().driver.cuMemFree_v2(reinterpret_cast<uintptr_t>(space));
  }
  ConvolutionSearch(const ConvolutionSearch&) = delete;
  ConvolutionSearch& operator=(const ConvolutionSearch&) = delete;
};

ConvolutionPlan& CudaBackend::planFor(const Conv2dParams& p) {
  auto key = keyOf(p, convolutionMode());
  auto found = plans_.find(key);
  if (found != plans_.end()) return *found->second;
  const api::CudnnApi& cudnn = libraries().cudnn;
  auto plan = std::make_unique<ConvolutionPlan>();
  plan->x = makeTensor(p.N, p.C, p.H, p.W);
  plan->y = makeTensor(p.N, p.K, p.outH, p.outW);
  plan->bias = makeTensor(1, p.K, 1, 1);
  plan->w = makeFilter(p.K, p.C / p.group, p.kernelH, p.kernelW);
  plan->convolution = ConvolutionDescriptor(cudnn.cudnnCreateConvolutionDescriptor,
                                            cudnn.cudnnDestroyConvolutionDescriptor, "cudnnCreateConvolutionDescriptor");
  auto what = [&] { return "configuring the convolution " + convolutionText(p); };
  checkCudnn(cudnn.cudnnSetConvolution2dDescriptor(plan->convolution.get(), p.padH, p.padW, p.strideH, p.strideW,
                                                   p.dilationH, p.dilationW, api::CUDNN_CROSS_CORRELATION,
                                                   api::CUDNN_DATA_FLOAT),
             what);
  checkCudnn(cudnn.cudnnSetConvolutionGroupCount(plan->convolution.get(), p.group), what);
  return *plans_.emplace(key, std::move(plan)).first->second;
}

void CudaBackend::conv2dForward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  ConvolutionPlan& plan = planFor(p);
  if (!plan.forward.chosen) {
    ConvolutionSearch search(*this, plan);
    int maxCount = 0, count = 0;
    checkCudnn(cudnn.cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn_, &maxCount), "cudnnGetConvolutionForwardAlgorithmMaxCount");
    std::vector<api::cudnnConvolutionAlgoPerf_t> results(std::max(maxCount, 1));
    checkCudnn(cudnn.cudnnFindConvolutionForwardAlgorithmEx(cudnn_, plan.x.get(), x, plan.w.get(), w,
                                                            plan.convolution.get(), plan.y.get(), y,
                                                            static_cast<int>(results.size()), &count, results.data(),
                                                            search.space, search.bytes),
               [&] { return "timing forward convolution algorithms for " + convolutionText(p); });
    plan.forward = pickAlgorithm(results.data(), count, search.bytes, convolutionMode(),
                                 "the forward convolution " + convolutionText(p));
  }
  void* space = workspace(plan.forward.workspaceBytes);
  auto what = [&] { return "conv2dForward " + convolutionText(p); };
  useMathType(plan.convolution.get(), plan.forward.mathType, what());
  checkCudnn(cudnn.cudnnConvolutionForward(cudnn_, &kOne, plan.x.get(), x, plan.w.get(), w, plan.convolution.get(),
                                           plan.forward.algorithm, space, plan.forward.workspaceBytes, &kZero,
                                           plan.y.get(), y),
             what);
  if (b != nullptr) {
    checkCudnn(cudnn.cudnnAddTensor(cudnn_, &kOne, plan.bias.get(), b, &kOne, plan.y.get(), y),
               [&] { return "adding the bias of conv2dForward " + convolutionText(p); });
  }
}

void CudaBackend::conv2dBackwardData(const Conv2dParams& p, const float* w, const float* dy, float* dx) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  ConvolutionPlan& plan = planFor(p);
  if (!plan.backwardData.chosen) {
    ConvolutionSearch search(*this, plan);
    int maxCount = 0, count = 0;
    checkCudnn(cudnn.cudnnGetConvolutionBackwardDataAlgorithmMaxCount(cudnn_, &maxCount), "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
    std::vector<api::cudnnConvolutionAlgoPerf_t> results(std::max(maxCount, 1));
    checkCudnn(cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx(
                   cudnn_, plan.w.get(), w, plan.y.get(), dy, plan.convolution.get(), plan.x.get(), dx,
                   static_cast<int>(results.size()), &count, results.data(), search.space, search.bytes),
               [&] { return "timing backward-data convolution algorithms for " + convolutionText(p); });
    plan.backwardData = pickAlgorithm(results.data(), count, search.bytes, convolutionMode(),
                                      "the backward-data convolution " + convolutionText(p));
  }
  void* space = workspace(plan.backwardData.workspaceBytes);
  auto what = [&] { return "conv2dBackwardData " + convolutionText(p); };
  useMathType(plan.convolution.get(), plan.backwardData.mathType, what());
  checkCudnn(cudnn.cudnnConvolutionBackwardData(cudnn_, &kOne, plan.w.get(), w, plan.y.get(), dy,
                                                plan.convolution.get(), plan.backwardData.algorithm, space,
                                                plan.backwardData.workspaceBytes, &kZero, plan.x.get(), dx),
             what);
}

// Timing writes its trial results into the output buffer, and dw accumulates, so the search writes
// into a temporary buffer instead.
void CudaBackend::conv2dBackwardFilter(const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  ConvolutionPlan& plan = planFor(p);
  if (!plan.backwardFilter.chosen) {
    const size_t filterBytes = size_t(p.K) * (p.C / p.group) * p.kernelH * p.kernelW * sizeof(float);
    void* trial = allocate(filterBytes);
    try {
      ConvolutionSearch search(*this, plan);
      int maxCount = 0, count = 0;
      checkCudnn(cudnn.cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(cudnn_, &maxCount), "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
      std::vector<api::cudnnConvolutionAlgoPerf_t> results(std::max(maxCount, 1));
      checkCudnn(cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(
                     cudnn_, plan.x.get(), x, plan.y.get(), dy, plan.convolution.get(), plan.w.get(), trial,
                     static_cast<int>(results.size()), &count, results.data(), search.space, search.bytes),
                 [&] { return "timing backward-filter convolution algorithms for " + convolutionText(p); });
      plan.backwardFilter = pickAlgorithm(results.data(), count, search.bytes, convolutionMode(),
                                          "the backward-filter convolution " + convolutionText(p));
    } catch (...) {
      release(trial, filterBytes);
      throw;
    }
    release(trial, filterBytes);
  }
  void* space = workspace(plan.backwardFilter.workspaceBytes);
  auto what = [&] { return "conv2dBackwardFilter " + convolutionText(p); };
  useMathType(plan.convolution.get(), plan.backwardFilter.mathType, what());
  checkCudnn(cudnn.cudnnConvolutionBackwardFilter(cudnn_, &kOne, plan.x.get(), x, plan.y.get(), dy,
                                                  plan.convolution.get(), plan.backwardFilter.algorithm, space,
                                                  plan.backwardFilter.workspaceBytes, &kOne, plan.w.get(), dw),
             what);
}

void CudaBackend::conv2dBackwardBias(const Conv2dParams& p, const float* dy, float* db) {
  ConvolutionPlan& plan = planFor(p);
  checkCudnn(libraries().cudnn.cudnnConvolutionBackwardBias(cudnn_, &kOne, plan.y.get(), dy, &kOne, plan.bias.get(), db),
             [&] { return "conv2dBackwardBias " + convolutionText(p); });
}

// ---- per-algorithm timings for `cudnet bench --algorithms` ----------------------------------------

namespace {

const char* forwardName(int algorithm) {
  static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  return algorithm >= 0 && algorithm < 8 ? names[algorithm] : "UNKNOWN";
}
const char* backwardDataName(int algorithm) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  return algorithm >= 0 && algorithm < 6 ? names[algorithm] : "UNKNOWN";
}
const char* backwardFilterName(int algorithm) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  return algorithm >= 0 && algorithm < 7 ? names[algorithm] : "UNKNOWN";
}

std::string resultsJson(const std::vector<api::cudnnConvolutionAlgoPerf_t>& results, int count,
                        const char* (*nameOf)(int)) {
  std::ostringstream out;
  out << "[";
  for (int i = 0; i < count; ++i) {
    const auto& r = results[i];
    out << (i ? "," : "") << "{\"algorithm\":" << r.algo << ",\"name\":\"" << nameOf(r.algo)
        << "\",\"status\":\"" << cudnnStatusName(r.status) << "\",\"milliseconds\":";
    if (r.status == api::CUDNN_STATUS_SUCCESS) {
      out << r.time;
    } else {
      out << "null";
    }
    out << ",\"workspaceBytes\":" << r.memory << ",\"mathType\":" << r.mathType
        << ",\"deterministic\":" << (r.determinism == api::CUDNN_DETERMINISTIC ? "true" : "false") << "}";
  }
  out << "]";
  return out.str();
}

}  // namespace

std::string CudaBackend::convolutionAlgorithmsJson(const Conv2dParams& p) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  ConvolutionPlan& plan = planFor(p);
  const size_t xCount = size_t(p.N) * p.C * p.H * p.W, yCount = size_t(p.N) * p.K * p.outH * p.outW;
  const size_t wCount = size_t(p.K) * (p.C / p.group) * p.kernelH * p.kernelW;
  float* x = static_cast<float*>(allocate(xCount * sizeof(float)));
  float* y = static_cast<float*>(allocate(yCount * sizeof(float)));
  float* w = static_cast<float*>(allocate(wCount * sizeof(float)));
  std::ostringstream out;
  try {
    fill(xCount, 0.5f, x);
    fill(yCount, 0.25f, y);
    fill(wCount, 0.125f, w);
    ConvolutionSearch search(*this, plan);
    int maxCount = 0, count = 0;
    checkCudnn(cudnn.cudnnGetConvolutionForwardAlgorithmMaxCount(cudnn_, &maxCount), "cudnnGetConvolutionForwardAlgorithmMaxCount");
    std::vector<api::cudnnConvolutionAlgoPerf_t> results(std::max(maxCount, 8));
    auto what = [&] { return "timing convolution algorithms for " + convolutionText(p); };
    out << "{\"shape\":\"" << convolutionText(p) << "\",\"tf32\":" << (tf32_ ? "true" : "false")
        << ",\"deterministic\":" << (deterministic_ ? "true" : "false")
        << ",\"workspaceLimitBytes\":" << search.bytes << ",\"forward\":";
    checkCudnn(cudnn.cudnnFindConvolutionForwardAlgorithmEx(cudnn_, plan.x.get(), x, plan.w.get(), w,
                                                            plan.convolution.get(), plan.y.get(), y,
                                                            static_cast<int>(results.size()), &count, results.data(),
                                                            search.space, search.bytes),
               what);
    out << resultsJson(results, count, forwardName) << ",\"backwardData\":";
    checkCudnn(cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx(cudnn_, plan.w.get(), w, plan.y.get(), y,
                                                                 plan.convolution.get(), plan.x.get(), x,
                                                                 static_cast<int>(results.size()), &count,
                                                                 results.data(), search.space, search.bytes),
               what);
    out << resultsJson(results, count, backwardDataName) << ",\"backwardFilter\":";
    checkCudnn(cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx(cudnn_, plan.x.get(), x, plan.y.get(), y,
                                                                   plan.convolution.get(), plan.w.get(), w,
                                                                   static_cast<int>(results.size()), &count,
                                                                   results.data(), search.space, search.bytes),
               what);
    out << resultsJson(results, count, backwardFilterName) << "}";
  } catch (...) {
    release(x, xCount * sizeof(float));
    release(y, yCount * sizeof(float));
    release(w, wCount * sizeof(float));
    throw;
  }
  release(x, xCount * sizeof(float));
  release(y, yCount * sizeof(float));
  release(w, wCount * sizeof(float));
  return out.str();
}

}  // namespace cudnet::cuda
