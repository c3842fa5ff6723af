// layers.cu — Caffe-exact pooling (ceil rule, argmax mask, AVE divisor), LRN (the scale buffer, and
// both regions where cuDNN does not apply), softmax loss and accuracy. Backward passes gather per
// bottom element instead of scattering, so there are no atomics and results are reproducible.
#include "common.cuh"

using cudnet::LrnParams;
using cudnet::PoolParams;

// ---- pooling ------------------------------------------------------------------------------------
// MAX: the window clipped to the image, strict '>' from -FLT_MAX so the first maximum (row-major)
// wins; mask = h*W + w, or -1 for a window that lies wholly beyond the input (Caffe's ceil quirk).
extern "C" __global__ void cudnetMaxPoolForward(PoolParams p, const float* x, float* y, float* mask) {
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.outH * p.outW) {
    const int pw = index % p.outW, ph = (index / p.outW) % p.outH;
    const Index plane = index / ((Index)p.outW * p.outH);
    int hstart = ph * p.strideH - p.padH, wstart = pw * p.strideW - p.padW;
    const int hend = min(hstart + p.kernelH, p.H), wend = min(wstart + p.kernelW, p.W);
    hstart = max(hstart, 0);
    wstart = max(wstart, 0);
    const float* slice = x + plane * p.H * p.W;
    float best = -FLT_MAX;
    int bestIndex = -1;
    for (int h = hstart; h < hend; ++h) {
      for (int w = wstart; w < wend; ++w) {
        if (slice[h * p.W + w] > best) {
          best = slice[h * p.W + w];
          bestIndex = h * p.W + w;
        }
      }
    }
    y[index] = best;
    mask[index] = (float)bestIndex;
  }
}

// AVE: the divisor counts padding but not the overhang past H + pad, and is taken before clipping.
extern "C" __global__ void cudnetAvePoolForward(PoolParams p, const float* x, float* y) {
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.outH * p.outW) {
    const int pw = index % p.outW, ph = (index / p.outW) % p.outH;
    const Index plane = index / ((Index)p.outW * p.outH);
    int hstart = ph * p.strideH - p.padH, wstart = pw * p.strideW - p.padW;
    int hend = min(hstart + p.kernelH, p.H + p.padH), wend = min(wstart + p.kernelW, p.W + p.padW);
    const int poolSize = (hend - hstart) * (wend - wstart);
    hstart = max(hstart, 0);
    wstart = max(wstart, 0);
    hend = min(hend, p.H);
    wend = min(wend, p.W);
    const float* slice = x + plane * p.H * p.W;
    float sum = 0.f;
    for (int h = hstart; h < hend; ++h) {
      for (int w = wstart; w < wend; ++w) sum += slice[h * p.W + w];
    }
    y[index] = sum / poolSize;
  }
}

// dx[h, w] = sum of dy over the windows whose argmax is (h, w), in (ph, pw) order.
extern "C" __global__ void cudnetMaxPoolBackward(PoolParams p, const float* dy, const float* mask, float* dx) {
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.H * p.W) {
    const int w = index % p.W, h = (index / p.W) % p.H;
    const Index plane = index / ((Index)p.W * p.H);
    const int phstart = (h + p.padH < p.kernelH) ? 0 : (h + p.padH - p.kernelH) / p.strideH + 1;
    const int phend = min((h + p.padH) / p.strideH + 1, p.outH);
    const int pwstart = (w + p.padW < p.kernelW) ? 0 : (w + p.padW - p.kernelW) / p.strideW + 1;
    const int pwend = min((w + p.padW) / p.strideW + 1, p.outW);
    const Index offset = plane * p.outH * p.outW;
    const float self = (float)(h * p.W + w);
    float gradient = 0.f;
    for (int ph = phstart; ph < phend; ++ph) {
      for (int pw = pwstart; pw < pwend; ++pw) {
        if (mask[offset + ph * p.outW + pw] == self) gradient += dy[offset + ph * p.outW + pw];
      }
    }
    dx[index] = gradient;
  }
}

