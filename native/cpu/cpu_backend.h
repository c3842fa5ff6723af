// cpu_backend.h — CpuBackend: the Backend interface on host memory, using every core.
// Each group of ops is implemented in its own file under native/cpu/ops/ (one base name per op).
#pragma once
#include "../core/backend.h"
#include "thread_pool.h"

namespace cudnet::cpu {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  std::string name() const override { return "cpu"; }
  std::string describe() const override;
  ThreadPool& pool() { return pool_; }

  // memory (cpu_backend.cpp)
  void* allocate(size_t bytes) override;
  void release(void* pointer, size_t bytes) override;
  void copyFromHost(void* destination, const void* source, size_t bytes) override;
  void copyToHost(void* destination, const void* source, size_t bytes) override;
  void synchronize() override {}

  // ops/elementwise.cpp
  void fill(size_t n, float value, float* y) override;
  void copy(size_t n, const float* x, float* y) override;
  void axpby(size_t n, float alpha, const float* x, float beta, float* y) override;
  void multiply(size_t n, const float* a, const float* b, float* y) override;
  void powerForward(size_t n, float power, float scale, float shift, const float* x, float* y) override;
  void powerBackward(size_t n, float power, float scale, float shift, const float* x, const float* dy,
                     float* dx) override;
  void maxAccumulate(size_t n, int index, const float* x, float* y, float* mask) override;
  void maxSelectBackward(size_t n, int index, const float* mask, const float* dy, float* dx) override;
  void channelAffineForward(int outer, int channels, int inner, const float* x, const float* scale,
                            const float* bias, float* y) override;
  void channelAffineBackward(int outer, int channels, int inner, const float* x, const float* scale,
                             const float* dy, float* dx, float* dscale, float* dbias) override;
  void copyBlocks(size_t count, size_t block, const float* source, size_t sourceStride, float* destination,
                  size_t destinationStride) override;
  void dot(size_t n, const float* x, const float* y, float* out) override;
  void sumSquares(size_t n, const float* x, float* out) override;
  void sumAbs(size_t n, const float* x, float* out) override;

  // ops/gemm.cpp
  void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override;
  void addRowBias(int rows, int columns, const float* bias, float* y) override;
  void sumRowsInto(int rows, int columns, const float* dy, float* db) override;

  // ops/conv.cpp
  void conv2dForward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) override;
  void conv2dBackwardData(const Conv2dParams& p, const float* w, const float* dy, float* dx) override;
  void conv2dBackwardFilter(const Conv2dParams& p, const float* x, const float* dy, float* dw) override;
  void conv2dBackwardBias(const Conv2dParams& p, const float* dy, float* db) override;

  // ops/pool.cpp
  void poolForward(const PoolParams& p, const float* x, float* y, float* mask) override;
  void poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) override;
  // ops/lrn.cpp
  void lrnForward(const LrnParams& p, const float* x, float* y, float* scale) override;
  void lrnBackward(const LrnParams& p, const float* x, const float* y, const float* scale, const float* dy,
                   float* dx) override;
  // ops/activation.cpp
  void reluForward(size_t n, float slope, const float* x, float* y) override;
  void reluBackward(size_t n, float slope, const float* x, const float* dy, float* dx) override;
  void dropoutForward(size_t n, float ratio, uint64_t seed, const float* x, float* y, float* mask) override;

  // ops/softmax.cpp
  void softmaxForward(const SoftmaxParams& p, const float* x, float* y) override;
  void softmaxBackward(const SoftmaxParams& p, const float* y, const float* dy, float* dx) override;
  void softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels, float* loss) override;
  void softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                           const float* lossWeight, float* dx) override;
  void accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) override;

  // ops/solver.cpp
  void solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                    float* history2) override;

 private:
  ThreadPool pool_;
};

}  // namespace cudnet::cpu
