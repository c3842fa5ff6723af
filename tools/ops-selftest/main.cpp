// main.cpp — the CPU ops self-test: pooling, LRN, ReLU, dropout, softmax, loss, accuracy and solver
// updates checked against double references, plus a timing of AlexNet's norm1 LRN.
// Build and run: tools/ops-selftest/build.sh        (only the timing: build.sh --bench)
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <time.h>

#include "core/error.h"
#include "core/random.h"
#include "cpu/cpu_backend.h"
#include "references.h"

using namespace cudnet;
using cudnet::cpu::CpuBackend;

namespace {

int failures = 0, checks = 0;
std::mt19937 rng(12345);

void expect(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("FAIL: %s\n", what.c_str());
  }
}

std::vector<float> randomFloats(size_t n, float low = -1.f, float high = 1.f) {
  std::uniform_real_distribution<float> d(low, high);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

// Small integers, so MAX pooling windows contain ties.
std::vector<float> randomIntegers(size_t n, int low, int high) {
  std::uniform_int_distribution<int> d(low, high);
  std::vector<float> v(n);
  for (auto& e : v) e = static_cast<float>(d(rng));
  return v;
}

std::vector<float> poisoned(size_t n) { return std::vector<float>(n, std::nanf("")); }

reference::Doubles toDoubles(const std::vector<float>& v) { return reference::Doubles(v.begin(), v.end()); }

// Largest |a-b| / max(|b|, floor) over the arrays; NaN anywhere (where the reference has none) is infinite.
double relativeError(const std::vector<float>& actual, const reference::Doubles& expected, double floor = 1e-3) {
  if (actual.size() != expected.size()) return INFINITY;
  double worst = 0.0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]) && std::isnan(actual[i])) continue;
    if (std::isnan(actual[i]) || std::isnan(expected[i])) return INFINITY;
    if (actual[i] == expected[i]) continue;
    worst = std::max(worst, std::fabs(actual[i] - expected[i]) / std::max(std::fabs(expected[i]), floor));
  }
  return worst;
}

// floor: the magnitude below which errors count as absolute. Gradients and updates are
// differences of larger terms, so they are checked with a floor of 1 (as the gradient checker).
void expectClose(const std::vector<float>& actual, const reference::Doubles& expected, double tolerance,
                 const std::string& what, double floor = 1e-3) {
  double error = relativeError(actual, expected, floor);
  expect(error <= tolerance, what + " (relative error " + std::to_string(error) + ")");
}

std::string poolName(const PoolParams& p) {
  char text[160];
  std::snprintf(text, sizeof text, "%s pool %dx%dx%dx%d k%dx%d s%dx%d p%dx%d", p.method == PoolMethod::Max ? "MAX" : "AVE",
                p.N, p.C, p.H, p.W, p.kernelH, p.kernelW, p.strideH, p.strideW, p.padH, p.padW);
  return text;
}

// ---- pooling -------------------------------------------------------------------------------

void checkPoolCase(CpuBackend& backend, PoolParams p, bool ties) {
  computeOutputShape(p);
  size_t inCount = static_cast<size_t>(p.N) * p.C * p.H * p.W, outCount = static_cast<size_t>(p.N) * p.C * p.outH * p.outW;
  auto x = ties ? randomIntegers(inCount, -2, 2) : randomFloats(inCount);
  auto y = poisoned(outCount), mask = poisoned(outCount);
  backend.poolForward(p, x.data(), y.data(), mask.data());
  reference::Doubles yRef;
  std::vector<int> maskRef;
  reference::poolForward(p, x, yRef, maskRef);
  std::string name = poolName(p) + (ties ? " (ties)" : "");
  expectClose(y, yRef, 1e-5, name + " forward", 1.0);  // AVE sums cancel near 0
  if (p.method == PoolMethod::Max) {
    bool same = true;
    for (size_t i = 0; i < outCount; ++i) same = same && static_cast<int>(mask[i]) == maskRef[i];
    expect(same, name + " mask");
  }
  auto dy = randomFloats(outCount);
  auto dx = poisoned(inCount);
  backend.poolBackward(p, dy.data(), mask.data(), dx.data());
  reference::Doubles dxRef;
  reference::poolBackward(p, dy, maskRef, dxRef);
  expectClose(dx, dxRef, 1e-5, name + " backward", 1.0);
}

