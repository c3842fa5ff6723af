// backend.h — the seam between the engine and the hardware: one pure virtual method per op.
// CpuBackend (native/cpu) and CudaBackend (native/cuda) implement it; nothing above this
// file knows which one runs. Pointers are the backend's own memory (host for the CPU,
// device for CUDA). Every method is called on the device's stream thread, in order.
// Shapes are in the parameter structs of params.h; the formulas are written there and
// beside each method below.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "params.h"

namespace cudnet {

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu" or "cuda:N"; a line saying what the device is (CPU model, GPU name and versions).
  virtual std::string name() const = 0;
  virtual std::string describe() const = 0;

  // Called once by the device's stream thread before it runs any op (a CUDA backend makes
  // its context current there).
  virtual void bindToCurrentThread() {}

  // ---- memory -------------------------------------------------------------------------
  // allocate and release may be called from any thread (the JS thread creates tensors, the
  // stream thread drops the last reference of a buffer a queued op held); a backend makes them
  // thread-safe. Releasing is stream-ordered: work already queued on the buffer completes first.
  // allocate throws Error("OUT_OF_MEMORY", ...) naming the bytes; never returns null for bytes > 0.
  virtual void* allocate(size_t bytes) = 0;
  virtual void release(void* pointer, size_t bytes) = 0;
  // Returns once the source may be freed or reused (the bytes have left host memory).
  virtual void copyFromHost(void* destination, const void* source, size_t bytes) = 0;
  // Returns once the bytes are in host memory (waits for the work before it).
  virtual void copyToHost(void* destination, const void* source, size_t bytes) = 0;
  // Waits until all work issued to this device has finished.
  virtual void synchronize() = 0;
  // Bytes held by a cache of freed blocks (0 where there is none), and releasing that cache.
  virtual size_t cachedBytes() const { return 0; }
  virtual void emptyCache() {}

  // ---- element-wise and reductions (n elements) -----------------------------------------
  virtual void fill(size_t n, float value, float* y) = 0;                  // y = value
  virtual void copy(size_t n, const float* x, float* y) = 0;               // y = x
  virtual void axpby(size_t n, float alpha, const float* x, float beta, float* y) = 0;  // y = alpha*x + beta*y
  virtual void multiply(size_t n, const float* a, const float* b, float* y) = 0;      // y = a*b
  // y = (shift + scale*x)^power;  backward: dx = dy * power*scale*(shift + scale*x)^(power-1)
  virtual void powerForward(size_t n, float power, float scale, float shift, const float* x, float* y) = 0;
  virtual void powerBackward(size_t n, float power, float scale, float shift, const float* x,
                             const float* dy, float* dx) = 0;
  // Eltwise MAX, one bottom at a time: bottom 0 copies x into y and sets mask = 0; bottom i
  // sets y = x and mask = i where x > y. Backward: dx = dy where mask == index, else 0.
  virtual void maxAccumulate(size_t n, int index, const float* x, float* y, float* mask) = 0;
  virtual void maxSelectBackward(size_t n, int index, const float* mask, const float* dy, float* dx) = 0;
  // Per-channel affine over [outer, channels, inner]: y = x*scale[c] (+ bias[c] if bias).
  virtual void channelAffineForward(int outer, int channels, int inner, const float* x, const float* scale,
                                    const float* bias, float* y) = 0;
  // dx = dy*scale[c] (dx may be null); dscale[c] += sum dy*x (if dscale); dbias[c] += sum dy (if dbias).
  virtual void channelAffineBackward(int outer, int channels, int inner, const float* x, const float* scale,
                                     const float* dy, float* dx, float* dscale, float* dbias) = 0;
  // Copies `count` blocks of `block` floats: dst[i*dstStride + j] = src[i*srcStride + j] (Concat, Slice).
  virtual void copyBlocks(size_t count, size_t block, const float* source, size_t sourceStride,
                          float* destination, size_t destinationStride) = 0;
  // out[0] = sum x*y (in double inside, stored as float); out[0] = sum x*x.
  virtual void dot(size_t n, const float* x, const float* y, float* out) = 0;
  virtual void sumSquares(size_t n, const float* x, float* out) = 0;
  // out[0] = sum |x| ; used to find non-finite values (NaN/Inf propagate into the sum).
  virtual void sumAbs(size_t n, const float* x, float* out) = 0;

