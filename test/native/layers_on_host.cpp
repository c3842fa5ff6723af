// layers_on_host.cpp — every kernel of kernels/layers.cu on the host, launched as native/cuda/ops/
// {pool,lrn,softmax}.cpp launch it, against plain float64 references written from Caffe's CPU layers
// (the semantics of native/cpu/ops/{pool,lrn,softmax}.cpp): pooling scatters forward windows, LRN
// gradients are central differences of the forward, and the loss and accuracy references follow the
// CPU's label rules, including its error for a label outside [0, channels).
#include "cuda_on_host.h"

#include <algorithm>
#include <functional>

#include "../../kernels/layers.cu"
#include "core/labels.h"
#include "host_check.h"

namespace host_check {
namespace {

using cuda_on_host::launch;
using cudnet::LrnParams;
using cudnet::PoolParams;
using Inputs = const std::vector<float>;

// ---- pooling ------------------------------------------------------------------------------------------
struct PoolReference {
  std::vector<double> y, mask, dx;
};

// One output window of Caffe's pooling, before and after clipping to the image.
struct Window {
  int hstart, wstart, hend, wend;  // clipped to [0, H) x [0, W)
  int poolSize;                    // AVE's divisor: counts padding, not the overhang past H + pad
};

Window windowAt(const PoolParams& p, int ph, int pw) {
  int hstart = ph * p.strideH - p.padH, wstart = pw * p.strideW - p.padW;
  int hend = std::min(hstart + p.kernelH, p.H + p.padH), wend = std::min(wstart + p.kernelW, p.W + p.padW);
  const int poolSize = (hend - hstart) * (wend - wstart);
  return {std::max(hstart, 0), std::max(wstart, 0), std::min(hend, p.H), std::min(wend, p.W), poolSize};
}

// Forward per window, backward by scattering each window's dy onto its inputs (Caffe's CPU loops).
PoolReference poolReference(const PoolParams& p, Inputs& x, Inputs& dy) {
  const size_t planes = size_t(p.N) * p.C, inPlane = size_t(p.H) * p.W, outPlane = size_t(p.outH) * p.outW;
  PoolReference r{std::vector<double>(planes * outPlane), std::vector<double>(planes * outPlane, -1),
                  std::vector<double>(planes * inPlane, 0)};
  for (size_t plane = 0; plane < planes; ++plane) {
    for (int ph = 0; ph < p.outH; ++ph) {
      for (int pw = 0; pw < p.outW; ++pw) {
        const Window window = windowAt(p, ph, pw);
        const size_t out = plane * outPlane + ph * p.outW + pw;
        double best = -FLT_MAX, sum = 0;
        for (int h = window.hstart; h < window.hend; ++h) {
          for (int w = window.wstart; w < window.wend; ++w) {
            const double value = x[plane * inPlane + h * p.W + w];
            sum += value;
            if (value > best) {
              best = value;
              r.mask[out] = h * p.W + w;
            }
          }
        }
        if (p.method == cudnet::PoolMethod::Max) {
          r.y[out] = best;
          if (r.mask[out] >= 0) r.dx[plane * inPlane + size_t(r.mask[out])] += dy[out];
          continue;
        }
        r.y[out] = sum / window.poolSize;
        for (int h = window.hstart; h < window.hend; ++h) {
          for (int w = window.wstart; w < window.wend; ++w) {
            r.dx[plane * inPlane + h * p.W + w] += dy[out] / window.poolSize;
          }
        }
      }
    }
  }
  return r;
}

std::string poolText(const PoolParams& p) {
  return std::to_string(p.N) + "x" + std::to_string(p.C) + "x" + std::to_string(p.H) + "x" + std::to_string(p.W) +
         ", kernel " + std::to_string(p.kernelH) + "x" + std::to_string(p.kernelW) + ", stride " +
         std::to_string(p.strideH) + "x" + std::to_string(p.strideW) + ", pad " + std::to_string(p.padH) + "x" +
         std::to_string(p.padW);
}

void checkPooling(PoolParams p) {
  cudnet::computeOutputShape(p);
  const size_t inCount = size_t(p.N) * p.C * p.H * p.W, outCount = size_t(p.N) * p.C * p.outH * p.outW;
  Inputs x = uniform(inCount, -1, 1), dy = uniform(outCount, -1, 1);
  std::vector<float> y = poisoned(outCount), mask = poisoned(outCount), dx = poisoned(inCount);
  const std::string shape = poolText(p);
  p.method = cudnet::PoolMethod::Max;
  PoolReference expected = poolReference(p, x, dy);
  launch(cudnetMaxPoolForward, blocksFor(outCount), kThreads, p, x.data(), y.data(), mask.data());
  report("cudnetMaxPoolForward", shape + ": maxima and their argmax mask",
         std::fmax(maxError(y, expected.y), maxError(mask, expected.mask)), 0);
  const float* maskIn = mask.data();
  launch(cudnetMaxPoolBackward, blocksFor(inCount), kThreads, p, dy.data(), maskIn, dx.data());
  report("cudnetMaxPoolBackward", shape + ": dy gathered where the mask points", maxError(dx, expected.dx), 1e-6);

  p.method = cudnet::PoolMethod::Average;
  expected = poolReference(p, x, dy);
  y = poisoned(outCount);
  dx = poisoned(inCount);
  launch(cudnetAvePoolForward, blocksFor(outCount), kThreads, p, x.data(), y.data());
  report("cudnetAvePoolForward", shape + ": window sums over Caffe's divisor", maxError(y, expected.y), 1e-6);
  launch(cudnetAvePoolBackward, blocksFor(inCount), kThreads, p, dy.data(), dx.data());
  report("cudnetAvePoolBackward", shape + ": dy / divisor from every covering window", maxError(dx, expected.dx), 1e-6);
}

PoolParams poolShape(int N, int C, int H, int W, int kernelH, int kernelW, int stride, int pad) {
  PoolParams p;
  p.N = N, p.C = C, p.H = H, p.W = W;
  p.kernelH = kernelH, p.kernelW = kernelW;
  p.strideH = p.strideW = stride;
  p.padH = p.padW = pad;
  return p;
}

// ---- LRN -------------------------------------------------------------------------------------------
// Caffe's forward in double: returns y and fills `scale`.
std::vector<double> lrnReference(const LrnParams& p, const std::vector<double>& x, std::vector<double>* scale) {
  const int half = (p.localSize - 1) / 2;
  std::vector<double> y(x.size());
  for (size_t index = 0; index < x.size(); ++index) {
    const int w = int(index % p.W), h = int(index / p.W % p.H), c = int(index / (size_t(p.W) * p.H) % p.C);
    const size_t n = index / (size_t(p.W) * p.H * p.C);
    auto at = [&](int cc, int hh, int ww) { return x[((n * p.C + cc) * p.H + hh) * p.W + ww]; };
    double sum = 0, s = 0;
    if (p.region == cudnet::LrnRegion::AcrossChannels) {
      for (int other = std::max(c - half, 0); other <= std::min(c + half, p.C - 1); ++other) {
        sum += at(other, h, w) * at(other, h, w);
      }
      s = p.k + double(p.alpha) / p.localSize * sum;
    } else {
      for (int hh = std::max(h - half, 0); hh <= std::min(h + half, p.H - 1); ++hh) {
        for (int ww = std::max(w - half, 0); ww <= std::min(w + half, p.W - 1); ++ww) {
          sum += at(c, hh, ww) * at(c, hh, ww);
        }
      }
      s = 1 + double(p.alpha) * sum / (p.localSize * p.localSize);
    }
    if (scale != nullptr) (*scale)[index] = s;
    y[index] = x[index] * std::pow(s, -double(p.beta));
  }
  return y;
}

// d(sum dy*y)/dx by central differences of the double forward (the gradient checker's method).
std::vector<double> lrnGradient(const LrnParams& p, Inputs& x, Inputs& dy) {
  std::vector<double> point(x.begin(), x.end()), gradient(x.size());
  const double step = 1e-4;
  auto objective = [&] {
    std::vector<double> y = lrnReference(p, point, nullptr);
    double sum = 0;
    for (size_t i = 0; i < y.size(); ++i) sum += dy[i] * y[i];
    return sum;
  };
  for (size_t i = 0; i < x.size(); ++i) {
    point[i] = x[i] + step;
    const double above = objective();
    point[i] = x[i] - step;
    const double below = objective();
    point[i] = x[i];
    gradient[i] = (above - below) / (2 * step);
  }
  return gradient;
}

std::string lrnText(const LrnParams& p) {
  return std::to_string(p.N) + "x" + std::to_string(p.C) + "x" + std::to_string(p.H) + "x" + std::to_string(p.W) +
         ", local size " + std::to_string(p.localSize);
}

void checkLrnAcross() {
  LrnParams p;
  p.N = 2, p.C = 7, p.H = 3, p.W = 5;
  p.localSize = 5, p.alpha = 0.7f, p.beta = 0.75f, p.k = 1.3f;
  p.region = cudnet::LrnRegion::AcrossChannels;
  const size_t n = size_t(p.N) * p.C * p.H * p.W;
  Inputs x = uniform(n, -2, 2), dy = uniform(n, -1, 1);
  std::vector<double> expectedScale(n);
  const std::vector<double> expectedY = lrnReference(p, std::vector<double>(x.begin(), x.end()), &expectedScale);
  std::vector<float> scale = poisoned(n), y = poisoned(n), dx = poisoned(n);
  float* noOutput = nullptr;
  launch(cudnetLrnAcrossScale, blocksFor(n), kThreads, p, x.data(), scale.data(), noOutput);
  report("cudnetLrnAcrossScale", lrnText(p) + ": the scale alone (cuDNN computes y)", maxError(scale, expectedScale),
         1e-5);
  scale = poisoned(n);
  launch(cudnetLrnAcrossScale, blocksFor(n), kThreads, p, x.data(), scale.data(), y.data());
  report("cudnetLrnAcrossScale", lrnText(p) + ": scale and y (outside cuDNN's limits)",
         std::fmax(maxError(scale, expectedScale), maxError(y, expectedY)), 1e-5);
  const float *yIn = y.data(), *scaleIn = scale.data();
  launch(cudnetLrnAcrossBackward, blocksFor(n), kThreads, p, x.data(), yIn, scaleIn, dy.data(), dx.data());
  report("cudnetLrnAcrossBackward", lrnText(p) + ": dx against central differences",
         maxError(dx, lrnGradient(p, x, dy)), 1e-4);
}

void checkLrnWithin() {
  LrnParams p;
  p.N = 2, p.C = 3, p.H = 5, p.W = 6;
  p.localSize = 3, p.alpha = 0.9f, p.beta = 0.75f, p.k = 2.f;  // k is ignored WITHIN_CHANNEL
  p.region = cudnet::LrnRegion::WithinChannel;
  const size_t n = size_t(p.N) * p.C * p.H * p.W;
  Inputs x = uniform(n, -2, 2), dy = uniform(n, -1, 1);
  std::vector<double> expectedScale(n);
  const std::vector<double> expectedY = lrnReference(p, std::vector<double>(x.begin(), x.end()), &expectedScale);
  std::vector<float> scale = poisoned(n), y = poisoned(n), dx = poisoned(n);
  launch(cudnetLrnWithinForward, blocksFor(n), kThreads, p, x.data(), y.data(), scale.data());
  report("cudnetLrnWithinForward", lrnText(p) + ": zero-padded 3x3 windows, divisor 9, k ignored",
         std::fmax(maxError(scale, expectedScale), maxError(y, expectedY)), 1e-5);
  const float *yIn = y.data(), *scaleIn = scale.data();
  launch(cudnetLrnWithinBackward, blocksFor(n), kThreads, p, x.data(), yIn, scaleIn, dy.data(), dx.data());
  report("cudnetLrnWithinBackward", lrnText(p) + ": dx against central differences",
         maxError(dx, lrnGradient(p, x, dy)), 1e-4);
}

// ---- softmax loss and accuracy ------------------------------------------------------------------------
// The CPU's rules (native/cpu/ops/softmax.cpp).
bool ignoredOnCpu(bool hasIgnoreLabel, int ignoreLabel, float value) {
  return hasIgnoreLabel && value > -2147483648.f && value < 2147483648.f && int(value) == ignoreLabel;
}

bool usableOnCpu(float value, int channels) { return value > -1.f && value < float(channels); }

// The first label the CPU would reject, as the check the kernels write (position -1 for none).
cudnet::LabelCheck firstUnusable(Inputs& labels, int channels, bool hasIgnoreLabel, int ignoreLabel) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!ignoredOnCpu(hasIgnoreLabel, ignoreLabel, labels[i]) && !usableOnCpu(labels[i], channels)) {
      return cudnet::LabelCheck{static_cast<long long>(i), labels[i]};
    }
  }
  return cudnet::LabelCheck{};
}