void checkPooling(CpuBackend& backend) {
  struct Case { int N, C, H, W, kH, kW, sH, sW, pH, pW; };
  const Case cases[] = {
      {1, 1, 3, 3, 2, 2, 2, 2, 1, 1},    // ceil gives 3, clipped to 2
      {2, 3, 9, 10, 3, 3, 2, 2, 0, 0},   // 4x5 (floor would be 4x4)
      {1, 2, 6, 7, 2, 2, 3, 3, 0, 0},    // windows beyond the input: -FLT_MAX / NaN
      {1, 1, 9, 9, 2, 2, 5, 5, 0, 0},    // a window starting 2 past the input: AVE extent negative (-0)
      {3, 5, 13, 11, 3, 2, 2, 3, 1, 1},  // non-square kernel, stride and pad
      {2, 4, 55, 55, 3, 3, 2, 2, 0, 0},  // AlexNet pool1 shape (smaller batch)
      {1, 3, 7, 5, 5, 5, 1, 1, 2, 2},    // pad = 2 on every side
      {2, 2, 8, 8, 8, 8, 1, 1, 0, 0},    // global
      {2, 3, 9, 40, 3, 3, 1, 1, 1, 1},   // wide rows: the 8-wide stride-1 path
      {1, 2, 11, 45, 3, 2, 2, 2, 1, 1},  // wide rows: the 8-wide stride-2 path, padded
      {2, 3, 24, 24, 2, 2, 2, 2, 0, 0},  // LeNet pool1: 2x2 tiles, 8 full + 4 partial lanes per row
      {2, 2, 8, 8, 2, 2, 2, 2, 0, 0},    // LeNet pool2: one partial vector per row
      {1, 3, 9, 37, 2, 2, 2, 2, 0, 0},   // odd H and W: clipped last tile row and column
      {1, 2, 10, 13, 3, 3, 3, 3, 0, 0},  // 3x3 tiles, clipped
      {2, 2, 17, 41, 3, 3, 2, 2, 0, 0},  // overlapping k3 s2, odd sizes, partial vectors
      {1, 1, 7, 7, 3, 3, 2, 2, 0, 0},    // overlapping k3 s2, a 3-wide row: one partial vector
      {1, 2, 17, 17, 3, 3, 2, 2, 0, 0},  // k3 s2, W = 2*outW + 1: the last cell only in a chunk's left window
      {1, 2, 12, 23, 3, 3, 3, 2, 1, 0},  // k3 s2 along W, other rows: stride 3, padded
  };
  for (const Case& c : cases)
    for (PoolMethod method : {PoolMethod::Max, PoolMethod::Average})
      for (bool ties : {false, true}) {
        PoolParams p;
        p.N = c.N, p.C = c.C, p.H = c.H, p.W = c.W, p.kernelH = c.kH, p.kernelW = c.kW;
        p.strideH = c.sH, p.strideW = c.sW, p.padH = c.pH, p.padW = c.pW, p.method = method;
        checkPoolCase(backend, p, ties);
      }
  PoolParams clip;
  clip.H = clip.W = 3, clip.kernelH = clip.kernelW = 2, clip.strideH = clip.strideW = 2, clip.padH = clip.padW = 1;
  computeOutputShape(clip);
  expect(clip.outH == 2 && clip.outW == 2, "3x3 k2 s2 p1 gives 2x2");
  PoolParams odd;
  odd.H = 9, odd.W = 10, odd.kernelH = odd.kernelW = 3, odd.strideH = odd.strideW = 2;
  computeOutputShape(odd);
  expect(odd.outH == 4 && odd.outW == 5, "9x10 k3 s2 gives 4x5");
}

// ---- LRN -----------------------------------------------------------------------------------

