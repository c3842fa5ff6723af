// cudnn.h — our declarations of the cuDNN 9 legacy (v7-style) API that the addon resolves from libcudnn.so.9.
// Facts: cuDNN 9 C API (cudnn_*_v9.h). Enums are 4-byte ints; cuDNN 9 renumbered the
// status codes (BAD_PARAM is 2000, not 3), so never reuse cuDNN 8 values.
#pragma once
#include <cstddef>

#include "driver.h"

struct cudnnContext;
struct cudnnTensorStruct;
struct cudnnFilterStruct;
struct cudnnConvolutionStruct;
struct cudnnPoolingStruct;
struct cudnnActivationStruct;
struct cudnnLRNStruct;
struct cudnnDropoutStruct;

namespace cudnet::cuda::api {

using cudnnStatus_t = int;
using cudnnHandle_t = cudnnContext*;
using cudnnTensorDescriptor_t = cudnnTensorStruct*;
using cudnnFilterDescriptor_t = cudnnFilterStruct*;
using cudnnConvolutionDescriptor_t = cudnnConvolutionStruct*;
using cudnnPoolingDescriptor_t = cudnnPoolingStruct*;
using cudnnActivationDescriptor_t = cudnnActivationStruct*;
using cudnnLRNDescriptor_t = cudnnLRNStruct*;
using cudnnDropoutDescriptor_t = cudnnDropoutStruct*;
using cudnnDataType_t = int;
using cudnnTensorFormat_t = int;
using cudnnConvolutionMode_t = int;
using cudnnMathType_t = int;
using cudnnConvolutionFwdAlgo_t = int;
using cudnnConvolutionBwdDataAlgo_t = int;
using cudnnConvolutionBwdFilterAlgo_t = int;
using cudnnDeterminism_t = int;
using cudnnPoolingMode_t = int;
using cudnnNanPropagation_t = int;
using cudnnActivationMode_t = int;
using cudnnLRNMode_t = int;
using cudnnSoftmaxAlgorithm_t = int;
using cudnnSoftmaxMode_t = int;
using cudaStream_t = CUstream_st*;

constexpr cudnnStatus_t CUDNN_STATUS_SUCCESS = 0;
constexpr cudnnStatus_t CUDNN_STATUS_NOT_INITIALIZED = 1001;
constexpr cudnnStatus_t CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH = 1002;
constexpr cudnnStatus_t CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED = 1008;
constexpr cudnnStatus_t CUDNN_STATUS_BAD_PARAM = 2000;
constexpr cudnnStatus_t CUDNN_STATUS_NOT_SUPPORTED = 3000;
constexpr cudnnStatus_t CUDNN_STATUS_INTERNAL_ERROR = 4000;
constexpr cudnnStatus_t CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED = 4004;
constexpr cudnnStatus_t CUDNN_STATUS_EXECUTION_FAILED = 5000;

constexpr cudnnDataType_t CUDNN_DATA_FLOAT = 0;
constexpr cudnnTensorFormat_t CUDNN_TENSOR_NCHW = 0;
constexpr cudnnConvolutionMode_t CUDNN_CROSS_CORRELATION = 1;
constexpr cudnnMathType_t CUDNN_DEFAULT_MATH = 0;
constexpr cudnnMathType_t CUDNN_TENSOR_OP_MATH = 1;
constexpr cudnnMathType_t CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION = 2;
constexpr cudnnMathType_t CUDNN_FMA_MATH = 3;
constexpr cudnnDeterminism_t CUDNN_DETERMINISTIC = 1;
constexpr cudnnPoolingMode_t CUDNN_POOLING_MAX = 0;
constexpr cudnnPoolingMode_t CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1;
constexpr cudnnNanPropagation_t CUDNN_NOT_PROPAGATE_NAN = 0;
constexpr cudnnNanPropagation_t CUDNN_PROPAGATE_NAN = 1;
constexpr cudnnActivationMode_t CUDNN_ACTIVATION_RELU = 1;
constexpr cudnnLRNMode_t CUDNN_LRN_CROSS_CHANNEL_DIM1 = 0;
constexpr unsigned CUDNN_LRN_MIN_N = 1;
constexpr unsigned CUDNN_LRN_MAX_N = 16;
constexpr double CUDNN_LRN_MIN_K = 1e-5;
constexpr double CUDNN_LRN_MIN_BETA = 0.01;
constexpr cudnnSoftmaxAlgorithm_t CUDNN_SOFTMAX_ACCURATE = 1;
constexpr cudnnSoftmaxMode_t CUDNN_SOFTMAX_MODE_CHANNEL = 1;

// The three perf structs share one layout (only the type of `algo` differs): 4 bytes of padding
// after `time` and 4 bytes at the tail, sizeof 48. A hand-packed 40-byte struct corrupts every
// element after the first.
struct cudnnConvolutionAlgoPerf_t {
  int algo;
  cudnnStatus_t status;
  float time;  // milliseconds
  size_t memory;  // workspace bytes
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
static_assert(sizeof(cudnnConvolutionAlgoPerf_t) == 48, "cuDNN perf struct is 48 bytes");
static_assert(offsetof(cudnnConvolutionAlgoPerf_t, memory) == 16, "perf.memory sits at offset 16");
static_assert(offsetof(cudnnConvolutionAlgoPerf_t, mathType) == 28, "perf.mathType sits at offset 28");
using cudnnConvolutionFwdAlgoPerf_t = cudnnConvolutionAlgoPerf_t;
using cudnnConvolutionBwdDataAlgoPerf_t = cudnnConvolutionAlgoPerf_t;
using cudnnConvolutionBwdFilterAlgoPerf_t = cudnnConvolutionAlgoPerf_t;

// cuDNN 9's cross-library version checks, one per sub-library and exported by it (not resolved through
// the shim): cudnnGraphVersionCheck (cudnn_graph.h, libcudnn_graph.so.9), cudnnOpsVersionCheck
// (cudnn_ops.h, libcudnn_ops.so.9), cudnnCnnVersionCheck (cudnn_cnn.h, libcudnn_cnn.so.9) and
// cudnnAdvVersionCheck (cudnn_adv.h, libcudnn_adv.so.9), each `cudnnStatus_t f(void)`. Each compares its
// sub-library's version with those it depends on: CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH when they differ.
using cudnnVersionCheck_t = cudnnStatus_t (*)();

struct CudnnApi {
  // handle, version, errors (cudnn_graph.h)
  size_t (*cudnnGetVersion)() = nullptr;
  size_t (*cudnnGetCudartVersion)() = nullptr;
  const char* (*cudnnGetErrorString)(cudnnStatus_t status) = nullptr;
  cudnnStatus_t (*cudnnCreate)(cudnnHandle_t* handle) = nullptr;
  cudnnStatus_t (*cudnnDestroy)(cudnnHandle_t handle) = nullptr;
  cudnnStatus_t (*cudnnSetStream)(cudnnHandle_t handle, cudaStream_t stream) = nullptr;