// Labels for [outer, inner] positions over `channels` classes, with every fifth one the ignore label.
std::vector<float> randomLabels(size_t positions, int channels, int ignoreLabel) {
  std::vector<float> labels = uniform(positions, 0, float(channels));
  for (float& label : labels) label = std::floor(label);
  for (size_t i = 0; i < positions; i += 5) labels[i] = float(ignoreLabel);
  return labels;
}

// Probabilities: a softmax over channels of random scores, [outer, channels, inner].
std::vector<float> randomProbabilities(int outer, int channels, int inner) {
  std::vector<float> prob = uniform(size_t(outer) * channels * inner, -3, 3);
  for (int o = 0; o < outer; ++o) {
    for (int s = 0; s < inner; ++s) {
      double sum = 0;
      for (int c = 0; c < channels; ++c) sum += std::exp(double(prob[(size_t(o) * channels + c) * inner + s]));
      for (int c = 0; c < channels; ++c) {
        float& value = prob[(size_t(o) * channels + c) * inner + s];
        value = float(std::exp(double(value)) / sum);
      }
    }
  }
  return prob;
}

double normalizerOnCpu(const cudnet::SoftmaxLossParams& p, double valid) {
  double normalizer = 1;
  switch (p.normalization) {
    case cudnet::LossNormalization::Full: normalizer = double(p.outer) * p.inner; break;
    case cudnet::LossNormalization::Valid: normalizer = valid; break;
    case cudnet::LossNormalization::BatchSize: normalizer = p.outer; break;
    case cudnet::LossNormalization::None: normalizer = 1; break;
  }
  return std::max(1.0, normalizer);
}