// wideRange: every third channel is 100 times larger, so the window sums slide over values of
// very different sizes (the case where a sliding float sum would drift).
void checkLrnCase(CpuBackend& backend, const LrnParams& p, bool wideRange = false) {
  size_t count = static_cast<size_t>(p.N) * p.C * p.H * p.W;
  auto x = randomFloats(count, -3.f, 3.f);
  const size_t plane = static_cast<size_t>(p.H) * p.W;
  if (wideRange)
    for (size_t i = 0; i < count; ++i) x[i] *= (i / plane) % 3 == 0 ? 30.f : 0.3f;
  auto y = poisoned(count), scale = poisoned(count), dx = poisoned(count);
  backend.lrnForward(p, x.data(), y.data(), scale.data());
  reference::Doubles yRef, scaleRef, dxRef;
  reference::lrnForward(p, toDoubles(x), yRef, scaleRef);
  char name[160];
  std::snprintf(name, sizeof name, "LRN %s %dx%dx%dx%d n%d alpha %g beta %g k %g%s",
                p.region == LrnRegion::AcrossChannels ? "ACROSS" : "WITHIN", p.N, p.C, p.H, p.W, p.localSize, p.alpha,
                p.beta, p.k, wideRange ? " (wide range)" : "");
  expectClose(y, yRef, 1e-5, std::string(name) + " forward");
  expectClose(scale, scaleRef, 1e-5, std::string(name) + " scale");
  auto dy = randomFloats(count);
  backend.lrnBackward(p, x.data(), y.data(), scale.data(), dy.data(), dx.data());
  reference::lrnBackward(p, toDoubles(x), toDoubles(dy), dxRef);
  expectClose(dx, dxRef, 1e-5, std::string(name) + " backward", 1.0);
}

// The double reference's backward against central differences of its own forward (L = sum dy*y).
void checkLrnReferenceGradient(const LrnParams& p) {
  size_t count = static_cast<size_t>(p.N) * p.C * p.H * p.W;
  auto x = toDoubles(randomFloats(count, -2.f, 2.f)), dy = toDoubles(randomFloats(count));
  reference::Doubles dx, y, scale;
  reference::lrnBackward(p, x, dy, dx);
  double worst = 0.0;
  for (size_t i = 0; i < count; ++i) {
    double saved = x[i], step = 1e-5, plus = 0.0, minus = 0.0;
    x[i] = saved + step;
    reference::lrnForward(p, x, y, scale);
    for (size_t j = 0; j < count; ++j) plus += dy[j] * y[j];
    x[i] = saved - step;
    reference::lrnForward(p, x, y, scale);
    for (size_t j = 0; j < count; ++j) minus += dy[j] * y[j];
    x[i] = saved;
    double numeric = (plus - minus) / (2 * step);
    worst = std::max(worst, std::fabs(numeric - dx[i]) / std::max(1.0, std::fabs(numeric)));
  }
  expect(worst < 1e-6, std::string("LRN reference gradient ") +
                           (p.region == LrnRegion::AcrossChannels ? "ACROSS" : "WITHIN") + " " + std::to_string(worst));
}

LrnParams lrnParams(int N, int C, int H, int W, int size, float alpha, float beta, float k, LrnRegion region) {
  LrnParams p;
  p.N = N, p.C = C, p.H = H, p.W = W, p.localSize = size, p.alpha = alpha, p.beta = beta, p.k = k, p.region = region;
  return p;
}

void checkLrn(CpuBackend& backend) {
  for (LrnRegion region : {LrnRegion::AcrossChannels, LrnRegion::WithinChannel}) {
    checkLrnReferenceGradient(lrnParams(2, 4, 3, 5, 3, 0.7f, 0.75f, 2.f, region));
    checkLrnCase(backend, lrnParams(1, 7, 5, 6, 5, 1.f, 0.75f, 1.f, region));
    checkLrnCase(backend, lrnParams(2, 3, 4, 3, 5, 0.5f, 0.75f, 2.f, region));   // window wider than C
    checkLrnCase(backend, lrnParams(3, 9, 33, 37, 3, 0.3f, 0.5f, 1.5f, region));
    checkLrnCase(backend, lrnParams(2, 6, 40, 41, 7, 2.f, 1.f, 1.f, region));
    checkLrnCase(backend, lrnParams(2, 5, 9, 11, 5, 1.f, 0.6f, 3.f, region));    // general exponent
    checkLrnCase(backend, lrnParams(1, 1, 3, 3, 1, 1.f, 0.75f, 1.f, region));
  }
  checkLrnCase(backend, lrnParams(2, 16, 55, 55, 5, 1e-4f, 0.75f, 1.f, LrnRegion::AcrossChannels));
  checkLrnCase(backend, lrnParams(1, 8, 2048 + 37, 1, 5, 1.f, 0.75f, 1.f, LrnRegion::AcrossChannels));  // many blocks
  checkLrnCase(backend, lrnParams(2, 96, 9, 7, 5, 1.f, 0.75f, 1.f, LrnRegion::AcrossChannels), true);
  checkLrnCase(backend, lrnParams(2, 96, 9, 7, 5, 1e-4f, 0.75f, 1.f, LrnRegion::AcrossChannels), true);
}

