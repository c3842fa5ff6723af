// kernels.h — our kernels (kernels/*.cu, embedded as one fatbin) loaded with cuModuleLoadData and
// launched with cuLaunchKernel, so the addon needs no libcudart.
#pragma once
#include <array>
#include <string>

#include "api/driver.h"
#include "loader.h"
#include "status.h"

namespace cudnet::cuda {

// Every kernel by its extern "C" name; the names table in kernels.cpp follows this order.
enum class Kernel : int {
  Fill, Axpby, Multiply, PowerForward, PowerBackward, MaxAccumulate, MaxSelectBackward,
  ChannelAffineForward, ChannelAffineBackwardData, ChannelAffineBackwardParams, CopyBlocks,
  ReducePartial, ReduceFinish, AddRowBias, SumRowsInto, ReluForward, ReluBackward, DropoutForward,
  SolverUpdate, MaxPoolForward, AvePoolForward, MaxPoolBackward, AvePoolBackward, LrnAcrossScale,
  LrnAcrossBackward, LrnWithinForward, LrnWithinBackward, SoftmaxLossForward, SoftmaxLossBackward,
  Accuracy, Count
};

// Threads per block of every launch; reductions rely on it (CUDNET_REDUCE_THREADS in kernels/common.cuh).
constexpr unsigned kThreadsPerBlock = 256;

class KernelModule {
 public:
  // Loads the embedded fatbin into the current context and finds every kernel; throws
  // Error("CUDA_UNAVAILABLE") when the addon was built without kernels or the GPU has no image.
  KernelModule();
  ~KernelModule();
  KernelModule(const KernelModule&) = delete;
  KernelModule& operator=(const KernelModule&) = delete;

  // Launches `kernel` with `blocks` x kThreadsPerBlock threads on `stream`. The argument types must be
  // exactly those of the kernel's signature (cuLaunchKernel copies each by the size the image says).
  template <typename... Arguments>
  void launch(Kernel kernel, unsigned blocks, api::CUstream stream, Arguments... arguments) const {
    void* parameters[] = {static_cast<void*>(&arguments)...};
    launchWith(kernel, blocks, stream, parameters);
  }

  // Blocks for a grid-stride loop over n elements: enough to fill the GPU, never more than needed.
  unsigned blocksFor(size_t n) const;

  static const char* name(Kernel kernel);

 private:
  void launchWith(Kernel kernel, unsigned blocks, api::CUstream stream, void** parameters) const;

  api::CUmodule module_ = nullptr;
  std::array<api::CUfunction, static_cast<size_t>(Kernel::Count)> functions_{};
  unsigned maxBlocks_ = 65535;
};

}  // namespace cudnet::cuda