struct LossReference {
  double loss = 0, normalizer = 1;
  std::vector<double> dx;
};

LossReference lossReference(const cudnet::SoftmaxLossParams& p, Inputs& prob, Inputs& labels, double lossWeight) {
  LossReference r;
  double sum = 0, valid = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (ignoredOnCpu(p.hasIgnoreLabel, p.ignoreLabel, labels[i])) continue;
    const size_t o = i / p.inner, s = i % p.inner;
    sum -= std::log(std::max(double(prob[(o * p.channels + int(labels[i])) * p.inner + s]), double(FLT_MIN)));
    valid += 1;
  }
  r.normalizer = normalizerOnCpu(p, valid);
  r.loss = sum / r.normalizer;
  r.dx.resize(prob.size());
  for (size_t index = 0; index < prob.size(); ++index) {
    const size_t s = index % p.inner, c = index / p.inner % p.channels, o = index / (size_t(p.inner) * p.channels);
    const float label = labels[o * p.inner + s];
    const bool ignored = ignoredOnCpu(p.hasIgnoreLabel, p.ignoreLabel, label);
    r.dx[index] = ignored ? 0.0 : (prob[index] - (int(label) == int(c) ? 1.0 : 0.0)) * lossWeight / r.normalizer;
  }
  return r;
}