// ---- ReLU and dropout ----------------------------------------------------------------------

void checkActivations(CpuBackend& backend) {
  for (float slope : {0.f, 0.1f}) {
    auto x = randomIntegers(1001, -3, 3);  // exact zeros included
    auto y = poisoned(x.size()), dy = randomFloats(x.size()), dx = poisoned(x.size());
    backend.reluForward(x.size(), slope, x.data(), y.data());
    backend.reluBackward(x.size(), slope, x.data(), dy.data(), dx.data());
    reference::Doubles yRef(x.size()), dxRef(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      yRef[i] = x[i] > 0 ? x[i] : slope * static_cast<double>(x[i]);
      dxRef[i] = dy[i] * (x[i] > 0 ? 1.0 : slope);
    }
    expectClose(y, yRef, 1e-7, "relu forward slope " + std::to_string(slope));
    expectClose(dx, dxRef, 1e-7, "relu backward slope " + std::to_string(slope));
  }
  const size_t n = 200001;
  auto x = randomFloats(n);
  auto y = poisoned(n), mask = poisoned(n);
  backend.dropoutForward(n, 0.3f, 99, x.data(), y.data(), mask.data());
  size_t kept = 0;
  bool exact = true;
  for (size_t i = 0; i < n; ++i) {
    float expectedMask = uniformAt(99, i) >= 0.3f ? 1.f / 0.7f : 0.f;
    exact = exact && mask[i] == expectedMask && y[i] == x[i] * expectedMask;
    kept += mask[i] != 0.f;
  }
  expect(exact, "dropout mask = uniformAt(seed, i) >= ratio ? 1/(1-ratio) : 0, y = x*mask");
  expect(std::fabs(static_cast<double>(kept) / n - 0.7) < 0.005, "dropout keeps about 1 - ratio");
}

// ---- softmax, loss, accuracy ---------------------------------------------------------------

void checkSoftmax(CpuBackend& backend) {
  for (auto shape : {std::array<int, 3>{1, 10, 1}, {3, 7, 13}, {2, 5, 600}}) {
    SoftmaxParams p;
    p.outer = shape[0], p.channels = shape[1], p.inner = shape[2];
    size_t count = static_cast<size_t>(p.outer) * p.channels * p.inner;
    auto x = randomFloats(count, -20.f, 20.f), y = poisoned(count), dy = randomFloats(count), dx = poisoned(count);
    backend.softmaxForward(p, x.data(), y.data());
    backend.softmaxBackward(p, y.data(), dy.data(), dx.data());
    reference::Doubles yRef(count), dxRef(count);
    for (int o = 0; o < p.outer; ++o)
      for (int i = 0; i < p.inner; ++i) {
        auto at = [&](int c) { return (static_cast<size_t>(o) * p.channels + c) * p.inner + i; };
        double maximum = -INFINITY, sum = 0.0, dot = 0.0;
        for (int c = 0; c < p.channels; ++c) maximum = std::max(maximum, static_cast<double>(x[at(c)]));
        for (int c = 0; c < p.channels; ++c) sum += std::exp(x[at(c)] - maximum);
        for (int c = 0; c < p.channels; ++c) yRef[at(c)] = std::exp(x[at(c)] - maximum) / sum;
        for (int c = 0; c < p.channels; ++c) dot += dy[at(c)] * static_cast<double>(y[at(c)]);
        for (int c = 0; c < p.channels; ++c) dxRef[at(c)] = y[at(c)] * (dy[at(c)] - dot);
      }
    std::string name = "softmax " + std::to_string(p.outer) + "x" + std::to_string(p.channels) + "x" +
                       std::to_string(p.inner);
    expectClose(y, yRef, 1e-5, name + " forward", 1.0);  // AVE sums cancel near 0
    expectClose(dx, dxRef, 1e-5, name + " backward", 1.0);
  }
}