// dx[h, w] = sum over the windows covering (h, w) of dy / poolSize (the forward divisor).
extern "C" __global__ void cudnetAvePoolBackward(PoolParams p, const float* dy, float* dx) {
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.H * p.W) {
    const int w = index % p.W + p.padW, h = (index / p.W) % p.H + p.padH;  // padded coordinates
    const Index plane = index / ((Index)p.W * p.H);
    const int phstart = (h < p.kernelH) ? 0 : (h - p.kernelH) / p.strideH + 1;
    const int phend = min(h / p.strideH + 1, p.outH);
    const int pwstart = (w < p.kernelW) ? 0 : (w - p.kernelW) / p.strideW + 1;
    const int pwend = min(w / p.strideW + 1, p.outW);
    const Index offset = plane * p.outH * p.outW;
    float gradient = 0.f;
    for (int ph = phstart; ph < phend; ++ph) {
      for (int pw = pwstart; pw < pwend; ++pw) {
        int hstart = ph * p.strideH - p.padH, wstart = pw * p.strideW - p.padW;
        int hend = min(hstart + p.kernelH, p.H + p.padH), wend = min(wstart + p.kernelW, p.W + p.padW);
        gradient += dy[offset + ph * p.outW + pw] / ((hend - hstart) * (wend - wstart));
      }
    }
    dx[index] = gradient;
  }
}

// ---- LRN ----------------------------------------------------------------------------------------
// ACROSS: scale = k + alpha/n * sum_{c' in [c-(n-1)/2, c+(n-1)/2] ∩ [0,C)} x[c']^2. When `y` is not
// null it also writes y = x * scale^-beta (used where cuDNN's limits rule cuDNN out).
extern "C" __global__ void cudnetLrnAcrossScale(LrnParams p, const float* x, float* scale, float* y) {
  const Index spatial = (Index)p.H * p.W;
  const int half = (p.localSize - 1) / 2;
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * spatial) {
    const int c = (int)((index / spatial) % p.C);
    const Index base = index - (Index)c * spatial;  // element (n, 0, h, w)
    float sum = 0.f;
    for (int other = max(c - half, 0); other <= min(c + half, p.C - 1); ++other) {
      float value = x[base + other * spatial];
      sum += value * value;
    }
    const float s = p.k + p.alpha / p.localSize * sum;
    scale[index] = s;
    if (y != nullptr) y[index] = x[index] * powf(s, -p.beta);
  }
}

// ACROSS backward: dx = dy * scale^-beta - (2*alpha*beta/n) * x * sum_{window} dy*y/scale.
extern "C" __global__ void cudnetLrnAcrossBackward(LrnParams p, const float* x, const float* y,
                                                   const float* scale, const float* dy, float* dx) {
  const Index spatial = (Index)p.H * p.W;
  const int half = (p.localSize - 1) / 2;
  const float factor = 2.f * p.alpha * p.beta / p.localSize;
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * spatial) {
    const int c = (int)((index / spatial) % p.C);
    const Index base = index - (Index)c * spatial;
    float sum = 0.f;
    for (int other = max(c - half, 0); other <= min(c + half, p.C - 1); ++other) {
      Index j = base + other * spatial;
      sum += dy[j] * y[j] / scale[j];
    }
    dx[index] = dy[index] * powf(scale[index], -p.beta) - factor * x[index] * sum;
  }
}

// WITHIN: scale = 1 + alpha/(n*n) * sum_{n x n window, zero padded} x^2 (k is ignored, as Caffe);
// y = x * scale^-beta.
extern "C" __global__ void cudnetLrnWithinForward(LrnParams p, const float* x, float* y, float* scale) {
  const int half = (p.localSize - 1) / 2;
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.H * p.W) {
    const int w = index % p.W, h = (index / p.W) % p.H;
    const float* slice = x + (index - (Index)h * p.W - w);
    float sum = 0.f;
    for (int hh = max(h - half, 0); hh <= min(h + half, p.H - 1); ++hh) {
      for (int ww = max(w - half, 0); ww <= min(w + half, p.W - 1); ++ww) {
        float value = slice[hh * p.W + ww];
        sum += value * value;
      }
    }
    const float s = 1.f + p.alpha * (sum / (p.localSize * p.localSize));
    scale[index] = s;
    y[index] = x[index] * powf(s, -p.beta);
  }
}