const char* normalizationName(cudnet::LossNormalization normalization) {
  switch (normalization) {
    case cudnet::LossNormalization::Full: return "FULL";
    case cudnet::LossNormalization::Valid: return "VALID";
    case cudnet::LossNormalization::BatchSize: return "BATCH_SIZE";
    case cudnet::LossNormalization::None: return "NONE";
  }
  return "?";
}

// A check that must stay as it was: filled with a value no kernel writes, so an unwritten check shows.
cudnet::LabelCheck staleCheck() { return cudnet::LabelCheck{12345, 6.5f}; }

// outer 7, channels 10, inner 45: 315 positions, more than one block's threads, so some threads take two.
void checkSoftmaxLoss(cudnet::LossNormalization normalization) {
  cudnet::SoftmaxLossParams p;
  p.outer = 7, p.channels = 10, p.inner = 45;
  p.hasIgnoreLabel = true, p.ignoreLabel = 255;
  p.normalization = normalization;
  const size_t positions = size_t(p.outer) * p.inner, n = positions * p.channels;
  Inputs labels = randomLabels(positions, p.channels, 255);
  std::vector<float> probabilities = randomProbabilities(p.outer, p.channels, p.inner);
  probabilities[size_t(labels[1]) * p.inner + 1] = 0.f;  // the loss clamps it: log(max(0, FLT_MIN)) is finite
  Inputs prob = probabilities, lossWeight{1.7f};
  const LossReference expected = lossReference(p, prob, labels, lossWeight[0]);
  const std::string what = std::string(normalizationName(normalization)) + " normalization, 7x10x45, ignore label 255";

  std::vector<float> loss = poisoned(1);
  float* noNormalizer = nullptr;
  cudnet::LabelCheck check = staleCheck();
  launch(cudnetSoftmaxLossForward, 1u, kThreads, p, prob.data(), labels.data(), loss.data(), noNormalizer, &check);
  report("cudnetSoftmaxLossForward", what + ": the loss, in one block", relativeError(loss[0], expected.loss), 1e-6,
         check.position == -1 ? "" : "the label check names position " + std::to_string(check.position));

  // The backward op: the forward kernel stores the normalizer, then one thread per element.
  std::vector<float> normalizer = poisoned(1), dx = poisoned(n);
  float* noLoss = nullptr;
  check = staleCheck();
  launch(cudnetSoftmaxLossForward, 1u, kThreads, p, prob.data(), labels.data(), noLoss, normalizer.data(), &check);
  report("cudnetSoftmaxLossForward", what + ": the normalizer for the backward pass",
         relativeError(normalizer[0], expected.normalizer), 0,
         check.position == -1 ? "" : "the label check names position " + std::to_string(check.position));
  const float* normalizerIn = normalizer.data();
  launch(cudnetSoftmaxLossBackward, blocksFor(n), kThreads, p, prob.data(), labels.data(), lossWeight.data(),
         normalizerIn, dx.data());
  report("cudnetSoftmaxLossBackward", what + ": dx = (prob - onehot) * weight / normalizer, 0 where ignored",
         maxError(dx, expected.dx), 1e-6);
}

