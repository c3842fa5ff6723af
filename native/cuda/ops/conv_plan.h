// conv_plan.h — what is kept per convolution shape: its cuDNN descriptors and, per direction, the
// algorithm chosen by timing the candidates once (cudnnFind*AlgorithmEx) for the process.
#pragma once
#include <cstddef>

#include "../descriptors.h"

namespace cudnet::cuda {

struct AlgorithmChoice {
  bool chosen = false;
  int algorithm = 0;
  int mathType = api::CUDNN_FMA_MATH;  // set on the descriptor before running (cuDNN needs algo + math type)
  size_t workspaceBytes = 0;
};

// x: [N, C, H, W]  w: [K, C/group, kernelH, kernelW]  y: [N, K, outH, outW]  bias: [1, K, 1, 1]
struct ConvolutionPlan {
  TensorDescriptor x, y, bias;
  FilterDescriptor w;
  ConvolutionDescriptor convolution;
  AlgorithmChoice forward, backwardData, backwardFilter;
};

}  // namespace cudnet::cuda