// WITHIN backward: dx = dy * scale^-beta - (2*alpha*beta/n^2) * x * sum_{n x n window} dy*y/scale.
extern "C" __global__ void cudnetLrnWithinBackward(LrnParams p, const float* x, const float* y,
                                                   const float* scale, const float* dy, float* dx) {
  const int half = (p.localSize - 1) / 2;
  const float factor = 2.f * p.alpha * p.beta / (p.localSize * p.localSize);
  CUDNET_GRID_LOOP(index, (Index)p.N * p.C * p.H * p.W) {
    const int w = index % p.W, h = (index / p.W) % p.H;
    const Index planeStart = index - (Index)h * p.W - w;
    float sum = 0.f;
    for (int hh = max(h - half, 0); hh <= min(h + half, p.H - 1); ++hh) {
      for (int ww = max(w - half, 0); ww <= min(w + half, p.W - 1); ++ww) {
        Index j = planeStart + hh * p.W + ww;
        sum += dy[j] * y[j] / scale[j];
      }
    }
    dx[index] = dy[index] * powf(scale[index], -p.beta) - factor * x[index] * sum;
  }
}

// ---- softmax loss and accuracy ---------------------------------------------------------------------
// Labels are floats read as Caffe reads them, truncated to int, with the CPU's rules (labelAt and
// isIgnored in native/cpu/ops/softmax.cpp): ignored when the value fits an int and truncates to
// ignoreLabel; usable when -1 < value < channels. NaN is neither. The loss and accuracy kernels report
// the first unusable label in a LabelCheck, and the backend raises the CPU's error for it
// (native/cuda/ops/softmax.cpp); no kernel indexes with such a label.
__device__ bool isIgnored(bool hasIgnoreLabel, int ignoreLabel, float value) {
  return hasIgnoreLabel && value > -2147483648.f && value < 2147483648.f && (int)value == ignoreLabel;
}

__device__ bool isUsableLabel(float value, int channels) { return value > -1.f && value < (float)channels; }

// No unusable label seen (larger than any position, so the block minimum finds the first one).
constexpr Index kNoPosition = ~(Index)0;

// Thread 0, after the block minimum: records the first unusable label, or position -1 for none.
__device__ void recordLabelCheck(Index firstUnusable, const float* labels, cudnet::LabelCheck* check) {
  if (firstUnusable == kNoPosition) {
    check->position = -1;
    check->value = 0.f;
  } else {
    check->position = (long long)firstUnusable;
    check->value = labels[firstUnusable];
  }
}

// Caffe's get_normalizer, clamped to >= 1.
__device__ float lossNormalizer(const cudnet::SoftmaxLossParams& p, double validCount) {
  double normalizer = 1;
  switch (p.normalization) {
    case cudnet::LossNormalization::Full: normalizer = (double)p.outer * p.inner; break;
    case cudnet::LossNormalization::Valid: normalizer = validCount; break;
    case cudnet::LossNormalization::BatchSize: normalizer = p.outer; break;
    case cudnet::LossNormalization::None: normalizer = 1; break;
  }
  return (float)fmax(normalizer, 1.0);
}