  // tensors and filters (cudnn_ops.h); note tensors take (format, dataType), filters (dataType, format)
  cudnnStatus_t (*cudnnCreateTensorDescriptor)(cudnnTensorDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetTensor4dDescriptor)(cudnnTensorDescriptor_t descriptor, cudnnTensorFormat_t format,
                                              cudnnDataType_t dataType, int n, int c, int h, int w) = nullptr;
  cudnnStatus_t (*cudnnDestroyTensorDescriptor)(cudnnTensorDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnCreateFilterDescriptor)(cudnnFilterDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetFilter4dDescriptor)(cudnnFilterDescriptor_t descriptor, cudnnDataType_t dataType,
                                              cudnnTensorFormat_t format, int k, int c, int h, int w) = nullptr;
  cudnnStatus_t (*cudnnDestroyFilterDescriptor)(cudnnFilterDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnAddTensor)(cudnnHandle_t handle, const void* alpha, const cudnnTensorDescriptor_t aDesc,
                                  const void* A, const void* beta, const cudnnTensorDescriptor_t cDesc,
                                  void* C) = nullptr;

  // convolution (cudnn_cnn.h)
  cudnnStatus_t (*cudnnCreateConvolutionDescriptor)(cudnnConvolutionDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnDestroyConvolutionDescriptor)(cudnnConvolutionDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetConvolution2dDescriptor)(cudnnConvolutionDescriptor_t descriptor, int padH, int padW,
                                                   int strideH, int strideW, int dilationH, int dilationW,
                                                   cudnnConvolutionMode_t mode, cudnnDataType_t computeType) = nullptr;
  cudnnStatus_t (*cudnnSetConvolutionGroupCount)(cudnnConvolutionDescriptor_t descriptor, int groupCount) = nullptr;
  cudnnStatus_t (*cudnnSetConvolutionMathType)(cudnnConvolutionDescriptor_t descriptor,
                                               cudnnMathType_t mathType) = nullptr;
  cudnnStatus_t (*cudnnGetConvolutionForwardAlgorithmMaxCount)(cudnnHandle_t handle, int* count) = nullptr;
  cudnnStatus_t (*cudnnGetConvolutionBackwardDataAlgorithmMaxCount)(cudnnHandle_t handle, int* count) = nullptr;
  cudnnStatus_t (*cudnnGetConvolutionBackwardFilterAlgorithmMaxCount)(cudnnHandle_t handle, int* count) = nullptr;
  cudnnStatus_t (*cudnnFindConvolutionForwardAlgorithmEx)(
      cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void* x, const cudnnFilterDescriptor_t wDesc,
      const void* w, const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t yDesc, void* y,
      const int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionFwdAlgoPerf_t* perfResults,
      void* workSpace, size_t workSpaceSizeInBytes) = nullptr;
  cudnnStatus_t (*cudnnFindConvolutionBackwardDataAlgorithmEx)(
      cudnnHandle_t handle, const cudnnFilterDescriptor_t wDesc, const void* w, const cudnnTensorDescriptor_t dyDesc,
      const void* dy, const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t dxDesc, void* dx,
      const int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdDataAlgoPerf_t* perfResults,
      void* workSpace, size_t workSpaceSizeInBytes) = nullptr;
  cudnnStatus_t (*cudnnFindConvolutionBackwardFilterAlgorithmEx)(
      cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void* x, const cudnnTensorDescriptor_t dyDesc,
      const void* dy, const cudnnConvolutionDescriptor_t convDesc, const cudnnFilterDescriptor_t dwDesc, void* dw,
      const int requestedAlgoCount, int* returnedAlgoCount, cudnnConvolutionBwdFilterAlgoPerf_t* perfResults,
      void* workSpace, size_t workSpaceSizeInBytes) = nullptr;
  cudnnStatus_t (*cudnnGetConvolutionForwardWorkspaceSize)(
      cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const cudnnFilterDescriptor_t wDesc,
      const cudnnConvolutionDescriptor_t convDesc, const cudnnTensorDescriptor_t yDesc,
      cudnnConvolutionFwdAlgo_t algo, size_t* sizeInBytes) = nullptr;
  cudnnStatus_t (*cudnnConvolutionForward)(cudnnHandle_t handle, const void* alpha,
                                           const cudnnTensorDescriptor_t xDesc, const void* x,
                                           const cudnnFilterDescriptor_t wDesc, const void* w,
                                           const cudnnConvolutionDescriptor_t convDesc,
                                           cudnnConvolutionFwdAlgo_t algo, void* workSpace,
                                           size_t workSpaceSizeInBytes, const void* beta,
                                           const cudnnTensorDescriptor_t yDesc, void* y) = nullptr;
  cudnnStatus_t (*cudnnConvolutionBackwardData)(cudnnHandle_t handle, const void* alpha,
                                                const cudnnFilterDescriptor_t wDesc, const void* w,
                                                const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                const cudnnConvolutionDescriptor_t convDesc,
                                                cudnnConvolutionBwdDataAlgo_t algo, void* workSpace,
                                                size_t workSpaceSizeInBytes, const void* beta,
                                                const cudnnTensorDescriptor_t dxDesc, void* dx) = nullptr;
  cudnnStatus_t (*cudnnConvolutionBackwardFilter)(cudnnHandle_t handle, const void* alpha,
                                                  const cudnnTensorDescriptor_t xDesc, const void* x,
                                                  const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                  const cudnnConvolutionDescriptor_t convDesc,
                                                  cudnnConvolutionBwdFilterAlgo_t algo, void* workSpace,
                                                  size_t workSpaceSizeInBytes, const void* beta,
                                                  const cudnnFilterDescriptor_t dwDesc, void* dw) = nullptr;
  cudnnStatus_t (*cudnnConvolutionBackwardBias)(cudnnHandle_t handle, const void* alpha,
                                                const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                const void* beta, const cudnnTensorDescriptor_t dbDesc,
                                                void* db) = nullptr;

