// conformance_check.cc — compares our declarations (native/cuda/api/*.h) with NVIDIA's real headers:
// enum values and the enum each one belongs to, the perf structs' layout and field types, every function
// pointer's signature, and that every member of our three tables is compared. Not part of the addon (its
// .cc name keeps it out of CMakeLists' glob); compile it where the headers exist, e.g.
//   g++ -std=c++17 -fsyntax-only -Inative -I/usr/local/cuda/include -I<cudnn>/include -I<cublas>/include
//       native/cuda/api/conformance/conformance_check.cc   (one command line)
// or run tools/conformance/check.sh, which also says which header versions it found.
// A mismatch is a compile error naming the declaration; a part whose header is absent is skipped.
#include <cstddef>
#include <type_traits>

// Ours come first: NVIDIA's headers define some names as macros (below), and a macro defined before our
// headers would rewrite our own declarations.
#include "cuda/api/cublas.h"
#include "cuda/api/cudnn.h"
#include "cuda/api/driver.h"

namespace api = cudnet::cuda::api;

// cudnn_ops.h defines the LRN limits as macros (`#define CUDNN_LRN_MIN_N 1`), not enumerators. Once it is
// included, `api::CUDNN_LRN_MIN_N` would expand to `api::1`, so our values are copied here, before any
// NVIDIA header, into names no header uses; after the includes the copies are compared with whatever the
// header provides (the macro's value, or an enumerator should a later release make it one).
namespace ours {
constexpr auto lrnMinN = api::CUDNN_LRN_MIN_N;
constexpr auto lrnMaxN = api::CUDNN_LRN_MAX_N;
constexpr auto lrnMinK = api::CUDNN_LRN_MIN_K;
constexpr auto lrnMinBeta = api::CUDNN_LRN_MIN_BETA;
}  // namespace ours

// With per-thread default streams cuda.h renames the stream functions (cuMemcpyHtoDAsync_v2 becomes
// ..._ptsz), which would also rename the members of our table; the addon resolves the plain symbols.
#if defined(CUDA_API_PER_THREAD_DEFAULT_STREAM)
#error "compile the conformance check without CUDA_API_PER_THREAD_DEFAULT_STREAM"
#endif

#if __has_include(<cuda.h>)
#include <cuda.h>
#define CUDNET_CHECK_DRIVER 1
#endif
#if __has_include(<cudnn.h>)
#include <cudnn.h>
#define CUDNET_CHECK_CUDNN 1
#endif
// cublas_v2.h, not cublas_api.h: it defines CUBLASAPI (cublas_api.h refuses to be included without it)
// and maps the plain names onto the _v2 entry points, as an application sees them.
#if __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#define CUDNET_CHECK_CUBLAS 1
#endif

// tools/conformance/check.sh defines CUDNET_CONFORMANCE_REPORT and reads these lines to say which
// versions it compared against (the headers the compiler actually found, in the folders given or not).
#ifdef CUDNET_CONFORMANCE_REPORT
#define CUDNET_TEXT(x) #x
#define CUDNET_VALUE(x) CUDNET_TEXT(x)
#ifdef CUDNET_CHECK_DRIVER
#pragma message("cudnet-conformance driver " CUDNET_VALUE(CUDA_VERSION))
#endif
#ifdef CUDNET_CHECK_CUDNN
#pragma message("cudnet-conformance cudnn " CUDNET_VALUE(CUDNN_MAJOR) "." CUDNET_VALUE(CUDNN_MINOR) "." CUDNET_VALUE( \
    CUDNN_PATCHLEVEL))
#endif
#ifdef CUDNET_CHECK_CUBLAS
#pragma message("cudnet-conformance cublas " CUDNET_VALUE(CUBLAS_VER_MAJOR) "." CUDNET_VALUE( \
    CUBLAS_VER_MINOR) "." CUDNET_VALUE(CUBLAS_VER_PATCH))
#endif
#endif