void checkSoftmaxLoss(CpuBackend& backend) {
  SoftmaxParams shape{2, 5, 9};
  size_t count = 2 * 5 * 9;
  auto x = randomFloats(count, -3.f, 3.f), prob = poisoned(count);
  backend.softmaxForward(shape, x.data(), prob.data());
  auto labels = randomIntegers(18, 0, 4);
  labels[1] = labels[7] = labels[12] = 255.f;  // ignored
  labels[4] = 2.7f;                             // truncated to 2
  const char* names[] = {"FULL", "VALID", "BATCH_SIZE", "NONE"};
  for (int mode = 0; mode < 4; ++mode) {
    SoftmaxLossParams p;
    p.outer = 2, p.channels = 5, p.inner = 9, p.hasIgnoreLabel = true, p.ignoreLabel = 255;
    p.normalization = static_cast<LossNormalization>(mode);
    double normalizer[] = {18, 15, 2, 1};
    double sum = 0.0;
    reference::Doubles dxRef(count, 0.0);
    const float lossWeight = 0.5f;
    for (int position = 0; position < 18; ++position) {
      if (labels[position] == 255.f) continue;
      int o = position / 9, i = position % 9, label = static_cast<int>(labels[position]);
      sum -= std::log(std::max(static_cast<double>(prob[(o * 5 + label) * 9 + i]), static_cast<double>(FLT_MIN)));
      for (int c = 0; c < 5; ++c) {
        size_t at = (o * 5 + c) * 9 + i;
        dxRef[at] = (prob[at] - (c == label ? 1.0 : 0.0)) * lossWeight / normalizer[mode];
      }
    }
    float loss = NAN;
    auto dx = poisoned(count);
    backend.softmaxLossForward(p, prob.data(), labels.data(), &loss);
    backend.softmaxLossBackward(p, prob.data(), labels.data(), &lossWeight, dx.data());
    expectClose({loss}, {sum / normalizer[mode]}, 1e-6, std::string("softmax loss ") + names[mode]);
    expectClose(dx, dxRef, 1e-6, std::string("softmax loss backward ") + names[mode]);
  }
  SoftmaxLossParams p;
  p.outer = 2, p.channels = 5, p.inner = 9;
  auto bad = randomIntegers(18, 0, 4);
  bad[3] = 12.f;
  float loss;
  std::string message;
  try {
    backend.softmaxLossForward(p, prob.data(), bad.data(), &loss);
  } catch (const Error& e) {
    message = e.code() + ": " + e.what();
  }
  expect(message == "INVALID_ARGUMENT: label 12 at position 3 is outside [0, 5)",
         "out-of-range label error, got '" + message + "'");
}

void checkAccuracy(CpuBackend& backend) {
  // 4 samples, 4 classes; scores with ties.
  std::vector<float> scores = {0.1f, 0.5f, 0.5f, 0.2f,    // label 1 ties with class 2
                               0.9f, 0.1f, 0.0f, 0.0f,    // label 0, clear winner
                               0.3f, 0.3f, 0.3f, 0.3f,    // all tied, label 3
                               0.2f, 0.1f, 0.4f, 0.3f};   // label 3, second best
  std::vector<float> labels = {1, 0, 3, 3};
  AccuracyParams p;
  p.outer = 4, p.channels = 4, p.inner = 1;
  float out = NAN;
  double expected[] = {0, 0.25, 0.75, 0.75, 1.0};  // top 1..4: ties count against
  for (int k = 1; k <= 4; ++k) {
    p.topK = k;
    backend.accuracy(p, scores.data(), labels.data(), &out);
    expect(std::fabs(out - expected[k]) < 1e-7, "accuracy top " + std::to_string(k) + " = " + std::to_string(out));
  }
  p.topK = 1, p.hasIgnoreLabel = true, p.ignoreLabel = 1;
  backend.accuracy(p, scores.data(), labels.data(), &out);
  expect(std::fabs(out - 1.0 / 3) < 1e-7, "accuracy ignores label 1");
}

// ---- solvers -------------------------------------------------------------------------------

struct SolverState {
  reference::Doubles w, h1, h2;
};