// Scores with ties: each position's true class shares its score with class (label + 3) % channels.
void checkAccuracy(int topK) {
  cudnet::AccuracyParams p;
  p.outer = 5, p.channels = 6, p.inner = 67;
  p.topK = topK;
  p.hasIgnoreLabel = true, p.ignoreLabel = 2;
  const size_t positions = size_t(p.outer) * p.inner;
  std::vector<float> scores = uniform(positions * p.channels, -1, 1);
  Inputs labels = randomLabels(positions, p.channels, 2);
  for (size_t i = 0; i < positions; i += 3) {
    const size_t o = i / p.inner, s = i % p.inner, label = size_t(labels[i]);
    scores[(o * p.channels + (label + 3) % p.channels) * p.inner + s] = scores[(o * p.channels + label) * p.inner + s];
  }
  double correct = 0, valid = 0;
  for (size_t i = 0; i < positions; ++i) {
    if (ignoredOnCpu(true, p.ignoreLabel, labels[i])) continue;
    const size_t o = i / p.inner, s = i % p.inner;
    const float truth = scores[(o * p.channels + size_t(labels[i])) * p.inner + s];
    int atLeastAsGood = 0;
    for (int c = 0; c < p.channels; ++c) atLeastAsGood += scores[(o * p.channels + c) * p.inner + s] >= truth;
    correct += atLeastAsGood - 1 < topK;  // the true class counts itself
    valid += 1;
  }
  Inputs scoresIn = scores;
  std::vector<float> out = poisoned(1);
  cudnet::LabelCheck check = staleCheck();
  launch(cudnetAccuracy, 1u, kThreads, p, scoresIn.data(), labels.data(), out.data(), &check);
  report("cudnetAccuracy", "top-" + std::to_string(topK) + " of 6 classes, 5x6x67, ties count against, ignore label 2",
         relativeError(out[0], correct / valid), 1e-6,
         check.position == -1 ? "" : "the label check names position " + std::to_string(check.position));
}