namespace {

// Our parameter type `Ours` stands for theirs (`Theirs`): the same type, or `int` for a 4-byte C enum,
// recursively through pointers and const (a const on one side only is a mismatch).
template <typename Ours, typename Theirs>
struct Stands : std::is_same<Ours, Theirs> {};
template <typename Theirs>
struct Stands<int, Theirs>
    : std::bool_constant<std::is_same_v<int, Theirs> || (std::is_enum_v<Theirs> && sizeof(Theirs) == 4)> {};
template <typename Ours, typename Theirs>
struct Stands<Ours*, Theirs*> : Stands<Ours, Theirs> {};
template <typename Ours, typename Theirs>
struct Stands<const Ours, const Theirs> : Stands<Ours, Theirs> {};
#ifdef CUDNET_CHECK_CUDNN
// Our one perf struct stands for each of cuDNN's three (their layout is compared below), and for nothing else.
template <typename Theirs>
struct Stands<api::cudnnConvolutionAlgoPerf_t, Theirs>
    : std::bool_constant<std::is_same_v<Theirs, ::cudnnConvolutionFwdAlgoPerf_t> ||
                         std::is_same_v<Theirs, ::cudnnConvolutionBwdDataAlgoPerf_t> ||
                         std::is_same_v<Theirs, ::cudnnConvolutionBwdFilterAlgoPerf_t>> {};
#endif

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

// A constant: the same value as theirs, and theirs belongs to the C enum `type` we mean it for.
#define CUDNET_SAME_VALUE(type, name)                                                                       \
  static_assert(std::is_same_v<std::remove_cv_t<decltype(::name)>, ::type>, #name " is not a " #type);     \
  static_assert(static_cast<long long>(api::name) == static_cast<long long>(::name), #name " value differs")
// One of our `int` stand-ins for a C enum: theirs is an enum of the same size.
#define CUDNET_SAME_ENUM(type)                                                                              \
  static_assert(std::is_enum_v<::type> && sizeof(::type) == sizeof(api::type) && std::is_same_v<api::type, int>, \
                #type " is not a 4-byte enum")
#define CUDNET_SAME_TYPE(type) static_assert(std::is_same_v<api::type, ::type>, #type " differs")
#define CUDNET_SAME_FUNCTION(table, name) \
  static_assert(SameFunction<decltype(api::table::name), decltype(&::name)>::value, #name " signature differs")
// Every member of a table is one function pointer; the count proves each one is compared here.
#define CUDNET_COUNT(table, name) +1
#define CUDNET_ALL_COMPARED(table, list, extra)                                                        \
  static_assert(sizeof(api::table) == (0 list(table, CUDNET_COUNT) + (extra)) * sizeof(void (*)()), \
                #table " has a member this check does not compare")

// ---- driver -----------------------------------------------------------------------------------------
#ifdef CUDNET_CHECK_DRIVER
CUDNET_SAME_TYPE(CUdeviceptr);
CUDNET_SAME_TYPE(CUdevice);
CUDNET_SAME_TYPE(CUstream);
CUDNET_SAME_TYPE(CUcontext);
CUDNET_SAME_TYPE(CUmodule);
CUDNET_SAME_TYPE(CUfunction);
CUDNET_SAME_TYPE(CUevent);
CUDNET_SAME_ENUM(CUresult);
CUDNET_SAME_ENUM(CUdevice_attribute);
CUDNET_SAME_VALUE(CUresult, CUDA_SUCCESS);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_INVALID_VALUE);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_OUT_OF_MEMORY);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_NOT_INITIALIZED);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_STUB_LIBRARY);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_NO_DEVICE);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_INVALID_DEVICE);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_NO_BINARY_FOR_GPU);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_UNSUPPORTED_PTX_VERSION);
CUDNET_SAME_VALUE(CUresult, CUDA_ERROR_NOT_FOUND);
CUDNET_SAME_VALUE(CUstream_flags, CU_STREAM_NON_BLOCKING);
CUDNET_SAME_VALUE(CUevent_flags, CU_EVENT_DEFAULT);
CUDNET_SAME_VALUE(CUdevice_attribute, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
CUDNET_SAME_VALUE(CUdevice_attribute, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
CUDNET_SAME_VALUE(CUdevice_attribute, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
CUDNET_SAME_VALUE(CUdevice_attribute, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
#define CUDNET_DRIVER_FUNCTIONS(table, X)                                                                \
  X(table, cuInit) X(table, cuDriverGetVersion) X(table, cuDeviceGetCount) X(table, cuDeviceGet)         \
  X(table, cuDeviceGetName) X(table, cuDeviceGetAttribute) X(table, cuDevicePrimaryCtxRetain)            \
  X(table, cuDevicePrimaryCtxRelease_v2) X(table, cuCtxSetCurrent) X(table, cuMemAlloc_v2)               \
  X(table, cuMemFree_v2) X(table, cuMemGetInfo_v2) X(table, cuMemcpyHtoDAsync_v2)                        \
  X(table, cuMemcpyDtoHAsync_v2) X(table, cuMemcpyDtoDAsync_v2) X(table, cuMemsetD32Async)               \
  X(table, cuStreamCreate) X(table, cuStreamSynchronize) X(table, cuStreamDestroy_v2)                    \
  X(table, cuModuleLoadData) X(table, cuModuleGetFunction) X(table, cuModuleUnload) X(table, cuLaunchKernel) \
  X(table, cuEventCreate) X(table, cuEventRecord) X(table, cuEventSynchronize) X(table, cuEventDestroy_v2) \
  X(table, cuGetErrorString) X(table, cuGetErrorName)
#define CUDNET_COMPARE(table, name) CUDNET_SAME_FUNCTION(table, name);
CUDNET_DRIVER_FUNCTIONS(DriverApi, CUDNET_COMPARE)
// cuEventElapsedTime_v2 is declared from CUDA 12.8 on; older headers declare only the plain name, which
// has the same signature (the addon falls back to it on older drivers).
#if CUDA_VERSION >= 12080
CUDNET_SAME_FUNCTION(DriverApi, cuEventElapsedTime_v2);
#else
static_assert(SameFunction<decltype(api::DriverApi::cuEventElapsedTime_v2), decltype(&::cuEventElapsedTime)>::value,
              "cuEventElapsedTime signature differs");
#endif
CUDNET_ALL_COMPARED(DriverApi, CUDNET_DRIVER_FUNCTIONS, 1);
#endif

// ---- cuDNN ------------------------------------------------------------------------------------------
#ifdef CUDNET_CHECK_CUDNN
static_assert(CUDNN_MAJOR == 9, "our cuDNN declarations are cuDNN 9's (status codes, legacy API)");
CUDNET_SAME_TYPE(cudnnHandle_t);
CUDNET_SAME_TYPE(cudaStream_t);
CUDNET_SAME_TYPE(cudnnTensorDescriptor_t);
CUDNET_SAME_TYPE(cudnnFilterDescriptor_t);
CUDNET_SAME_TYPE(cudnnConvolutionDescriptor_t);
CUDNET_SAME_TYPE(cudnnPoolingDescriptor_t);
CUDNET_SAME_TYPE(cudnnActivationDescriptor_t);
CUDNET_SAME_TYPE(cudnnLRNDescriptor_t);
CUDNET_SAME_TYPE(cudnnDropoutDescriptor_t);
CUDNET_SAME_ENUM(cudnnStatus_t);
CUDNET_SAME_ENUM(cudnnDataType_t);
CUDNET_SAME_ENUM(cudnnTensorFormat_t);
CUDNET_SAME_ENUM(cudnnConvolutionMode_t);
CUDNET_SAME_ENUM(cudnnMathType_t);
CUDNET_SAME_ENUM(cudnnConvolutionFwdAlgo_t);
CUDNET_SAME_ENUM(cudnnConvolutionBwdDataAlgo_t);
CUDNET_SAME_ENUM(cudnnConvolutionBwdFilterAlgo_t);
CUDNET_SAME_ENUM(cudnnDeterminism_t);
CUDNET_SAME_ENUM(cudnnPoolingMode_t);
CUDNET_SAME_ENUM(cudnnNanPropagation_t);
CUDNET_SAME_ENUM(cudnnActivationMode_t);
CUDNET_SAME_ENUM(cudnnLRNMode_t);
CUDNET_SAME_ENUM(cudnnSoftmaxAlgorithm_t);
CUDNET_SAME_ENUM(cudnnSoftmaxMode_t);

// The perf structs: one layout for all three, field by field (offset, and a type our field stands for).
#define CUDNET_SAME_FIELD(perf, field)                                                                   \
  static_assert(offsetof(api::cudnnConvolutionAlgoPerf_t, field) == offsetof(::perf, field) &&           \
                    sizeof(api::cudnnConvolutionAlgoPerf_t::field) == sizeof(::perf::field) &&           \
                    Stands<std::remove_extent_t<decltype(api::cudnnConvolutionAlgoPerf_t::field)>,        \
                           std::remove_extent_t<decltype(::perf::field)>>::value,                        \
                #perf "." #field " differs")
#define CUDNET_SAME_PERF(perf)                                                                                  \
  static_assert(sizeof(api::cudnnConvolutionAlgoPerf_t) == sizeof(::perf) &&                                    \
                    alignof(api::cudnnConvolutionAlgoPerf_t) == alignof(::perf), #perf " size or alignment differs"); \
  CUDNET_SAME_FIELD(perf, algo);                                                                                \
  CUDNET_SAME_FIELD(perf, status);                                                                              \
  CUDNET_SAME_FIELD(perf, time);                                                                                \
  CUDNET_SAME_FIELD(perf, memory);                                                                              \
  CUDNET_SAME_FIELD(perf, determinism);                                                                         \
  CUDNET_SAME_FIELD(perf, mathType);                                                                            \
  CUDNET_SAME_FIELD(perf, reserved)
CUDNET_SAME_PERF(cudnnConvolutionFwdAlgoPerf_t);
CUDNET_SAME_PERF(cudnnConvolutionBwdDataAlgoPerf_t);
CUDNET_SAME_PERF(cudnnConvolutionBwdFilterAlgoPerf_t);

CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_SUCCESS);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_NOT_INITIALIZED);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_BAD_PARAM);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_NOT_SUPPORTED);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_INTERNAL_ERROR);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED);
CUDNET_SAME_VALUE(cudnnStatus_t, CUDNN_STATUS_EXECUTION_FAILED);
CUDNET_SAME_VALUE(cudnnDataType_t, CUDNN_DATA_FLOAT);
CUDNET_SAME_VALUE(cudnnTensorFormat_t, CUDNN_TENSOR_NCHW);
CUDNET_SAME_VALUE(cudnnConvolutionMode_t, CUDNN_CROSS_CORRELATION);
CUDNET_SAME_VALUE(cudnnMathType_t, CUDNN_DEFAULT_MATH);
CUDNET_SAME_VALUE(cudnnMathType_t, CUDNN_TENSOR_OP_MATH);
CUDNET_SAME_VALUE(cudnnMathType_t, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION);
CUDNET_SAME_VALUE(cudnnMathType_t, CUDNN_FMA_MATH);
CUDNET_SAME_VALUE(cudnnDeterminism_t, CUDNN_DETERMINISTIC);
CUDNET_SAME_VALUE(cudnnPoolingMode_t, CUDNN_POOLING_MAX);
CUDNET_SAME_VALUE(cudnnPoolingMode_t, CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
CUDNET_SAME_VALUE(cudnnNanPropagation_t, CUDNN_NOT_PROPAGATE_NAN);
CUDNET_SAME_VALUE(cudnnNanPropagation_t, CUDNN_PROPAGATE_NAN);
CUDNET_SAME_VALUE(cudnnActivationMode_t, CUDNN_ACTIVATION_RELU);
CUDNET_SAME_VALUE(cudnnLRNMode_t, CUDNN_LRN_CROSS_CHANNEL_DIM1);
CUDNET_SAME_VALUE(cudnnSoftmaxAlgorithm_t, CUDNN_SOFTMAX_ACCURATE);
CUDNET_SAME_VALUE(cudnnSoftmaxMode_t, CUDNN_SOFTMAX_MODE_CHANNEL);
// The LRN limits (see `ours` above): the macro's value where the header defines one, else its enumerator.
#ifdef CUDNN_LRN_MIN_N
static_assert(ours::lrnMinN == CUDNN_LRN_MIN_N, "CUDNN_LRN_MIN_N differs");
#else
static_assert(ours::lrnMinN == ::CUDNN_LRN_MIN_N, "CUDNN_LRN_MIN_N differs");
#endif
#ifdef CUDNN_LRN_MAX_N
static_assert(ours::lrnMaxN == CUDNN_LRN_MAX_N, "CUDNN_LRN_MAX_N differs");
#else
static_assert(ours::lrnMaxN == ::CUDNN_LRN_MAX_N, "CUDNN_LRN_MAX_N differs");
#endif
#ifdef CUDNN_LRN_MIN_K
static_assert(ours::lrnMinK == CUDNN_LRN_MIN_K, "CUDNN_LRN_MIN_K differs");
#else
static_assert(ours::lrnMinK == ::CUDNN_LRN_MIN_K, "CUDNN_LRN_MIN_K differs");
#endif
#ifdef CUDNN_LRN_MIN_BETA
static_assert(ours::lrnMinBeta == CUDNN_LRN_MIN_BETA, "CUDNN_LRN_MIN_BETA differs");
#else
static_assert(ours::lrnMinBeta == ::CUDNN_LRN_MIN_BETA, "CUDNN_LRN_MIN_BETA differs");
#endif

#define CUDNET_CUDNN_FUNCTIONS(table, X)                                                                   \
  X(table, cudnnGetVersion) X(table, cudnnGetCudartVersion) X(table, cudnnGetErrorString)                  \
  X(table, cudnnCreate) X(table, cudnnDestroy) X(table, cudnnSetStream)                                    \
  X(table, cudnnCreateTensorDescriptor) X(table, cudnnSetTensor4dDescriptor)                               \
  X(table, cudnnDestroyTensorDescriptor) X(table, cudnnCreateFilterDescriptor)                             \
  X(table, cudnnSetFilter4dDescriptor) X(table, cudnnDestroyFilterDescriptor) X(table, cudnnAddTensor)     \
  X(table, cudnnCreateConvolutionDescriptor) X(table, cudnnDestroyConvolutionDescriptor)                   \
  X(table, cudnnSetConvolution2dDescriptor) X(table, cudnnSetConvolutionGroupCount)                        \
  X(table, cudnnSetConvolutionMathType) X(table, cudnnGetConvolutionForwardAlgorithmMaxCount)              \
  X(table, cudnnGetConvolutionBackwardDataAlgorithmMaxCount)                                               \
  X(table, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount)                                             \
  X(table, cudnnFindConvolutionForwardAlgorithmEx) X(table, cudnnFindConvolutionBackwardDataAlgorithmEx)   \
  X(table, cudnnFindConvolutionBackwardFilterAlgorithmEx) X(table, cudnnGetConvolutionForwardWorkspaceSize) \
  X(table, cudnnConvolutionForward) X(table, cudnnConvolutionBackwardData)                                 \
  X(table, cudnnConvolutionBackwardFilter) X(table, cudnnConvolutionBackwardBias)                          \
  X(table, cudnnCreatePoolingDescriptor) X(table, cudnnSetPooling2dDescriptor)                             \
  X(table, cudnnDestroyPoolingDescriptor) X(table, cudnnPoolingForward) X(table, cudnnPoolingBackward)     \
  X(table, cudnnCreateLRNDescriptor) X(table, cudnnSetLRNDescriptor) X(table, cudnnDestroyLRNDescriptor)   \
  X(table, cudnnLRNCrossChannelForward) X(table, cudnnLRNCrossChannelBackward)                             \
  X(table, cudnnSoftmaxForward) X(table, cudnnSoftmaxBackward) X(table, cudnnCreateActivationDescriptor)   \
  X(table, cudnnSetActivationDescriptor) X(table, cudnnDestroyActivationDescriptor)                        \
  X(table, cudnnActivationForward) X(table, cudnnActivationBackward) X(table, cudnnCreateDropoutDescriptor) \
  X(table, cudnnDestroyDropoutDescriptor)
CUDNET_CUDNN_FUNCTIONS(CudnnApi, CUDNET_COMPARE)
CUDNET_ALL_COMPARED(CudnnApi, CUDNET_CUDNN_FUNCTIONS, 0);
#endif

// ---- cuBLAS -----------------------------------------------------------------------------------------
#ifdef CUDNET_CHECK_CUBLAS
static_assert(CUBLAS_VER_MAJOR == 12 || CUBLAS_VER_MAJOR == 13,
              "our cuBLAS declarations are checked for libcublas 12 and 13, the sonames the addon loads");
CUDNET_SAME_TYPE(cublasHandle_t);
CUDNET_SAME_ENUM(cublasStatus_t);
CUDNET_SAME_ENUM(cublasOperation_t);
CUDNET_SAME_ENUM(cublasMath_t);
CUDNET_SAME_ENUM(cublasPointerMode_t);
CUDNET_SAME_ENUM(libraryPropertyType);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_SUCCESS);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_NOT_INITIALIZED);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_ALLOC_FAILED);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_INVALID_VALUE);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_ARCH_MISMATCH);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_MAPPING_ERROR);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_EXECUTION_FAILED);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_INTERNAL_ERROR);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_NOT_SUPPORTED);
CUDNET_SAME_VALUE(cublasStatus_t, CUBLAS_STATUS_LICENSE_ERROR);
CUDNET_SAME_VALUE(cublasOperation_t, CUBLAS_OP_N);
CUDNET_SAME_VALUE(cublasOperation_t, CUBLAS_OP_T);
CUDNET_SAME_VALUE(cublasMath_t, CUBLAS_DEFAULT_MATH);
CUDNET_SAME_VALUE(cublasMath_t, CUBLAS_PEDANTIC_MATH);
CUDNET_SAME_VALUE(cublasMath_t, CUBLAS_TF32_TENSOR_OP_MATH);
CUDNET_SAME_VALUE(cublasPointerMode_t, CUBLAS_POINTER_MODE_HOST);
CUDNET_SAME_VALUE(libraryPropertyType, MAJOR_VERSION);
CUDNET_SAME_VALUE(libraryPropertyType, MINOR_VERSION);
CUDNET_SAME_VALUE(libraryPropertyType, PATCH_LEVEL);
#define CUDNET_CUBLAS_FUNCTIONS(table, X)                                                                   \
  X(table, cublasCreate_v2) X(table, cublasDestroy_v2) X(table, cublasGetVersion_v2) X(table, cublasGetProperty) \
  X(table, cublasSetStream_v2) X(table, cublasSetMathMode) X(table, cublasSetPointerMode_v2)                \
  X(table, cublasSgemm_v2)
CUDNET_CUBLAS_FUNCTIONS(CublasApi, CUDNET_COMPARE)
CUDNET_ALL_COMPARED(CublasApi, CUDNET_CUBLAS_FUNCTIONS, 0);
#endif

int main() { return 0; }
