// elementwise.cpp — CudaBackend's element-wise ops and reductions: our kernels (kernels/elementwise.cu),
// plus the driver's memset/memcpy where they do the job.
#include <cstring>

#include "../cuda_backend.h"
#include "../loader.h"

namespace cudnet::cuda {

namespace {
using Index = unsigned long long;  // the kernels' size type
constexpr unsigned kMaxReduceBlocks = 1024;  // partials fit the backend's scratch buffer
constexpr int kReduceDot = 0, kReduceSquares = 1, kReduceAbs = 2;

api::CUdeviceptr address(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer); }
}  // namespace

// A float's bits written as 32-bit words: any value, no kernel.
void CudaBackend::fill(size_t n, float value, float* y) {
  if (n == 0) return;
  unsigned int bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  checkDriver(libraries().driver.cuMemsetD32Async(address(y), bits, n, stream_),
              [&] { return "fill of " + std::to_string(n) + " floats"; });
}

void CudaBackend::copy(size_t n, const float* x, float* y) {
  if (n == 0 || x == y) return;
  checkDriver(libraries().driver.cuMemcpyDtoDAsync_v2(address(y), address(x), n * sizeof(float), stream_),
              [&] { return "copy of " + std::to_string(n) + " floats"; });
}

void CudaBackend::axpby(size_t n, float alpha, const float* x, float beta, float* y) {
  if (n == 0) return;
  kernels_->launch(Kernel::Axpby, kernels_->blocksFor(n), stream_, Index(n), alpha, x, beta, y);
}

void CudaBackend::multiply(size_t n, const float* a, const float* b, float* y) {
  if (n == 0) return;
  kernels_->launch(Kernel::Multiply, kernels_->blocksFor(n), stream_, Index(n), a, b, y);
}

void CudaBackend::powerForward(size_t n, float power, float scale, float shift, const float* x, float* y) {
  if (n == 0) return;
  kernels_->launch(Kernel::PowerForward, kernels_->blocksFor(n), stream_, Index(n), power, scale, shift, x, y);
}

void CudaBackend::powerBackward(size_t n, float power, float scale, float shift, const float* x, const float* dy,
                                float* dx) {
  if (n == 0) return;
  kernels_->launch(Kernel::PowerBackward, kernels_->blocksFor(n), stream_, Index(n), power, scale, shift, x, dy, dx);
}

void CudaBackend::maxAccumulate(size_t n, int index, const float* x, float* y, float* mask) {
  if (n == 0) return;
  kernels_->launch(Kernel::MaxAccumulate, kernels_->blocksFor(n), stream_, Index(n), index, x, y, mask);
}

void CudaBackend::maxSelectBackward(size_t n, int index, const float* mask, const float* dy, float* dx) {
  if (n == 0) return;
  kernels_->launch(Kernel::MaxSelectBackward, kernels_->blocksFor(n), stream_, Index(n), index, mask, dy, dx);
}

void CudaBackend::channelAffineForward(int outer, int channels, int inner, const float* x, const float* scale,
                                       const float* bias, float* y) {
  const size_t n = size_t(outer) * channels * inner;
  if (n == 0) return;
  kernels_->launch(Kernel::ChannelAffineForward, kernels_->blocksFor(n), stream_, outer, channels, inner, x, scale,
                   bias, y);
}

void CudaBackend::channelAffineBackward(int outer, int channels, int inner, const float* x, const float* scale,
                                        const float* dy, float* dx, float* dscale, float* dbias) {
  const size_t n = size_t(outer) * channels * inner;
  if (n == 0) return;
  if (dx != nullptr) {
    kernels_->launch(Kernel::ChannelAffineBackwardData, kernels_->blocksFor(n), stream_, outer, channels, inner,
                     scale, dy, dx);
  }
  if (dscale != nullptr || dbias != nullptr) {
    kernels_->launch(Kernel::ChannelAffineBackwardParams, static_cast<unsigned>(channels), stream_, outer, channels,
                     inner, x, dy, dscale, dbias);
  }
}

void CudaBackend::copyBlocks(size_t count, size_t block, const float* source, size_t sourceStride,
                             float* destination, size_t destinationStride) {
  if (count == 0 || block == 0) return;
  kernels_->launch(Kernel::CopyBlocks, kernels_->blocksFor(count * block), stream_, Index(count), Index(block),
                   source, Index(sourceStride), destination, Index(destinationStride));
}

// Two passes with a fixed number of blocks: per-block double sums into the scratch buffer, then one
// block adds them and stores out[0] as float. The result stays on the device (no host round trip).
void CudaBackend::reduce(int kind, size_t n, const float* x, const float* y, float* out) {
  if (n == 0) {
    fill(1, 0.f, out);
    return;
  }
  unsigned blocks = kernels_->blocksFor(n);
  if (blocks > kMaxReduceBlocks) blocks = kMaxReduceBlocks;
  double* partial = static_cast<double*>(scratch_);
  kernels_->launch(Kernel::ReducePartial, blocks, stream_, kind, Index(n), x, y, partial);
  const double* partialIn = partial;
  kernels_->launch(Kernel::ReduceFinish, 1, stream_, static_cast<int>(blocks), partialIn, out);
}

void CudaBackend::dot(size_t n, const float* x, const float* y, float* out) { reduce(kReduceDot, n, x, y, out); }

void CudaBackend::sumSquares(size_t n, const float* x, float* out) { reduce(kReduceSquares, n, x, x, out); }

void CudaBackend::sumAbs(size_t n, const float* x, float* out) { reduce(kReduceAbs, n, x, x, out); }

}  // namespace cudnet::cuda