// ---- labels outside [0, channels) ------------------------------------------------------------------
// Compares the check a kernel wrote with the CPU's first rejected label, and the error the backend
// raises from it with the CPU's message.
std::string checkProblem(const cudnet::LabelCheck& check, const cudnet::LabelCheck& expected, int channels,
                         const std::string& message) {
  const bool sameValue = check.value == expected.value || (std::isnan(check.value) && std::isnan(expected.value));
  if (check.position != expected.position || !sameValue) {
    return "the check holds position " + std::to_string(check.position) + " value " + std::to_string(check.value) +
           ", expected position " + std::to_string(expected.position) + " value " + std::to_string(expected.value);
  }
  const std::string raised = cudnet::labelOutsideRange(check.value, size_t(check.position), channels).what();
  return raised == message ? "" : "the error reads \"" + raised + "\", expected \"" + message + "\"";
}

// 300 positions, so thread t sees t and t + 256: the bad labels sit at 290 (thread 34's second
// position) and 260 (thread 4's second), and the kernel must report 260, the CPU's first.
struct BadLabels {
  std::vector<float> labels;
  cudnet::LabelCheck first;
  std::string message;
};

BadLabels badLabels(int channels, float firstValue, float laterValue, const std::string& message) {
  BadLabels bad{randomLabels(300, channels, 255), {}, message};
  bad.labels[290] = laterValue;
  bad.labels[260] = firstValue;
  bad.labels[262] = -0.5f;  // truncates to label 0: usable, as on the CPU
  bad.first = firstUnusable(bad.labels, channels, true, 255);
  return bad;
}

std::vector<BadLabels> badLabelCases(int channels) {
  return {badLabels(channels, float(channels), -3.f, "label 10 at position 260 is outside [0, 10)"),
          badLabels(channels, -1.f, 12.f, "label -1 at position 260 is outside [0, 10)"),
          badLabels(channels, std::nanf(""), 11.f, "label nan at position 260 is outside [0, 10)"),
          badLabels(channels, 1e10f, 11.f, "label 10000000000 at position 260 is outside [0, 10)")};
}

void checkUnusableLabels() {
  cudnet::SoftmaxLossParams loss;
  loss.outer = 3, loss.channels = 10, loss.inner = 100;
  loss.hasIgnoreLabel = true, loss.ignoreLabel = 255;
  cudnet::AccuracyParams accuracy;
  accuracy.outer = 3, accuracy.channels = 10, accuracy.inner = 100;
  accuracy.hasIgnoreLabel = true, accuracy.ignoreLabel = 255;
  Inputs prob = randomProbabilities(3, 10, 100);
  for (const BadLabels& bad : badLabelCases(10)) {
    const std::string what = "\"" + bad.message + "\" (another follows at 290)";
    std::vector<float> value{-7.f};
    float *noNormalizer = nullptr, *noLoss = nullptr;
    cudnet::LabelCheck check = staleCheck();
    launch(cudnetSoftmaxLossForward, 1u, kThreads, loss, prob.data(), bad.labels.data(), value.data(), noNormalizer,
           &check);
    std::string problem = checkProblem(check, bad.first, 10, bad.message);
    report("cudnetSoftmaxLossForward", what + ": the first is reported, the loss left alone",
           relativeError(value[0], -7.0), 0, problem);

    check = staleCheck();
    launch(cudnetSoftmaxLossForward, 1u, kThreads, loss, prob.data(), bad.labels.data(), noLoss, value.data(), &check);
    report("cudnetSoftmaxLossForward", what + ", normalizer launch: the first is reported, the normalizer left alone",
           relativeError(value[0], -7.0), 0, checkProblem(check, bad.first, 10, bad.message));

    check = staleCheck();
    launch(cudnetAccuracy, 1u, kThreads, accuracy, prob.data(), bad.labels.data(), value.data(), &check);
    report("cudnetAccuracy", what + ": the first is reported, the accuracy left alone",
           relativeError(value[0], -7.0), 0, checkProblem(check, bad.first, 10, bad.message));
  }
  // Labels equal to the ignore label are skipped, even when they are outside [0, channels).
  std::vector<float> ignored = randomLabels(300, 10, 255);
  cudnet::LabelCheck check = staleCheck();
  std::vector<float> out = poisoned(1);
  launch(cudnetAccuracy, 1u, kThreads, accuracy, prob.data(), static_cast<const float*>(ignored.data()), out.data(),
         &check);
  report("cudnetAccuracy", "ignore label 255 (outside [0, 10)) is skipped, not reported", 0, 0,
         check.position == -1 ? "" : "the check names position " + std::to_string(check.position));
}