// One reference step of every solver, in double, from params.h / Caffe's solvers.
void referenceStep(const SolverUpdateParams& p, const std::vector<float>& gradient, SolverState& s) {
  double t = p.iteration + 1.0;
  double correction = std::sqrt(1 - std::pow(p.momentum2, t)) / (1 - std::pow(p.momentum, t));
  for (size_t i = 0; i < s.w.size(); ++i) {
    double g = gradient[i], w = s.w[i], update = 0.0, &h = s.h1[i], &h2 = s.h2[i];
    if (p.weightDecay != 0) g += p.weightDecay * (p.regularization == Regularization::L2 ? w : (w > 0) - (w < 0));
    switch (p.kind) {
      case SolverKind::Sgd: h = p.momentum * h + p.learningRate * g, update = h; break;
      case SolverKind::Nesterov: {
        double previous = h;
        h = p.momentum * h + p.learningRate * g;
        update = (1 + p.momentum) * h - p.momentum * previous;
        break;
      }
      case SolverKind::AdaGrad: h += g * g, update = p.learningRate * g / (std::sqrt(h) + p.delta); break;
      case SolverKind::RmsProp:
        h = p.rmsDecay * h + (1 - p.rmsDecay) * g * g, update = p.learningRate * g / (std::sqrt(h) + p.delta);
        break;
      case SolverKind::AdaDelta: {
        h = p.momentum * h + (1 - p.momentum) * g * g;
        double step = g * std::sqrt((h2 + p.delta) / (h + p.delta));
        h2 = p.momentum * h2 + (1 - p.momentum) * step * step;
        update = p.learningRate * step;
        break;
      }
      case SolverKind::Adam:
        h = p.momentum * h + (1 - p.momentum) * g;
        h2 = p.momentum2 * h2 + (1 - p.momentum2) * g * g;
        update = p.learningRate * correction * h / (std::sqrt(h2) + p.delta);
        break;
    }
    s.w[i] = w - update;
  }
}

void checkSolvers(CpuBackend& backend) {
  const char* names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
  for (int kind = 0; kind < 6; ++kind)
    for (Regularization regularization : {Regularization::L2, Regularization::L1}) {
      SolverUpdateParams p;
      p.kind = static_cast<SolverKind>(kind), p.count = 5003, p.learningRate = 0.05f, p.weightDecay = 0.01f;
      p.regularization = regularization, p.delta = 1e-6f;
      p.momentum = kind == 4 ? 0.95f : (kind == 5 ? 0.9f : 0.9f), p.momentum2 = 0.999f, p.rmsDecay = 0.98f;
      auto w = randomFloats(p.count);
      w[0] = 0.f;  // sign(0) = 0 under L1
      std::vector<float> h1(p.count, 0.f), h2(p.count, 0.f);
      SolverState state{toDoubles(w), reference::Doubles(p.count, 0.0), reference::Doubles(p.count, 0.0)};
      for (int step = 0; step < 3; ++step) {
        p.iteration = step;
        auto g = randomFloats(p.count);
        referenceStep(p, g, state);
        std::vector<float> before = w;
        backend.solverUpdate(p, w.data(), g.data(), h1.data(), h2.data());
        reference::Doubles applied(p.count);
        for (size_t i = 0; i < p.count; ++i) applied[i] = static_cast<double>(before[i]) - w[i];
        std::string name = std::string(names[kind]) + (regularization == Regularization::L2 ? " L2" : " L1") +
                           " step " + std::to_string(step + 1);
        expectClose(w, state.w, 1e-5, name + " weights", 1.0);
        expectClose(g, applied, 1e-5, name + " gradient holds the applied update", 1.0);
      }
    }
}

// ---- thread pool ---------------------------------------------------------------------------

