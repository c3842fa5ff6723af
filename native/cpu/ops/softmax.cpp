// softmax.cpp — CpuBackend softmax (forward, backward), SoftmaxWithLoss (forward, backward) and accuracy.
//
// Tensors are [outer, channels, inner]; the softmax runs over `channels` independently at every
// (outer, inner) position. Channel c of position (o, i) sits at (o*channels + c)*inner + i, so the
// loops walk one channel row of `inner` contiguous floats at a time (as Caffe's softmax_layer.cpp
// does) and the inner loops vectorise; the work is split over (outer, block of inner) tasks.
// Labels are [outer, inner] floats, truncated to int as Caffe reads them.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "../../core/error.h"
#include "../../core/labels.h"
#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {

// Inner positions handled by one task: long enough for SIMD, short enough that the per-task
// scratch rows stay in L1.
constexpr int kInnerBlock = 512;

// Below this many values (outer * channels * inner) one thread is faster than waking the pool
// (LeNet's loss: 64 x 10 values).
constexpr size_t kParallelThreshold = 1 << 15;

// Calls body(o, begin, end) for every outer index and block [begin, end) of inner positions.
template <typename Body>
void forEachBlock(ThreadPool& pool, int outer, int channels, int inner, const Body& body) {
  const size_t blocks = static_cast<size_t>((inner + kInnerBlock - 1) / kInnerBlock);
  const size_t tasks = static_cast<size_t>(outer) * blocks;
  auto task = [&](size_t t) {
    int o = static_cast<int>(t / blocks);
    int begin = static_cast<int>(t % blocks) * kInnerBlock;
    body(o, begin, std::min(begin + kInnerBlock, inner));
  };
  if (static_cast<size_t>(outer) * channels * inner < kParallelThreshold) {
    for (size_t t = 0; t < tasks; ++t) task(t);
    return;
  }
  pool.parallelFor(tasks, task);
}

// y = exp(x - max_c x) / sum_c exp(x - max_c x) over one block of positions.
void softmaxBlock(int channels, int inner, int begin, int end, const float* x, float* y) {
  const int width = end - begin;
  float maximum[kInnerBlock], sum[kInnerBlock];
  std::copy(x + begin, x + end, maximum);
  for (int c = 1; c < channels; ++c) {
    const float* row = x + static_cast<size_t>(c) * inner + begin;
    for (int i = 0; i < width; ++i) maximum[i] = std::max(maximum[i], row[i]);
  }
  std::fill(sum, sum + width, 0.f);
  for (int c = 0; c < channels; ++c) {
    const float* row = x + static_cast<size_t>(c) * inner + begin;
    float* out = y + static_cast<size_t>(c) * inner + begin;
    for (int i = 0; i < width; ++i) {
      out[i] = std::exp(row[i] - maximum[i]);
      sum[i] += out[i];
    }
  }
  for (int c = 0; c < channels; ++c) {
    float* out = y + static_cast<size_t>(c) * inner + begin;
    for (int i = 0; i < width; ++i) out[i] /= sum[i];
  }
}

// dx = y * (dy - sum_c dy*y) over one block of positions.
void softmaxBackwardBlock(int channels, int inner, int begin, int end, const float* y, const float* dy, float* dx) {
  const int width = end - begin;
  float dotProduct[kInnerBlock];
  std::fill(dotProduct, dotProduct + width, 0.f);
  for (int c = 0; c < channels; ++c) {
    size_t offset = static_cast<size_t>(c) * inner + begin;
    for (int i = 0; i < width; ++i) dotProduct[i] += dy[offset + i] * y[offset + i];
  }
  for (int c = 0; c < channels; ++c) {
    size_t offset = static_cast<size_t>(c) * inner + begin;
    for (int i = 0; i < width; ++i) dx[offset + i] = y[offset + i] * (dy[offset + i] - dotProduct[i]);
  }
}

// The label at `position` as Caffe reads it (a float truncated to int), or an INVALID_ARGUMENT
// error naming the label, its position and the valid range (the stream prefixes the op).
int labelAt(const float* labels, size_t position, int channels) {
  float value = labels[position];
  if (value > -1.f && value < static_cast<float>(channels)) return static_cast<int>(value);
  throw labelOutsideRange(value, position, channels);
}

// True when the label truncates to ignoreLabel (only values that fit an int are truncated).
bool isIgnored(bool hasIgnoreLabel, int ignoreLabel, const float* labels, size_t position) {
  float value = labels[position];
  return hasIgnoreLabel && value > -2147483648.f && value < 2147483648.f && static_cast<int>(value) == ignoreLabel;
}

// Checks every non-ignored label (in order, so the first bad one is reported) and counts them.
size_t validateLabels(const float* labels, size_t positions, int channels, bool hasIgnoreLabel,
                      int ignoreLabel) {
  size_t valid = 0;
  for (size_t position = 0; position < positions; ++position) {
    if (isIgnored(hasIgnoreLabel, ignoreLabel, labels, position)) continue;
    labelAt(labels, position, channels);
    ++valid;
  }
  return valid;
}

