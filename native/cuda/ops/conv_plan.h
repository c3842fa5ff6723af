// conv_plan.h — what is kept per convolution shape and mode: its cuDNN descriptors and, per direction,
// the algorithm chosen by timing the candidates once (cudnnFind*AlgorithmEx) for the process.
#pragma once
#include <cstddef>

#include "../descriptors.h"
#include "conv_choice.h"

namespace cudnet::cuda {

// x: [N, C, H, W]  w: [K, C/group, kernelH, kernelW]  y: [N, K, outH, outW]  bias: [1, K, 1, 1]
struct ConvolutionPlan {
  TensorDescriptor x, y, bias;
  FilterDescriptor w;
  ConvolutionDescriptor convolution;
  AlgorithmChoice forward, backwardData, backwardFilter;
};

}  // namespace cudnet::cuda
