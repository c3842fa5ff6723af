// status.h — the status-to-error layer: every driver, cuDNN and cuBLAS status becomes a cudnet::Error
// whose code names the status (CUDA_ERROR_..., CUDNN_STATUS_..., CUBLAS_STATUS_...) and whose message
// names the operation and its shapes. The message is built only on failure.
#pragma once
#include <string>
#include <type_traits>
#include <utility>

#include "../core/error.h"
#include "api/cublas.h"
#include "api/cudnn.h"
#include "api/driver.h"

namespace cudnet::cuda {

std::string driverStatusName(api::CUresult result);
std::string cudnnStatusName(api::cudnnStatus_t status);
std::string cublasStatusName(api::cublasStatus_t status);

[[noreturn]] void throwDriverError(api::CUresult result, const std::string& what);
[[noreturn]] void throwCudnnError(api::cudnnStatus_t status, const std::string& what);
[[noreturn]] void throwCublasError(api::cublasStatus_t status, const std::string& what);

// `what` is a string or a callable returning one (so shape descriptions cost nothing on success).
template <typename What>
std::string describeWhat(What&& what) {
  if constexpr (std::is_invocable_v<What>) {
    return std::forward<What>(what)();
  } else {
    return std::string(std::forward<What>(what));
  }
}

template <typename What>
inline void checkDriver(api::CUresult result, What&& what) {
  if (result != api::CUDA_SUCCESS) throwDriverError(result, describeWhat(std::forward<What>(what)));
}
template <typename What>
inline void checkCudnn(api::cudnnStatus_t status, What&& what) {
  if (status != api::CUDNN_STATUS_SUCCESS) throwCudnnError(status, describeWhat(std::forward<What>(what)));
}
template <typename What>
inline void checkCublas(api::cublasStatus_t status, What&& what) {
  if (status != api::CUBLAS_STATUS_SUCCESS) throwCublasError(status, describeWhat(std::forward<What>(what)));
}

}  // namespace cudnet::cuda