// Caffe's get_normalizer (softmax_loss_layer.cpp), clamped to >= 1.
float lossNormalizer(const SoftmaxLossParams& p, size_t validCount) {
  double normalizer = 1.0;
  switch (p.normalization) {
    case LossNormalization::Full: normalizer = static_cast<double>(p.outer) * p.inner; break;
    case LossNormalization::Valid: normalizer = static_cast<double>(validCount); break;
    case LossNormalization::BatchSize: normalizer = p.outer; break;
    case LossNormalization::None: normalizer = 1.0; break;
  }
  return static_cast<float>(std::max(1.0, normalizer));
}

}  // namespace

void CpuBackend::softmaxForward(const SoftmaxParams& p, const float* x, float* y) {
  const size_t plane = static_cast<size_t>(p.channels) * p.inner;
  forEachBlock(pool(), p.outer, p.channels, p.inner, [&](int o, int begin, int end) {
    softmaxBlock(p.channels, p.inner, begin, end, x + o * plane, y + o * plane);
  });
}

void CpuBackend::softmaxBackward(const SoftmaxParams& p, const float* y, const float* dy, float* dx) {
  const size_t plane = static_cast<size_t>(p.channels) * p.inner;
  forEachBlock(pool(), p.outer, p.channels, p.inner, [&](int o, int begin, int end) {
    softmaxBackwardBlock(p.channels, p.inner, begin, end, y + o * plane, dy + o * plane, dx + o * plane);
  });
}

// loss = -sum_{valid} log(max(prob[label], FLT_MIN)) / normalizer. The sum is kept in double;
// it runs over outer*inner positions only, so one thread does it.
void CpuBackend::softmaxLossForward(const SoftmaxLossParams& p, const float* prob, const float* labels, float* loss) {
  const size_t positions = static_cast<size_t>(p.outer) * p.inner;
  size_t valid = validateLabels(labels, positions, p.channels, p.hasIgnoreLabel, p.ignoreLabel);
  double sum = 0.0;
  for (size_t position = 0; position < positions; ++position) {
    if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, labels, position)) continue;
    size_t o = position / p.inner, i = position % p.inner;
    int label = static_cast<int>(labels[position]);
    float probability = prob[(o * p.channels + label) * p.inner + i];
    sum -= std::log(std::max(probability, FLT_MIN));
  }
  loss[0] = static_cast<float>(sum / lossNormalizer(p, valid));
}

// dx = (prob - onehot(label)) * lossWeight / normalizer; every channel of an ignored position gets 0.
void CpuBackend::softmaxLossBackward(const SoftmaxLossParams& p, const float* prob, const float* labels,
                                     const float* lossWeight, float* dx) {
  const size_t positions = static_cast<size_t>(p.outer) * p.inner;
  size_t valid = validateLabels(labels, positions, p.channels, p.hasIgnoreLabel, p.ignoreLabel);
  const float factor = lossWeight[0] / lossNormalizer(p, valid);
  const size_t plane = static_cast<size_t>(p.channels) * p.inner;
  forEachBlock(pool(), p.outer, p.channels, p.inner, [&](int o, int begin, int end) {
    const float* label = labels + static_cast<size_t>(o) * p.inner;
    for (int c = 0; c < p.channels; ++c) {
      size_t offset = o * plane + static_cast<size_t>(c) * p.inner;
      for (int i = begin; i < end; ++i) {
        if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, label, i)) {
          dx[offset + i] = 0.f;
          continue;
        }
        float target = static_cast<int>(label[i]) == c ? 1.f : 0.f;
        dx[offset + i] = (prob[offset + i] - target) * factor;
      }
    }
  });
}

// A position counts as correct when fewer than topK classes other than the label score >= the
// label's score (Caffe's accuracy_layer.cpp: ties count against). out = correct / valid (0 if none).
void CpuBackend::accuracy(const AccuracyParams& p, const float* scores, const float* labels, float* out) {
  const size_t positions = static_cast<size_t>(p.outer) * p.inner;
  size_t valid = validateLabels(labels, positions, p.channels, p.hasIgnoreLabel, p.ignoreLabel);
  size_t correct = 0;
  for (size_t position = 0; position < positions; ++position) {
    if (isIgnored(p.hasIgnoreLabel, p.ignoreLabel, labels, position)) continue;
    size_t o = position / p.inner, i = position % p.inner;
    const float* column = scores + o * p.channels * static_cast<size_t>(p.inner) + i;
    float trueScore = column[static_cast<size_t>(static_cast<int>(labels[position])) * p.inner];
    int atLeastAsGood = -1;  // the true class itself scores >= itself
    for (int c = 0; c < p.channels && atLeastAsGood < p.topK; ++c) {
      atLeastAsGood += column[static_cast<size_t>(c) * p.inner] >= trueScore ? 1 : 0;
    }
    if (atLeastAsGood < p.topK) ++correct;
  }
  out[0] = valid == 0 ? 0.f : static_cast<float>(static_cast<double>(correct) / static_cast<double>(valid));
}

}  // namespace cudnet::cpu
