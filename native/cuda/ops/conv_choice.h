// conv_choice.h — which cuDNN convolution algorithm runs, and with which math type: the math type set on
// the descriptor before a search, and the rule that picks one result from cuDNN's timed list. Pure
// functions of their arguments, so the host tests (test/native) check them without a GPU.
#pragma once
#include <cstddef>
#include <string>

#include "../../core/error.h"
#include "../api/cudnn.h"

namespace cudnet::cuda {

// How a device's convolutions may compute (CudaBackend::setTf32, setDeterministic).
struct ConvolutionMode {
  bool tf32 = false;           // TF32 tensor cores allowed
  bool deterministic = false;  // only algorithms cuDNN marks CUDNN_DETERMINISTIC
};

struct AlgorithmChoice {
  bool chosen = false;
  int algorithm = 0;
  int mathType = api::CUDNN_FMA_MATH;  // set on the descriptor before running (cuDNN needs algo + math type)
  size_t workspaceBytes = 0;
};

// The math type of the descriptor while cuDNN times the candidates. float32 is FMA math: cuDNN's default
// math lets it use TF32 on Ampere and newer, which changes results. TF32 mode is default math, which
// allows TF32 (what PyTorch's allow_tf32 does); ALLOW_CONVERSION is never used, as it also allows FP16.
inline api::cudnnMathType_t searchMathType(const ConvolutionMode& mode) {
  return mode.tf32 ? api::CUDNN_DEFAULT_MATH : api::CUDNN_FMA_MATH;
}

// True when `result` may run in `mode`: it ran, fits the workspace limit, never converts to FP16, uses
// tensor-core math only in TF32 mode, and is deterministic when that is asked for.
inline bool isAllowed(const api::cudnnConvolutionAlgoPerf_t& result, size_t limit, const ConvolutionMode& mode) {
  if (result.status != api::CUDNN_STATUS_SUCCESS || result.memory > limit) return false;
  if (result.mathType == api::CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;
  if (!mode.tf32 && result.mathType == api::CUDNN_TENSOR_OP_MATH) return false;
  return !mode.deterministic || result.determinism == api::CUDNN_DETERMINISTIC;
}

// The first allowed result of cuDNN's list (sorted fastest first). In float32 mode it runs with FMA math
// whatever math type the result reports, so a result timed under default math never runs in TF32. Throws
// CUDNN_STATUS_NOT_SUPPORTED naming `what` when none is allowed.
inline AlgorithmChoice pickAlgorithm(const api::cudnnConvolutionAlgoPerf_t* results, int count, size_t limit,
                                     const ConvolutionMode& mode, const std::string& what) {
  for (int i = 0; i < count; ++i) {
    const api::cudnnConvolutionAlgoPerf_t& result = results[i];
    if (!isAllowed(result, limit, mode)) continue;
    const int mathType = mode.tf32 ? result.mathType : api::CUDNN_FMA_MATH;
    return AlgorithmChoice{true, result.algo, mathType, result.memory};
  }
  throw Error("CUDNN_STATUS_NOT_SUPPORTED",
              std::string("no ") + (mode.deterministic ? "deterministic " : "") + "cuDNN algorithm runs " + what +
                  " within the workspace limit of " + std::to_string(limit >> 20) +
                  " MiB (CUDNET_CUDNN_WORKSPACE_MB)");
}

}  // namespace cudnet::cuda
