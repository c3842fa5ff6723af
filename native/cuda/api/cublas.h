// cublas.h — our declarations of the cuBLAS v2 API that the addon resolves from libcublas.so.13 (or .12).
// Facts: cuBLAS v2 C API (cublas_api.h). We dlsym the `_v2` names: the plain names
// (cublasSgemm, ...) are the legacy handle-less v1 API with a different ABI.
#pragma once
#include "driver.h"

struct cublasContext;

namespace cudnet::cuda::api {

using cublasStatus_t = int;
using cublasHandle_t = cublasContext*;
using cublasOperation_t = int;
using cublasMath_t = int;
using cublasPointerMode_t = int;
using libraryPropertyType = int;  // MAJOR_VERSION=0, MINOR_VERSION=1, PATCH_LEVEL=2

constexpr libraryPropertyType MAJOR_VERSION = 0;
constexpr libraryPropertyType MINOR_VERSION = 1;
constexpr libraryPropertyType PATCH_LEVEL = 2;

constexpr cublasStatus_t CUBLAS_STATUS_SUCCESS = 0;
constexpr cublasStatus_t CUBLAS_STATUS_NOT_INITIALIZED = 1;
constexpr cublasStatus_t CUBLAS_STATUS_ALLOC_FAILED = 3;
constexpr cublasStatus_t CUBLAS_STATUS_INVALID_VALUE = 7;
constexpr cublasStatus_t CUBLAS_STATUS_ARCH_MISMATCH = 8;
constexpr cublasStatus_t CUBLAS_STATUS_MAPPING_ERROR = 11;
constexpr cublasStatus_t CUBLAS_STATUS_EXECUTION_FAILED = 13;
constexpr cublasStatus_t CUBLAS_STATUS_INTERNAL_ERROR = 14;
constexpr cublasStatus_t CUBLAS_STATUS_NOT_SUPPORTED = 15;
constexpr cublasStatus_t CUBLAS_STATUS_LICENSE_ERROR = 16;

constexpr cublasOperation_t CUBLAS_OP_N = 0;
constexpr cublasOperation_t CUBLAS_OP_T = 1;
constexpr cublasMath_t CUBLAS_DEFAULT_MATH = 0;
constexpr cublasMath_t CUBLAS_PEDANTIC_MATH = 2;
constexpr cublasMath_t CUBLAS_TF32_TENSOR_OP_MATH = 3;
constexpr cublasPointerMode_t CUBLAS_POINTER_MODE_HOST = 0;

struct CublasApi {
  cublasStatus_t (*cublasCreate_v2)(cublasHandle_t* handle) = nullptr;
  cublasStatus_t (*cublasDestroy_v2)(cublasHandle_t handle) = nullptr;
  cublasStatus_t (*cublasGetVersion_v2)(cublasHandle_t handle, int* version) = nullptr;
  cublasStatus_t (*cublasGetProperty)(libraryPropertyType type, int* value) = nullptr;  // no handle needed
  cublasStatus_t (*cublasSetStream_v2)(cublasHandle_t handle, CUstream_st* stream) = nullptr;
  cublasStatus_t (*cublasSetMathMode)(cublasHandle_t handle, cublasMath_t mode) = nullptr;
  cublasStatus_t (*cublasSetPointerMode_v2)(cublasHandle_t handle, cublasPointerMode_t mode) = nullptr;
  cublasStatus_t (*cublasSgemm_v2)(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m,
                                   int n, int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                                   const float* beta, float* C, int ldc) = nullptr;
};

}  // namespace cudnet::cuda::api
