// conformance_check.cc — compares our declarations (native/cuda/api/*.h) with NVIDIA's real headers:
// enum values, the perf struct's layout and every function pointer's signature. Not part of the addon
// (its .cc name keeps it out of CMakeLists' glob); compile it where the headers exist, e.g.
//   g++ -std=c++17 -fsyntax-only -Inative -I/usr/local/cuda/include -I<cudnn>/include -I<cublas>/include
//       native/cuda/api/conformance/conformance_check.cc   (one command line)
// A mismatch is a compile error naming the declaration; parts whose header is absent are skipped.
#include <cstddef>
#include <type_traits>

#include "cuda/api/cublas.h"
#include "cuda/api/cudnn.h"
#include "cuda/api/driver.h"

#include <cuda.h>
#if __has_include(<cudnn.h>)
#include <cudnn.h>
#define CUDNET_CHECK_CUDNN 1
#endif
#if __has_include(<cublas_api.h>)
#include <cublas_api.h>
#define CUDNET_CHECK_CUBLAS 1
#endif

namespace api = cudnet::cuda::api;

namespace {

// Our parameter type `Ours` stands for theirs (`Theirs`): the same type, or `int` for a 4-byte C enum,
// recursively through pointers and const.
template <typename Ours, typename Theirs>
struct Stands : std::is_same<Ours, Theirs> {};
template <typename Theirs>
struct Stands<int, Theirs>
    : std::bool_constant<std::is_same_v<int, Theirs> || (std::is_enum_v<Theirs> && sizeof(Theirs) == 4)> {};
template <typename Ours, typename Theirs>
struct Stands<Ours*, Theirs*> : Stands<Ours, Theirs> {};
template <typename Ours, typename Theirs>
struct Stands<const Ours, const Theirs> : Stands<Ours, Theirs> {};
// Our one perf struct stands for each of the three (layout checked below).
template <typename Theirs>
struct Stands<api::cudnnConvolutionAlgoPerf_t, Theirs> : std::bool_constant<sizeof(Theirs) == 48> {};

template <typename... Types>
struct List {};

template <bool sameCount, typename OursList, typename TheirsList>
struct AllStand : std::false_type {};
template <typename... Ours, typename... Theirs>
struct AllStand<true, List<Ours...>, List<Theirs...>>
    : std::bool_constant<(Stands<Ours, Theirs>::value && ...)> {};

template <typename Ours, typename Theirs>
struct SameFunction : std::false_type {};
template <typename OurResult, typename... Ours, typename TheirResult, typename... Theirs>
struct SameFunction<OurResult (*)(Ours...), TheirResult (*)(Theirs...)>
    : std::bool_constant<Stands<OurResult, TheirResult>::value &&
                         AllStand<sizeof...(Ours) == sizeof...(Theirs), List<Ours...>, List<Theirs...>>::value> {};

}  // namespace