  // pooling (resolved so that a library without them is refused early; the Caffe-exact pooling runs
  // in our kernels because the interface needs the argmax mask and Caffe's ceil rule)
  cudnnStatus_t (*cudnnCreatePoolingDescriptor)(cudnnPoolingDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetPooling2dDescriptor)(cudnnPoolingDescriptor_t descriptor, cudnnPoolingMode_t mode,
                                               cudnnNanPropagation_t nanOption, int windowH, int windowW,
                                               int padH, int padW, int strideH, int strideW) = nullptr;
  cudnnStatus_t (*cudnnDestroyPoolingDescriptor)(cudnnPoolingDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnPoolingForward)(cudnnHandle_t handle, const cudnnPoolingDescriptor_t poolingDesc,
                                       const void* alpha, const cudnnTensorDescriptor_t xDesc, const void* x,
                                       const void* beta, const cudnnTensorDescriptor_t yDesc, void* y) = nullptr;
  cudnnStatus_t (*cudnnPoolingBackward)(cudnnHandle_t handle, const cudnnPoolingDescriptor_t poolingDesc,
                                        const void* alpha, const cudnnTensorDescriptor_t yDesc, const void* y,
                                        const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                        const cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                        const cudnnTensorDescriptor_t dxDesc, void* dx) = nullptr;