// Many small parallelFor calls back to back (a worker may still be leaving one job while the next is
// published): every task runs exactly once, and an exception from a task reaches the caller.
void checkThreadPool(CpuBackend& backend) {
  std::vector<int> runs(64);
  bool allOnce = true;
  for (int call = 0; call < 20000; ++call) {
    size_t tasks = 1 + call % 7;
    std::fill(runs.begin(), runs.begin() + tasks, 0);
    backend.pool().parallelFor(tasks, [&](size_t task) { ++runs[task]; });
    for (size_t t = 0; t < tasks; ++t) allOnce = allOnce && runs[t] == 1;
  }
  expect(allOnce, "thread pool: every task of 20000 small jobs runs exactly once");
  bool thrown = false;
  try {
    backend.pool().parallelFor(8, [](size_t task) {
      if (task == 5) throw Error("INVALID_ARGUMENT", "task 5");
    });
  } catch (const Error& e) {
    thrown = std::string(e.what()) == "task 5";
  }
  expect(thrown, "thread pool: a task's exception is rethrown by parallelFor");
  size_t covered = 0;
  int calls = 0;
  backend.pool().parallelRanges(1000, [&](size_t begin, size_t end, int) { covered += end - begin, ++calls; }, 600);
  expect(covered == 1000 && calls == 1, "thread pool: parallelRanges keeps ranges of at least minPerRange");
}

// ---- LRN timing ----------------------------------------------------------------------------

// CPU time of the whole process (all threads) in milliseconds: on a busy machine the wall time
// says little, while the CPU time still shows the work the kernel does.
double processMilliseconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec * 1e-6;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Median wall time of `run` in milliseconds; `cpu` receives the median process CPU time.
double medianMilliseconds(const std::function<void()>& run, int repeats, double* cpu) {
  run();
  std::vector<double> times, cpuTimes;
  for (int r = 0; r < repeats; ++r) {
    double cpuStart = processMilliseconds();
    auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    cpuTimes.push_back(processMilliseconds() - cpuStart);
  }
  *cpu = median(cpuTimes);
  return median(times);
}

void benchLrnNorm1(CpuBackend& backend) {
  LrnParams p = lrnParams(16, 96, 55, 55, 5, 1e-4f, 0.75f, 1.f, LrnRegion::AcrossChannels);
  size_t count = static_cast<size_t>(p.N) * p.C * p.H * p.W;
  auto x = randomFloats(count, -50.f, 50.f), dy = randomFloats(count);
  std::vector<float> y(count), scale(count), dx(count);
  double forwardCpu, backwardCpu, bothCpu;
  double forward = medianMilliseconds([&] { backend.lrnForward(p, x.data(), y.data(), scale.data()); }, 21, &forwardCpu);
  double backward = medianMilliseconds(
      [&] { backend.lrnBackward(p, x.data(), y.data(), scale.data(), dy.data(), dx.data()); }, 21, &backwardCpu);
  double both = medianMilliseconds([&] {
    backend.lrnForward(p, x.data(), y.data(), scale.data());
    backend.lrnBackward(p, x.data(), y.data(), scale.data(), dy.data(), dx.data());
  }, 21, &bothCpu);
  // Bytes the kernels must move: forward reads x, writes y and scale; backward reads x, y, scale, dy, writes dx.
  double tensor = count * 4.0;
  std::printf("LRN norm1 16x96x55x55 (%d threads), median wall ms (GB/s) [CPU ms, all threads]: forward %.2f (%.1f) "
              "[%.2f], backward %.2f (%.1f) [%.2f], forward+backward %.2f (%.1f) [%.2f]\n",
              backend.pool().size(), forward, 3 * tensor / forward / 1e6, forwardCpu, backward,
              5 * tensor / backward / 1e6, backwardCpu, both, 8 * tensor / both / 1e6, bothCpu);
}

// AlexNet's pool1 (16x96x55x55, MAX 3x3 stride 2) forward and backward.
void benchPool1(CpuBackend& backend) {
  PoolParams p;
  p.N = 16, p.C = 96, p.H = p.W = 55, p.kernelH = p.kernelW = 3, p.strideH = p.strideW = 2;
  computeOutputShape(p);
  size_t inCount = static_cast<size_t>(p.N) * p.C * p.H * p.W, outCount = static_cast<size_t>(p.N) * p.C * p.outH * p.outW;
  auto x = randomFloats(inCount), dy = randomFloats(outCount);
  std::vector<float> y(outCount), mask(outCount), dx(inCount);
  double forwardCpu, backwardCpu;
  double forward = medianMilliseconds([&] { backend.poolForward(p, x.data(), y.data(), mask.data()); }, 21, &forwardCpu);
  double backward = medianMilliseconds([&] { backend.poolBackward(p, dy.data(), mask.data(), dx.data()); }, 21,
                                       &backwardCpu);
  std::printf("MAX pool1 16x96x55x55 k3 s2 (%d threads), median wall ms [CPU ms]: forward %.2f [%.2f], "
              "backward %.2f [%.2f]\n", backend.pool().size(), forward, forwardCpu, backward, backwardCpu);
}