  // ---- dense algebra --------------------------------------------------------------------
  // Row-major: C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, op = transpose when asked.
  // A is [M,K] (or [K,M] when transA), B is [K,N] (or [N,K] when transB), contiguous.
  virtual void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, const float* B,
                    float beta, float* C) = 0;
  // Adds bias[j] to every row: y[i, j] += bias[j] for y: [rows, columns]  (InnerProduct).
  virtual void addRowBias(int rows, int columns, const float* bias, float* y) = 0;
  // db[j] += sum_i dy[i, j]  (InnerProduct bias gradient, accumulates).
  virtual void sumRowsInto(int rows, int columns, const float* dy, float* db) = 0;

  // ---- convolution -------------------------------------------------------------------------
  // y = conv(x, w) + b (b may be null). y is overwritten.
  virtual void conv2dForward(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) = 0;
  // dx = conv_transpose(dy, w); dx is overwritten.
  virtual void conv2dBackwardData(const Conv2dParams& p, const float* w, const float* dy, float* dx) = 0;
  // dw += correlation of x and dy (accumulates, Caffe's convention).
  virtual void conv2dBackwardFilter(const Conv2dParams& p, const float* x, const float* dy, float* dw) = 0;
  // db[k] += sum over N, outH, outW of dy  (accumulates).
  virtual void conv2dBackwardBias(const Conv2dParams& p, const float* dy, float* db) = 0;

  // ---- pooling, LRN, activations -----------------------------------------------------------
  // MAX writes mask = argmax index h*W + w inside the channel plane (first maximum wins).
  virtual void poolForward(const PoolParams& p, const float* x, float* y, float* mask) = 0;
  // dx is overwritten; MAX routes dy through mask, AVE spreads dy/poolSize (Caffe's divisor).
  virtual void poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) = 0;
  virtual void lrnForward(const LrnParams& p, const float* x, float* y, float* scale) = 0;
  virtual void lrnBackward(const LrnParams& p, const float* x, const float* y, const float* scale,
                           const float* dy, float* dx) = 0;
  // y = max(x,0) + slope*min(x,0);  dx = dy * (x > 0 ? 1 : slope)
  virtual void reluForward(size_t n, float slope, const float* x, float* y) = 0;
  virtual void reluBackward(size_t n, float slope, const float* x, const float* dy, float* dx) = 0;
  // Train-time inverted dropout: mask[i] = (u(seed, i) >= ratio) ? 1/(1-ratio) : 0; y = x*mask.
  // u(seed, i) in [0,1) comes from the counter-based generator in core/random.h, so every
  // backend draws the same mask for the same seed.
  virtual void dropoutForward(size_t n, float ratio, uint64_t seed, const float* x, float* y, float* mask) = 0;

  // ---- softmax, loss, accuracy -----------------------------------------------------------
  virtual void softmaxForward(const SoftmaxParams& p, const float* x, float* y) = 0;
  // dx = y * (dy - sum_c dy*y)
  virtual void softmaxBackward(const SoftmaxParams& p, const float* y, const float* dy, float* dx) = 0;
  // loss[0] = -sum_{valid} log(max(prob[label], FLT_MIN)) / normalizer(p)
  virtual void softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                  float* loss) = 0;
  // dx = (prob - onehot(label)) * lossWeight[0] / normalizer(p), 0 where ignored.
  // lossWeight is a device scalar (the top diff), so no host round trip is needed.
  virtual void softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                   const float* lossWeight, float* dx) = 0;
  // out[0] = fraction of valid positions whose label ranks within top k (ties count against).
  virtual void accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) = 0;

  // ---- solvers ---------------------------------------------------------------------------
  // One parameter blob's update (formulas in params.h). history1/2 may be null when unused.
  virtual void solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                            float* history2) = 0;
};

}  // namespace cudnet
