// status.cpp — names and messages for driver, cuDNN 9 and cuBLAS statuses.
#include "status.h"

#include <map>

#include "loader.h"

namespace cudnet::cuda {

std::string driverStatusName(api::CUresult result) {
  const api::DriverApi& driver = libraries().driver;
  const char* name = nullptr;
  if (driver.cuGetErrorName != nullptr && driver.cuGetErrorName(result, &name) == api::CUDA_SUCCESS &&
      name != nullptr) {
    return name;
  }
  return "CUDA_ERROR_" + std::to_string(result);
}

// cuDNN 9 numbering (category*1000 + detail); cuDNN 8's small numbers mean something else.
std::string cudnnStatusName(api::cudnnStatus_t status) {
  static const std::map<int, const char*> names = {
      {0, "SUCCESS"}, {1001, "NOT_INITIALIZED"}, {1002, "SUBLIBRARY_VERSION_MISMATCH"},
      {1003, "SERIALIZATION_VERSION_MISMATCH"}, {1004, "DEPRECATED"}, {1005, "LICENSE_ERROR"},
      {1006, "RUNTIME_IN_PROGRESS"}, {1007, "RUNTIME_FP_OVERFLOW"}, {1008, "SUBLIBRARY_LOADING_FAILED"},
      {2000, "BAD_PARAM"}, {2001, "INVALID_VALUE"}, {2002, "BAD_PARAM_NULL_POINTER"},
      {2003, "BAD_PARAM_MISALIGNED_POINTER"}, {2004, "BAD_PARAM_NOT_FINALIZED"},
      {2005, "BAD_PARAM_OUT_OF_BOUND"}, {2006, "BAD_PARAM_SIZE_INSUFFICIENT"},
      {2007, "BAD_PARAM_STREAM_MISMATCH"}, {2008, "BAD_PARAM_SHAPE_MISMATCH"},
      {2009, "BAD_PARAM_DUPLICATED_ENTRIES"}, {2010, "BAD_PARAM_ATTRIBUTE_TYPE"},
      {2011, "BAD_PARAM_CUDA_GRAPH_MISMATCH"}, {2012, "BAD_PARAM_DESCRIPTOR_TYPE"}, {3000, "NOT_SUPPORTED"},
      {3001, "NOT_SUPPORTED_GRAPH_PATTERN"}, {3002, "NOT_SUPPORTED_SHAPE"}, {3003, "NOT_SUPPORTED_DATA_TYPE"},
      {3004, "NOT_SUPPORTED_LAYOUT"}, {3005, "NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER"},
      {3006, "NOT_SUPPORTED_INCOMPATIBLE_CUDART"}, {3007, "NOT_SUPPORTED_ARCH_MISMATCH"},
      {3008, "NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING"}, {3009, "NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE"},
      {3010, "NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT"}, {3011, "NOT_SUPPORTED_PADDING"},
      {3012, "NOT_SUPPORTED_BAD_LAUNCH_PARAM"}, {3013, "NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API"},
      {4000, "INTERNAL_ERROR"}, {4001, "INTERNAL_ERROR_COMPILATION_FAILED"},
      {4002, "INTERNAL_ERROR_UNEXPECTED_VALUE"}, {4003, "INTERNAL_ERROR_HOST_ALLOCATION_FAILED"},
      {4004, "INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED"}, {4005, "INTERNAL_ERROR_BAD_LAUNCH_PARAM"},
      {4006, "INTERNAL_ERROR_TEXTURE_CREATION_FAILED"}, {5000, "EXECUTION_FAILED"},
      {5001, "EXECUTION_FAILED_CUDA_DRIVER"}, {5002, "EXECUTION_FAILED_CUBLAS"},
      {5003, "EXECUTION_FAILED_CUDART"}, {5004, "EXECUTION_FAILED_CURAND"}};
  auto found = names.find(status);
  return std::string("CUDNN_STATUS_") + (found != names.end() ? found->second : std::to_string(status).c_str());
}

std::string cublasStatusName(api::cublasStatus_t status) {
  static const std::map<int, const char*> names = {
      {0, "SUCCESS"}, {1, "NOT_INITIALIZED"}, {3, "ALLOC_FAILED"}, {7, "INVALID_VALUE"},
      {8, "ARCH_MISMATCH"}, {11, "MAPPING_ERROR"}, {13, "EXECUTION_FAILED"}, {14, "INTERNAL_ERROR"},
      {15, "NOT_SUPPORTED"}, {16, "LICENSE_ERROR"}};
  auto found = names.find(status);
  return std::string("CUBLAS_STATUS_") + (found != names.end() ? found->second : std::to_string(status).c_str());
}

void throwDriverError(api::CUresult result, const std::string& what) {
  const api::DriverApi& driver = libraries().driver;
  const char* text = nullptr;
  std::string code = driverStatusName(result);
  std::string detail = code;
  if (driver.cuGetErrorString != nullptr && driver.cuGetErrorString(result, &text) == api::CUDA_SUCCESS &&
      text != nullptr) {
    detail += ": ";
    detail += text;
  }
  throw Error(code, what + " failed (" + detail + ")");
}

void throwCudnnError(api::cudnnStatus_t status, const std::string& what) {
  const api::CudnnApi& cudnn = libraries().cudnn;
  std::string code = cudnnStatusName(status);
  std::string detail = code;
  if (cudnn.cudnnGetErrorString != nullptr) {
    const char* text = cudnn.cudnnGetErrorString(status);
    if (text != nullptr && code != text) detail += std::string(": ") + text;
  }
  throw Error(code, what + " failed (" + detail + ")");
}

void throwCublasError(api::cublasStatus_t status, const std::string& what) {
  std::string code = cublasStatusName(status);
  throw Error(code, what + " failed (" + code + ")");
}

}  // namespace cudnet::cuda