// One block: loss[0] = -sum_{valid} log(max(prob[label], FLT_MIN)) / normalizer. When `normalizer` is
// not null it only stores the normalizer there (for the backward pass) and leaves loss alone. Every
// launch writes `check`; when it names a label, neither loss nor normalizer is written.
extern "C" __global__ void cudnetSoftmaxLossForward(cudnet::SoftmaxLossParams p, const float* prob,
                                                    const float* labels, float* loss, float* normalizer,
                                                    cudnet::LabelCheck* check) {
  __shared__ double scratch[CUDNET_REDUCE_THREADS];
  __shared__ Index positions[CUDNET_REDUCE_THREADS];
  double sum = 0, valid = 0;
  Index firstUnusable = kNoPosition;  // each thread visits rising positions: its first is its least
  for (Index i = threadIdx.x; i < (Index)p.outer * p.inner; i += blockDim.x) {
    const float value = labels[i];
    if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, value)) continue;
    if (!isUsableLabel(value, p.channels)) {
      if (firstUnusable == kNoPosition) firstUnusable = i;
      continue;
    }
    valid += 1;
    if (normalizer == nullptr) {
      const Index o = i / p.inner, s = i % p.inner;
      sum -= log(fmax((double)prob[(o * p.channels + (int)value) * p.inner + s], (double)FLT_MIN));
    }
  }
  sum = blockSum(sum, scratch);
  valid = blockSum(valid, scratch);
  firstUnusable = blockMinimum(firstUnusable, positions);
  if (threadIdx.x != 0) return;
  recordLabelCheck(firstUnusable, labels, check);
  if (firstUnusable != kNoPosition) return;
  if (normalizer != nullptr) {
    normalizer[0] = lossNormalizer(p, valid);
  } else {
    loss[0] = (float)(sum / lossNormalizer(p, valid));
  }
}

// dx = (prob - onehot(label)) * lossWeight[0] / normalizer[0]; 0 at ignored positions. The backend
// launches it only after the forward kernel's check found every label usable; an unusable label would
// match no channel here, so even then nothing is read out of bounds.
extern "C" __global__ void cudnetSoftmaxLossBackward(cudnet::SoftmaxLossParams p, const float* prob,
                                                     const float* labels, const float* lossWeight,
                                                     const float* normalizer, float* dx) {
  const float factor = lossWeight[0] / normalizer[0];
  CUDNET_GRID_LOOP(index, (Index)p.outer * p.channels * p.inner) {
    const Index s = index % p.inner, o = index / ((Index)p.inner * p.channels);
    const int c = (int)((index / p.inner) % p.channels);
    const float value = labels[o * p.inner + s];
    if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, value)) {
      dx[index] = 0.f;
    } else {
      const bool isTarget = isUsableLabel(value, p.channels) && c == (int)value;
      dx[index] = (prob[index] - (isTarget ? 1.f : 0.f)) * factor;
    }
  }
}

// One block: out[0] = correct / valid (0 when no position is valid, as Caffe), where a position is
// correct when fewer than topK classes, the true one excluded, score >= the true class's score (ties
// count against), as Caffe counts. Writes `check` like cudnetSoftmaxLossForward, and leaves out[0]
// alone when it names a label.
extern "C" __global__ void cudnetAccuracy(cudnet::AccuracyParams p, const float* scores, const float* labels,
                                          float* out, cudnet::LabelCheck* check) {
  __shared__ double scratch[CUDNET_REDUCE_THREADS];
  __shared__ Index positions[CUDNET_REDUCE_THREADS];
  double correct = 0, valid = 0;
  Index firstUnusable = kNoPosition;
  for (Index i = threadIdx.x; i < (Index)p.outer * p.inner; i += blockDim.x) {
    const float value = labels[i];
    if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, value)) continue;
    if (!isUsableLabel(value, p.channels)) {
      if (firstUnusable == kNoPosition) firstUnusable = i;
      continue;
    }
    valid += 1;
    const Index o = i / p.inner, s = i % p.inner;
    const float* column = scores + o * p.channels * p.inner + s;
    const float truth = column[(Index)(int)value * p.inner];
    int better = -1;  // the true class counts itself once
    for (int c = 0; c < p.channels && better < p.topK; ++c) better += column[(Index)c * p.inner] >= truth;
    if (better < p.topK) correct += 1;
  }
  correct = blockSum(correct, scratch);
  valid = blockSum(valid, scratch);
  firstUnusable = blockMinimum(firstUnusable, positions);
  if (threadIdx.x != 0) return;
  recordLabelCheck(firstUnusable, labels, check);
  if (firstUnusable != kNoPosition) return;
  out[0] = valid == 0 ? 0.f : (float)(correct / valid);
}