#define CUDNET_SAME_VALUE(name) static_assert(static_cast<long long>(api::name) == static_cast<long long>(::name), #name)
#define CUDNET_SAME_FUNCTION(table, name) \
  static_assert(SameFunction<decltype(api::table::name), decltype(&::name)>::value, #name " signature differs")

// ---- driver -----------------------------------------------------------------------------------------
static_assert(std::is_same_v<api::CUdeviceptr, ::CUdeviceptr>, "CUdeviceptr");
static_assert(std::is_same_v<api::CUstream, ::CUstream>, "CUstream");
static_assert(std::is_same_v<api::CUcontext, ::CUcontext>, "CUcontext");
CUDNET_SAME_VALUE(CUDA_SUCCESS);
CUDNET_SAME_VALUE(CUDA_ERROR_INVALID_VALUE);
CUDNET_SAME_VALUE(CUDA_ERROR_OUT_OF_MEMORY);
CUDNET_SAME_VALUE(CUDA_ERROR_NOT_INITIALIZED);
CUDNET_SAME_VALUE(CUDA_ERROR_STUB_LIBRARY);
CUDNET_SAME_VALUE(CUDA_ERROR_NO_DEVICE);
CUDNET_SAME_VALUE(CUDA_ERROR_INVALID_DEVICE);
CUDNET_SAME_VALUE(CUDA_ERROR_NO_BINARY_FOR_GPU);
CUDNET_SAME_VALUE(CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
CUDNET_SAME_VALUE(CUDA_ERROR_NOT_FOUND);
CUDNET_SAME_VALUE(CU_STREAM_NON_BLOCKING);
CUDNET_SAME_VALUE(CU_EVENT_DEFAULT);
CUDNET_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
CUDNET_SAME_VALUE(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
CUDNET_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
CUDNET_SAME_VALUE(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
CUDNET_SAME_FUNCTION(DriverApi, cuInit);
CUDNET_SAME_FUNCTION(DriverApi, cuDriverGetVersion);
CUDNET_SAME_FUNCTION(DriverApi, cuDeviceGetCount);
CUDNET_SAME_FUNCTION(DriverApi, cuDeviceGet);
CUDNET_SAME_FUNCTION(DriverApi, cuDeviceGetName);
CUDNET_SAME_FUNCTION(DriverApi, cuDeviceGetAttribute);
CUDNET_SAME_FUNCTION(DriverApi, cuDevicePrimaryCtxRetain);
CUDNET_SAME_FUNCTION(DriverApi, cuDevicePrimaryCtxRelease_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuCtxSetCurrent);
CUDNET_SAME_FUNCTION(DriverApi, cuMemAlloc_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemFree_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemGetInfo_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemcpyHtoDAsync_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemcpyDtoHAsync_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemcpyDtoDAsync_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuMemsetD32Async);
CUDNET_SAME_FUNCTION(DriverApi, cuStreamCreate);
CUDNET_SAME_FUNCTION(DriverApi, cuStreamSynchronize);
CUDNET_SAME_FUNCTION(DriverApi, cuStreamDestroy_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuModuleLoadData);
CUDNET_SAME_FUNCTION(DriverApi, cuModuleGetFunction);
CUDNET_SAME_FUNCTION(DriverApi, cuModuleUnload);
CUDNET_SAME_FUNCTION(DriverApi, cuLaunchKernel);
CUDNET_SAME_FUNCTION(DriverApi, cuEventCreate);
CUDNET_SAME_FUNCTION(DriverApi, cuEventRecord);
CUDNET_SAME_FUNCTION(DriverApi, cuEventSynchronize);
CUDNET_SAME_FUNCTION(DriverApi, cuEventElapsedTime_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuEventDestroy_v2);
CUDNET_SAME_FUNCTION(DriverApi, cuGetErrorString);
CUDNET_SAME_FUNCTION(DriverApi, cuGetErrorName);

// ---- cuDNN ------------------------------------------------------------------------------------------
#ifdef CUDNET_CHECK_CUDNN
static_assert(std::is_same_v<api::cudnnHandle_t, ::cudnnHandle_t>, "cudnnHandle_t");
static_assert(std::is_same_v<api::cudaStream_t, ::cudaStream_t>, "cudaStream_t");
static_assert(sizeof(api::cudnnConvolutionAlgoPerf_t) == sizeof(::cudnnConvolutionFwdAlgoPerf_t), "perf size");
static_assert(sizeof(api::cudnnConvolutionAlgoPerf_t) == sizeof(::cudnnConvolutionBwdDataAlgoPerf_t), "perf size");
static_assert(sizeof(api::cudnnConvolutionAlgoPerf_t) == sizeof(::cudnnConvolutionBwdFilterAlgoPerf_t), "perf size");
#define CUDNET_SAME_OFFSET(field)                                                                     \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, field) == offsetof(::cudnnConvolutionFwdAlgoPerf_t, field) && \
                    offsetof(api::cudnnConvolutionAlgoPerf_t, field) ==                              \
                        offsetof(::cudnnConvolutionBwdFilterAlgoPerf_t, field),                      \
                "perf field " #field)
CUDNET_SAME_OFFSET(algo);
CUDNET_SAME_OFFSET(status);
CUDNET_SAME_OFFSET(time);
CUDNET_SAME_OFFSET(memory);
CUDNET_SAME_OFFSET(determinism);
CUDNET_SAME_OFFSET(mathType);
CUDNET_SAME_OFFSET(reserved);
CUDNET_SAME_VALUE(CUDNN_STATUS_SUCCESS);
CUDNET_SAME_VALUE(CUDNN_STATUS_NOT_INITIALIZED);
CUDNET_SAME_VALUE(CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH);
CUDNET_SAME_VALUE(CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED);
CUDNET_SAME_VALUE(CUDNN_STATUS_BAD_PARAM);
CUDNET_SAME_VALUE(CUDNN_STATUS_NOT_SUPPORTED);
CUDNET_SAME_VALUE(CUDNN_STATUS_INTERNAL_ERROR);
CUDNET_SAME_VALUE(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED);
CUDNET_SAME_VALUE(CUDNN_STATUS_EXECUTION_FAILED);
CUDNET_SAME_VALUE(CUDNN_DATA_FLOAT);
CUDNET_SAME_VALUE(CUDNN_TENSOR_NCHW);
CUDNET_SAME_VALUE(CUDNN_CROSS_CORRELATION);
CUDNET_SAME_VALUE(CUDNN_DEFAULT_MATH);
CUDNET_SAME_VALUE(CUDNN_TENSOR_OP_MATH);
CUDNET_SAME_VALUE(CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
CUDNET_SAME_VALUE(CUDNN_FMA_MATH);
CUDNET_SAME_VALUE(CUDNN_DETERMINISTIC);
CUDNET_SAME_VALUE(CUDNN_POOLING_MAX);
CUDNET_SAME_VALUE(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
CUDNET_SAME_VALUE(CUDNN_NOT_PROPAGATE_NAN);
CUDNET_SAME_VALUE(CUDNN_PROPAGATE_NAN);
CUDNET_SAME_VALUE(CUDNN_ACTIVATION_RELU);
CUDNET_SAME_VALUE(CUDNN_LRN_CROSS_CHANNEL_DIM1);
CUDNET_SAME_VALUE(CUDNN_LRN_MIN_N);
CUDNET_SAME_VALUE(CUDNN_LRN_MAX_N);
static_assert(api::CUDNN_LRN_MIN_K == CUDNN_LRN_MIN_K && api::CUDNN_LRN_MIN_BETA == CUDNN_LRN_MIN_BETA, "LRN limits");
CUDNET_SAME_VALUE(CUDNN_SOFTMAX_ACCURATE);
CUDNET_SAME_VALUE(CUDNN_SOFTMAX_MODE_CHANNEL);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetVersion);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetCudartVersion);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetErrorString);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreate);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroy);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetStream);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateTensorDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetTensor4dDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyTensorDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateFilterDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetFilter4dDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyFilterDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnAddTensor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateConvolutionDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyConvolutionDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetConvolution2dDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetConvolutionGroupCount);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetConvolutionMathType);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetConvolutionForwardAlgorithmMaxCount);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetConvolutionBackwardDataAlgorithmMaxCount);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnFindConvolutionForwardAlgorithmEx);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnFindConvolutionBackwardDataAlgorithmEx);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnFindConvolutionBackwardFilterAlgorithmEx);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnGetConvolutionForwardWorkspaceSize);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnConvolutionForward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnConvolutionBackwardData);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnConvolutionBackwardFilter);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnConvolutionBackwardBias);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreatePoolingDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetPooling2dDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyPoolingDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnPoolingForward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnPoolingBackward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateLRNDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetLRNDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyLRNDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnLRNCrossChannelForward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnLRNCrossChannelBackward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSoftmaxForward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSoftmaxBackward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateActivationDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnSetActivationDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyActivationDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnActivationForward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnActivationBackward);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnCreateDropoutDescriptor);
CUDNET_SAME_FUNCTION(CudnnApi, cudnnDestroyDropoutDescriptor);
#endif