// The backward kernel alone with an unusable label: that label matches no channel, so dx = prob * factor
// there and no probability is read outside the position's own column.
void checkBackwardWithUnusableLabel() {
  cudnet::SoftmaxLossParams p;
  p.outer = 2, p.channels = 4, p.inner = 3;
  Inputs prob = randomProbabilities(2, 4, 3);
  Inputs labels{0, 1, 2, 3, 4, -1}, lossWeight{1.f}, normalizer{2.f};
  std::vector<float> dx = poisoned(prob.size());
  launch(cudnetSoftmaxLossBackward, blocksFor(prob.size()), kThreads, p, prob.data(), labels.data(),
         lossWeight.data(), normalizer.data(), dx.data());
  std::vector<double> expected(prob.size());
  for (size_t index = 0; index < prob.size(); ++index) {
    const size_t s = index % 3, c = index / 3 % 4, o = index / 12;
    const float label = labels[o * 3 + s];
    expected[index] = (prob[index] - (usableOnCpu(label, 4) && int(label) == int(c) ? 1.0 : 0.0)) / 2.0;
  }
  report("cudnetSoftmaxLossBackward", "labels 4 and -1 of 4 classes match no channel", maxError(dx, expected), 1e-6);
}

// Caffe's accuracy with every label ignored is 0 (no valid position), never 0/0.
void checkAccuracyAllIgnored() {
  cudnet::AccuracyParams p;
  p.outer = 3, p.channels = 4, p.inner = 5;
  p.hasIgnoreLabel = true, p.ignoreLabel = 1;
  Inputs scores = uniform(60, -1, 1), labels(15, 1.f);
  std::vector<float> out = poisoned(1);
  cudnet::LabelCheck check = staleCheck();
  launch(cudnetAccuracy, 1u, kThreads, p, scores.data(), labels.data(), out.data(), &check);
  report("cudnetAccuracy", "every label ignored gives 0", relativeError(out[0], 0.0), 0,
         check.position == -1 ? "" : "the check names position " + std::to_string(check.position));
}

}  // namespace

void checkLayerKernels() {
  checkPooling(poolShape(2, 3, 7, 6, 3, 3, 2, 1));
  checkPooling(poolShape(1, 2, 5, 8, 2, 3, 2, 0));  // ceil rule: the last windows hang over the edge
  checkPooling(poolShape(2, 1, 4, 5, 3, 3, 1, 0));
  checkLrnAcross();
  checkLrnWithin();
  for (auto normalization : {cudnet::LossNormalization::Full, cudnet::LossNormalization::Valid,
                             cudnet::LossNormalization::BatchSize, cudnet::LossNormalization::None}) {
    checkSoftmaxLoss(normalization);
  }
  checkAccuracy(1);
  checkAccuracy(3);
  checkUnusableLabels();
  checkBackwardWithUnusableLabel();
  checkAccuracyAllIgnored();
}

}  // namespace host_check