// LeNet batch 64's small ops: both poolings (MAX k2 s2), ReLU on ip1's 64x500, the SGD update of
// every parameter blob, and an empty parallelFor (the pool's fixed cost per op).
void benchLenetOps(CpuBackend& backend) {
  auto poolTimes = [&](int C, int H) {
    PoolParams p;
    p.N = 64, p.C = C, p.H = p.W = H, p.kernelH = p.kernelW = 2, p.strideH = p.strideW = 2;
    computeOutputShape(p);
    size_t inCount = static_cast<size_t>(p.N) * p.C * p.H * p.W, outCount = static_cast<size_t>(p.N) * p.C * p.outH * p.outW;
    auto x = randomFloats(inCount), dy = randomFloats(outCount);
    std::vector<float> y(outCount), mask(outCount), dx(inCount);
    double forwardCpu, backwardCpu;
    double forward = medianMilliseconds([&] { backend.poolForward(p, x.data(), y.data(), mask.data()); }, 201, &forwardCpu);
    double backward = medianMilliseconds([&] { backend.poolBackward(p, dy.data(), mask.data(), dx.data()); }, 201,
                                         &backwardCpu);
    std::printf("LeNet MAX pool 64x%dx%dx%d k2 s2, median wall ms [CPU ms]: forward %.3f [%.3f], backward %.3f [%.3f]\n",
                C, H, H, forward, forwardCpu, backward, backwardCpu);
  };
  poolTimes(20, 24);
  poolTimes(50, 8);
  auto x = randomFloats(64 * 500), dy = randomFloats(64 * 500);
  std::vector<float> y(x.size()), dx(x.size());
  double cpu;
  double relu = medianMilliseconds([&] { backend.reluForward(x.size(), 0.f, x.data(), y.data()); }, 201, &cpu);
  double reluBack = medianMilliseconds([&] { backend.reluBackward(x.size(), 0.f, x.data(), dy.data(), dx.data()); }, 201, &cpu);
  std::printf("LeNet ReLU 64x500, median wall ms: forward %.4f, backward %.4f\n", relu, reluBack);
  const size_t blobs[] = {500, 20, 25000, 50, 400000, 500, 5000, 10};
  std::vector<std::vector<float>> w, g, h;
  for (size_t n : blobs) w.push_back(randomFloats(n)), g.push_back(randomFloats(n)), h.push_back(randomFloats(n));
  double update = medianMilliseconds([&] {
    for (size_t b = 0; b < w.size(); ++b) {
      SolverUpdateParams p;
      p.kind = SolverKind::Sgd, p.count = w[b].size(), p.learningRate = 0.01f, p.momentum = 0.9f, p.weightDecay = 5e-4f;
      backend.solverUpdate(p, w[b].data(), g[b].data(), h[b].data(), nullptr);
    }
  }, 201, &cpu);
  std::printf("LeNet SGD update of its 8 blobs (431k floats), median wall ms: %.4f\n", update);
  double empty = medianMilliseconds([&] {
    for (int i = 0; i < 100; ++i) backend.pool().parallelFor(2, [](size_t) {});
  }, 51, &cpu);
  std::printf("empty parallelFor(2), median wall us: %.2f\n", empty * 10);
}

}  // namespace

int main(int argc, char** argv) {
  CpuBackend backend;
  bool benchOnly = argc > 1 && std::strcmp(argv[1], "--bench") == 0;
  if (!benchOnly) {
    checkPooling(backend);
    checkLrn(backend);
    checkActivations(backend);
    checkSoftmax(backend);
    checkSoftmaxLoss(backend);
    checkAccuracy(backend);
    checkSolvers(backend);
    checkThreadPool(backend);
    std::printf("%d checks, %d failures\n", checks, failures);
  }
  benchLenetOps(backend);
  benchLrnNorm1(backend);
  benchPool1(backend);
  return failures == 0 ? 0 : 1;
}