// ---- cuBLAS -----------------------------------------------------------------------------------------
#ifdef CUDNET_CHECK_CUBLAS
static_assert(std::is_same_v<api::cublasHandle_t, ::cublasHandle_t>, "cublasHandle_t");
CUDNET_SAME_VALUE(CUBLAS_STATUS_SUCCESS);
CUDNET_SAME_VALUE(CUBLAS_STATUS_NOT_INITIALIZED);
CUDNET_SAME_VALUE(CUBLAS_STATUS_ALLOC_FAILED);
CUDNET_SAME_VALUE(CUBLAS_STATUS_INVALID_VALUE);
CUDNET_SAME_VALUE(CUBLAS_STATUS_ARCH_MISMATCH);
CUDNET_SAME_VALUE(CUBLAS_STATUS_MAPPING_ERROR);
CUDNET_SAME_VALUE(CUBLAS_STATUS_EXECUTION_FAILED);
CUDNET_SAME_VALUE(CUBLAS_STATUS_INTERNAL_ERROR);
CUDNET_SAME_VALUE(CUBLAS_STATUS_NOT_SUPPORTED);
CUDNET_SAME_VALUE(CUBLAS_STATUS_LICENSE_ERROR);
CUDNET_SAME_VALUE(CUBLAS_OP_N);
CUDNET_SAME_VALUE(CUBLAS_OP_T);
CUDNET_SAME_VALUE(CUBLAS_DEFAULT_MATH);
CUDNET_SAME_VALUE(CUBLAS_PEDANTIC_MATH);
CUDNET_SAME_VALUE(CUBLAS_TF32_TENSOR_OP_MATH);
CUDNET_SAME_VALUE(CUBLAS_POINTER_MODE_HOST);
CUDNET_SAME_VALUE(MAJOR_VERSION);
CUDNET_SAME_VALUE(MINOR_VERSION);
CUDNET_SAME_VALUE(PATCH_LEVEL);
CUDNET_SAME_FUNCTION(CublasApi, cublasCreate_v2);
CUDNET_SAME_FUNCTION(CublasApi, cublasDestroy_v2);
CUDNET_SAME_FUNCTION(CublasApi, cublasGetVersion_v2);
CUDNET_SAME_FUNCTION(CublasApi, cublasGetProperty);
CUDNET_SAME_FUNCTION(CublasApi, cublasSetStream_v2);
CUDNET_SAME_FUNCTION(CublasApi, cublasSetMathMode);
CUDNET_SAME_FUNCTION(CublasApi, cublasSetPointerMode_v2);
CUDNET_SAME_FUNCTION(CublasApi, cublasSgemm_v2);
#endif

int main() { return 0; }