  // LRN across channels (cudnn_ops.h)
  cudnnStatus_t (*cudnnCreateLRNDescriptor)(cudnnLRNDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetLRNDescriptor)(cudnnLRNDescriptor_t descriptor, unsigned lrnN, double lrnAlpha,
                                         double lrnBeta, double lrnK) = nullptr;
  cudnnStatus_t (*cudnnDestroyLRNDescriptor)(cudnnLRNDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnLRNCrossChannelForward)(cudnnHandle_t handle, cudnnLRNDescriptor_t normDesc,
                                               cudnnLRNMode_t lrnMode, const void* alpha,
                                               const cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                               const cudnnTensorDescriptor_t yDesc, void* y) = nullptr;
  cudnnStatus_t (*cudnnLRNCrossChannelBackward)(cudnnHandle_t handle, cudnnLRNDescriptor_t normDesc,
                                                cudnnLRNMode_t lrnMode, const void* alpha,
                                                const cudnnTensorDescriptor_t yDesc, const void* y,
                                                const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                                const cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                                const cudnnTensorDescriptor_t dxDesc, void* dx) = nullptr;

  // softmax (cudnn_ops.h); backward takes y, not x
  cudnnStatus_t (*cudnnSoftmaxForward)(cudnnHandle_t handle, cudnnSoftmaxAlgorithm_t algo, cudnnSoftmaxMode_t mode,
                                       const void* alpha, const cudnnTensorDescriptor_t xDesc, const void* x,
                                       const void* beta, const cudnnTensorDescriptor_t yDesc, void* y) = nullptr;
  cudnnStatus_t (*cudnnSoftmaxBackward)(cudnnHandle_t handle, cudnnSoftmaxAlgorithm_t algo, cudnnSoftmaxMode_t mode,
                                        const void* alpha, const cudnnTensorDescriptor_t yDesc, const void* y,
                                        const cudnnTensorDescriptor_t dyDesc, const void* dy, const void* beta,
                                        const cudnnTensorDescriptor_t dxDesc, void* dx) = nullptr;

  // activation and dropout (resolved for completeness of the check; ReLU with Caffe's slope and the
  // cross-device dropout mask run in our kernels)
  cudnnStatus_t (*cudnnCreateActivationDescriptor)(cudnnActivationDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnSetActivationDescriptor)(cudnnActivationDescriptor_t descriptor, cudnnActivationMode_t mode,
                                                cudnnNanPropagation_t nanOption, double coef) = nullptr;
  cudnnStatus_t (*cudnnDestroyActivationDescriptor)(cudnnActivationDescriptor_t descriptor) = nullptr;
  cudnnStatus_t (*cudnnActivationForward)(cudnnHandle_t handle, cudnnActivationDescriptor_t activationDesc,
                                          const void* alpha, const cudnnTensorDescriptor_t xDesc, const void* x,
                                          const void* beta, const cudnnTensorDescriptor_t yDesc, void* y) = nullptr;
  cudnnStatus_t (*cudnnActivationBackward)(cudnnHandle_t handle, cudnnActivationDescriptor_t activationDesc,
                                           const void* alpha, const cudnnTensorDescriptor_t yDesc, const void* y,
                                           const cudnnTensorDescriptor_t dyDesc, const void* dy,
                                           const cudnnTensorDescriptor_t xDesc, const void* x, const void* beta,
                                           const cudnnTensorDescriptor_t dxDesc, void* dx) = nullptr;
  cudnnStatus_t (*cudnnCreateDropoutDescriptor)(cudnnDropoutDescriptor_t* descriptor) = nullptr;
  cudnnStatus_t (*cudnnDestroyDropoutDescriptor)(cudnnDropoutDescriptor_t descriptor) = nullptr;
};

}  // namespace cudnet::cuda::api
