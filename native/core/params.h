// params.h — the plain parameter structs every op takes, and the output-shape rules, shared by all backends.
#pragma once
#include <cstdint>
#include <cstddef>

namespace cudnet {

// 2-D convolution (cross-correlation, Caffe's convention).
// x: [N, C, H, W]   w: [K, C/group, kernelH, kernelW]   b: [K]   y: [N, K, outH, outW]
// outH = (H + 2*padH - (dilationH*(kernelH-1)+1)) / strideH + 1   (floor, as Caffe)
struct Conv2dParams {
  int N = 0, C = 0, H = 0, W = 0;  // input
  int K = 0;                        // output channels (num_output)
  int kernelH = 1, kernelW = 1;
  int padH = 0, padW = 0;
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;
  int group = 1;
  int outH = 0, outW = 0;  // filled by computeOutputShape
};

inline int convOutputSize(int in, int kernel, int pad, int stride, int dilation) {
  return (in + 2 * pad - (dilation * (kernel - 1) + 1)) / stride + 1;
}
inline void computeOutputShape(Conv2dParams& p) {
  p.outH = convOutputSize(p.H, p.kernelH, p.padH, p.strideH, p.dilationH);
  p.outW = convOutputSize(p.W, p.kernelW, p.padW, p.strideW, p.dilationW);
}

enum class PoolMethod : int { Max = 0, Average = 1 };

// Pooling per channel. x: [N, C, H, W] -> y: [N, C, outH, outW].
// Caffe's rule: out = ceil((in + 2*pad - kernel) / stride) + 1, then, only when pad > 0,
// --out if the last window would start at or beyond in + pad.
struct PoolParams {
  int N = 0, C = 0, H = 0, W = 0;
  int kernelH = 1, kernelW = 1;
  int padH = 0, padW = 0;
  int strideH = 1, strideW = 1;
  PoolMethod method = PoolMethod::Max;
  int outH = 0, outW = 0;
};

inline int poolOutputSize(int in, int kernel, int pad, int stride) {
  int out = (in + 2 * pad - kernel + stride - 1) / stride + 1;  // ceil
  if (pad > 0 && (out - 1) * stride >= in + pad) --out;
  return out;
}
inline void computeOutputShape(PoolParams& p) {
  p.outH = poolOutputSize(p.H, p.kernelH, p.padH, p.strideH);
  p.outW = poolOutputSize(p.W, p.kernelW, p.padW, p.strideW);
}

enum class LrnRegion : int { AcrossChannels = 0, WithinChannel = 1 };

// Local response normalization, Caffe's formula (see ../shared reference):
// ACROSS: scale = k + alpha/n * sum_{window of n channels} x^2;  y = x * scale^-beta
// WITHIN: scale = 1 + alpha * avg_{n x n, zero padded, divisor n*n}(x^2); y = x * scale^-beta (k ignored)
// x, y, scale: [N, C, H, W]. `scale` is kept from forward for backward.
struct LrnParams {
  int N = 0, C = 0, H = 0, W = 0;
  int localSize = 5;
  float alpha = 1.f, beta = 0.75f, k = 1.f;
  LrnRegion region = LrnRegion::AcrossChannels;
};

// Softmax over the channel axis at every (outer, inner) position. x, y: [outer, channels, inner].
struct SoftmaxParams {
  int outer = 0, channels = 0, inner = 0;
};

enum class LossNormalization : int { Full = 0, Valid = 1, BatchSize = 2, None = 3 };

// Softmax cross-entropy over probabilities prob: [outer, channels, inner], labels: [outer, inner].
struct SoftmaxLossParams {
  int outer = 0, channels = 0, inner = 0;
  bool hasIgnoreLabel = false;
  int ignoreLabel = -1;
  LossNormalization normalization = LossNormalization::Valid;
};

// Top-k accuracy over scores [outer, channels, inner], labels [outer, inner]; ties count against.
struct AccuracyParams {
  int outer = 0, channels = 0, inner = 0;
  int topK = 1;
  bool hasIgnoreLabel = false;
  int ignoreLabel = -1;
};

// What a device checking labels for softmax loss or accuracy hands back to the host, which raises the
// CPU's error for it: the first position whose label is neither ignored nor in [0, channels), or -1 when
// every label is usable, and that label as stored (a float, so the message can show NaN or 1e+10).
struct LabelCheck {
  long long position = -1;
  float value = 0.f;
};

enum class SolverKind : int { Sgd = 0, Nesterov = 1, AdaGrad = 2, RmsProp = 3, AdaDelta = 4, Adam = 5 };
enum class Regularization : int { L2 = 0, L1 = 1 };

// One parameter blob's update, Caffe's formulas (sgd_solver.cpp, adam_solver.cpp, ...):
//   g += weightDecay * (L2: w | L1: sign(w))       (already multiplied by decay_mult)
//   SGD:      h = momentum*h + lr*g;                w -= h
//   Nesterov: h' = momentum*h + lr*g;               w -= (1+momentum)*h' - momentum*h
//   AdaGrad:  h += g^2;                             w -= lr * g / (sqrt(h) + delta)
//   RMSProp:  h = rmsDecay*h + (1-rmsDecay)*g^2;    w -= lr * g / (sqrt(h) + delta)
//   AdaDelta: h = m*h + (1-m)*g^2; u = g*sqrt((h2+delta)/(h+delta)); h2 = m*h2 + (1-m)*u^2; w -= lr*u
//   Adam:     m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
//             w -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + delta)     (t = iteration + 1)
// lr already includes lr_mult. The diff `g` is left holding the applied update (as Caffe does).
struct SolverUpdateParams {
  SolverKind kind = SolverKind::Sgd;
  size_t count = 0;
  float learningRate = 0.f;   // base rate for this iteration * lr_mult
  float momentum = 0.f;       // SGD/Nesterov momentum, AdaDelta momentum, Adam beta1
  float momentum2 = 0.999f;   // Adam beta2
  float rmsDecay = 0.99f;
  float delta = 1e-8f;
  float weightDecay = 0.f;    // weight_decay * decay_mult
  Regularization regularization = Regularization::L2;
  int iteration = 0;          // updates already applied (Adam's bias correction uses iteration + 1)
};

}  // namespace cudnet
