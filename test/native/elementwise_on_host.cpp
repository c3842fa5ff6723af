// elementwise_on_host.cpp — every kernel of kernels/elementwise.cu on the host, launched as
// native/cuda/ops/{elementwise,gemm,activation,solver}.cpp launch it, against plain float64 references
// written from native/core/backend.h and params.h (the CPU backend's formulas).
#include "cuda_on_host.h"

#include <algorithm>

#include "../../kernels/elementwise.cu"
#include "host_check.h"

static_assert(host_check::kThreads == CUDNET_REDUCE_THREADS,
              "kernels.h launches every kernel with the block size the reductions of common.cuh assume");

namespace host_check {
namespace {

using cuda_on_host::launch;
using Inputs = const std::vector<float>;

void checkFillAndAxpby() {
  const size_t n = 1000;
  std::vector<float> y = poisoned(n);
  launch(cudnetFill, blocksFor(n), kThreads, Index(n), 2.5f, y.data());
  report("cudnetFill", "1000 elements", maxError(y, std::vector<double>(n, 2.5)), 0);

  Inputs x = uniform(n, -1, 1), start = uniform(n, -1, 1);
  std::vector<double> expected(n);
  y = start;
  launch(cudnetAxpby, blocksFor(n), kThreads, Index(n), 0.7f, x.data(), -1.3f, y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = 0.7 * x[i] - 1.3 * start[i];
  report("cudnetAxpby", "y = 0.7x - 1.3y", maxError(y, expected), 1e-6);

  y = poisoned(n);
  launch(cudnetAxpby, blocksFor(n), kThreads, Index(n), 2.f, x.data(), 0.f, y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = 2.0 * x[i];
  report("cudnetAxpby", "beta 0 overwrites a NaN-filled y", maxError(y, expected), 1e-6);

  // Fewer blocks than elements / 256: every thread walks the grid-stride loop several times.
  y = start;
  launch(cudnetAxpby, 2, kThreads, Index(n), 0.7f, x.data(), -1.3f, y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = 0.7 * x[i] - 1.3 * start[i];
  report("cudnetAxpby", "a grid of 2 blocks strides over 1000 elements", maxError(y, expected), 1e-6);
}

void checkMultiplyAndPower() {
  const size_t n = 777;
  Inputs a = uniform(n, -2, 2), b = uniform(n, -2, 2), positive = uniform(n, 0.5f, 2), dy = uniform(n, -1, 1);
  std::vector<float> y = poisoned(n);
  std::vector<double> expected(n);
  launch(cudnetMultiply, blocksFor(n), kThreads, Index(n), a.data(), b.data(), y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = double(a[i]) * b[i];
  report("cudnetMultiply", "y = a*b", maxError(y, expected), 1e-6);

  const float power = 1.7f, scale = 0.9f, shift = 0.2f;
  y = poisoned(n);
  launch(cudnetPowerForward, blocksFor(n), kThreads, Index(n), power, scale, shift, positive.data(), y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = std::pow(double(shift) + double(scale) * positive[i], double(power));
  report("cudnetPowerForward", "y = (0.2 + 0.9x)^1.7", maxError(y, expected), 1e-5);

  y = poisoned(n);
  launch(cudnetPowerBackward, blocksFor(n), kThreads, Index(n), power, scale, shift, positive.data(), dy.data(),
         y.data());
  for (size_t i = 0; i < n; ++i) {
    expected[i] = dy[i] * double(power) * scale * std::pow(double(shift) + double(scale) * positive[i], power - 1.0);
  }
  report("cudnetPowerBackward", "dx = dy * 1.7*0.9*(0.2 + 0.9x)^0.7", maxError(y, expected), 1e-5);
}

// Eltwise MAX over three bottoms: bottom 0 initialises, later ones win only when strictly larger.
void checkEltwiseMax() {
  const size_t n = 513;
  std::vector<std::vector<float>> bottoms{uniform(n, -1, 1), uniform(n, -1, 1), uniform(n, -1, 1)};
  for (size_t i = 0; i < n; i += 7) bottoms[1][i] = bottoms[0][i];  // ties keep the earlier bottom
  std::vector<float> y = poisoned(n), mask = poisoned(n);
  for (int index = 0; index < 3; ++index) {
    const float* x = bottoms[index].data();
    launch(cudnetMaxAccumulate, blocksFor(n), kThreads, Index(n), index, x, y.data(), mask.data());
  }
  std::vector<double> expectedY(n), expectedMask(n);
  for (size_t i = 0; i < n; ++i) {
    int best = 0;
    for (int index = 1; index < 3; ++index) best = bottoms[index][i] > bottoms[best][i] ? index : best;
    expectedY[i] = bottoms[best][i];
    expectedMask[i] = best;
  }
  report("cudnetMaxAccumulate", "the largest of 3 bottoms and which one", std::fmax(maxError(y, expectedY),
                                                                                     maxError(mask, expectedMask)), 0);

  Inputs dy = uniform(n, -1, 1);
  const float* maskIn = mask.data();
  double worst = 0;
  for (int index = 0; index < 3; ++index) {
    std::vector<float> dx = poisoned(n);
    launch(cudnetMaxSelectBackward, blocksFor(n), kThreads, Index(n), index, maskIn, dy.data(), dx.data());
    std::vector<double> expected(n);
    for (size_t i = 0; i < n; ++i) expected[i] = expectedMask[i] == index ? dy[i] : 0.0;
    worst = std::fmax(worst, maxError(dx, expected));
  }
  report("cudnetMaxSelectBackward", "dy routed to the bottom that won", worst, 0);
}

// [outer, channels, inner] = [3, 5, 7]: y = x*scale[c] + bias[c] and its gradients.
void checkChannelAffine() {
  const int outer = 3, channels = 5, inner = 7;
  const size_t n = size_t(outer) * channels * inner;
  Inputs x = uniform(n, -1, 1), dy = uniform(n, -1, 1);
  Inputs scale = uniform(channels, -1, 1), bias = uniform(channels, -1, 1);
  auto channelOf = [&](size_t i) { return (i / inner) % channels; };
  std::vector<float> y = poisoned(n);
  std::vector<double> expected(n);
  launch(cudnetChannelAffineForward, blocksFor(n), kThreads, outer, channels, inner, x.data(), scale.data(),
         bias.data(), y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = double(x[i]) * scale[channelOf(i)] + bias[channelOf(i)];
  report("cudnetChannelAffineForward", "y = x*scale[c] + bias[c]", maxError(y, expected), 1e-6);

  y = poisoned(n);
  const float* noBias = nullptr;
  launch(cudnetChannelAffineForward, blocksFor(n), kThreads, outer, channels, inner, x.data(), scale.data(), noBias,
         y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = double(x[i]) * scale[channelOf(i)];
  report("cudnetChannelAffineForward", "without bias, y = x*scale[c]", maxError(y, expected), 1e-6);

  y = poisoned(n);
  launch(cudnetChannelAffineBackwardData, blocksFor(n), kThreads, outer, channels, inner, scale.data(), dy.data(),
         y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = double(dy[i]) * scale[channelOf(i)];
  report("cudnetChannelAffineBackwardData", "dx = dy*scale[c]", maxError(y, expected), 1e-6);

  // One block per channel (ops/elementwise.cpp); the gradients accumulate onto what is there.
  std::vector<float> dscale(channels, 0.5f), dbias(channels, -0.25f);
  launch(cudnetChannelAffineBackwardParams, unsigned(channels), kThreads, outer, channels, inner, x.data(),
         dy.data(), dscale.data(), dbias.data());
  std::vector<double> expectedScale(channels, 0.5), expectedBias(channels, -0.25);
  for (size_t i = 0; i < n; ++i) {
    expectedScale[channelOf(i)] += double(dy[i]) * x[i];
    expectedBias[channelOf(i)] += dy[i];
  }
  report("cudnetChannelAffineBackwardParams", "dscale += sum dy*x, dbias += sum dy, one block per channel",
         std::fmax(maxError(dscale, expectedScale), maxError(dbias, expectedBias)), 1e-6);

  float* noScale = nullptr;
  dbias.assign(channels, 0.f);
  launch(cudnetChannelAffineBackwardParams, unsigned(channels), kThreads, outer, channels, inner, x.data(),
         dy.data(), noScale, dbias.data());
  expectedBias.assign(channels, 0.0);
  for (size_t i = 0; i < n; ++i) expectedBias[channelOf(i)] += dy[i];
  report("cudnetChannelAffineBackwardParams", "bias only (dscale null)", maxError(dbias, expectedBias), 1e-6);
}

// 4 rows of 3 from a source with stride 7 into a destination with stride 9; the gaps stay untouched.
void checkCopyBlocks() {
  const Index count = 4, block = 3, sourceStride = 7, destinationStride = 9;
  Inputs source = uniform(count * sourceStride, -1, 1);
  std::vector<float> destination(count * destinationStride, -7.f);
  launch(cudnetCopyBlocks, blocksFor(count * block), kThreads, count, block, source.data(), sourceStride,
         destination.data(), destinationStride);
  std::vector<double> expected(destination.size(), -7.0);
  for (Index row = 0; row < count; ++row) {
    for (Index column = 0; column < block; ++column) {
      expected[row * destinationStride + column] = source[row * sourceStride + column];
    }
  }
  report("cudnetCopyBlocks", "4 rows of 3, strides 7 and 9, gaps untouched", maxError(destination, expected), 0);
}

// ops/elementwise.cpp's reduce: partial sums in min(blocksFor(n), 1024) blocks, then one block adds them.
double reduceOnHost(int kind, unsigned blocks, Inputs& x, Inputs& y) {
  std::vector<double> partial(blocks, std::nan(""));
  launch(cudnetReducePartial, blocks, kThreads, kind, Index(x.size()), x.data(), y.data(), partial.data());
  std::vector<float> out = poisoned(1);
  const double* partialIn = partial.data();
  launch(cudnetReduceFinish, 1u, kThreads, int(blocks), partialIn, out.data());
  return out[0];
}

void checkReductions() {
  const size_t n = 3001;
  Inputs x = uniform(n, -1, 1), y = uniform(n, -1, 1);
  const unsigned blocks = std::min(blocksFor(n), kMaxReduceBlocks);
  const char* names[] = {"sum x*y", "sum x*x", "sum |x|"};
  for (int kind = 0; kind < 3; ++kind) {
    double expected = 0;
    for (size_t i = 0; i < n; ++i) {
      expected += kind == 0 ? double(x[i]) * y[i] : kind == 1 ? double(x[i]) * x[i] : std::fabs(double(x[i]));
    }
    const double error = relativeError(reduceOnHost(kind, blocks, x, y), expected);
    report("cudnetReducePartial", std::string(names[kind]) + " over 3001 values in 12 blocks", error, 1e-6);
    report("cudnetReduceFinish", std::string(names[kind]) + ": the 12 partials in one block", error, 1e-6);
  }
  const double strided = relativeError(reduceOnHost(0, 3, x, y), [&] {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += double(x[i]) * y[i];
    return sum;
  }());
  report("cudnetReducePartial", "sum x*y with a grid of 3 blocks striding over 3001 values", strided, 1e-6);
}

// y: [rows, columns] = [9, 37].
void checkRowBias() {
  const int rows = 9, columns = 37;
  const size_t n = size_t(rows) * columns;
  Inputs bias = uniform(columns, -1, 1), dy = uniform(n, -1, 1), start = uniform(n, -1, 1);
  std::vector<float> y = start;
  launch(cudnetAddRowBias, blocksFor(n), kThreads, rows, columns, bias.data(), y.data());
  std::vector<double> expected(n);
  for (size_t i = 0; i < n; ++i) expected[i] = double(start[i]) + bias[i % columns];
  report("cudnetAddRowBias", "y[i, j] += bias[j] over [9, 37]", maxError(y, expected), 1e-6);

  std::vector<float> db(columns, 0.5f);
  launch(cudnetSumRowsInto, blocksFor(columns), kThreads, rows, columns, dy.data(), db.data());
  std::vector<double> expectedBias(columns, 0.5);
  for (size_t i = 0; i < n; ++i) expectedBias[i % columns] += dy[i];
  report("cudnetSumRowsInto", "db[j] += sum_i dy[i, j] over [9, 37]", maxError(db, expectedBias), 1e-6);
}

void checkRelu() {
  const size_t n = 301;
  std::vector<float> values = uniform(n, -1, 1);
  values[0] = 0.f;
  values[1] = std::nanf("");
  Inputs x = values, dy = uniform(n, -1, 1);
  const float slope = 0.1f;
  std::vector<float> y = poisoned(n);
  std::vector<double> expected(n);
  launch(cudnetReluForward, blocksFor(n), kThreads, Index(n), slope, x.data(), y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = x[i] > 0 ? double(x[i]) : double(x[i]) * slope;
  report("cudnetReluForward", "leaky slope 0.1, NaN stays NaN", maxError(y, expected), 1e-7);

  y = poisoned(n);
  launch(cudnetReluBackward, blocksFor(n), kThreads, Index(n), slope, x.data(), dy.data(), y.data());
  for (size_t i = 0; i < n; ++i) expected[i] = x[i] > 0 ? double(dy[i]) : double(dy[i]) * slope;
  report("cudnetReluBackward", "dx = dy where x > 0, else dy*0.1 (also at 0)", maxError(y, expected), 1e-7);
}

void checkDropout() {
  const size_t n = 1001;
  const float ratio = 0.3f;
  const unsigned long long seed = 987654321;
  Inputs x = uniform(n, -1, 1);
  std::vector<float> y = poisoned(n), mask = poisoned(n);
  launch(cudnetDropoutForward, blocksFor(n), kThreads, Index(n), ratio, seed, x.data(), y.data(), mask.data());
  std::vector<double> expectedY(n), expectedMask(n);
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    expectedMask[i] = cudnet::uniformAt(seed, i) >= ratio ? 1.0 / (1.0 - ratio) : 0.0;
    expectedY[i] = x[i] * expectedMask[i];
    kept += expectedMask[i] != 0;
  }
  const bool plausible = kept > n / 2 && kept < n * 9 / 10;
  report("cudnetDropoutForward", "ratio 0.3: the CPU's mask (core/random.h) and y = x*mask",
         std::fmax(maxError(y, expectedY), maxError(mask, expectedMask)), 1e-6,
         plausible ? "" : "kept " + std::to_string(kept) + " of " + std::to_string(n));
}

// The formulas of params.h, in double.
double solverReference(const cudnet::SolverUpdateParams& p, double correction, double& w, double g, double& h1,
                       double& h2) {
  using cudnet::SolverKind;
  if (p.weightDecay != 0) {
    const double sign = w > 0 ? 1 : w < 0 ? -1 : 0;
    g += p.weightDecay * (p.regularization == cudnet::Regularization::L2 ? w : sign);
  }
  double update = 0;
  const double m = p.momentum, lr = p.learningRate, delta = p.delta;
  switch (p.kind) {
    case SolverKind::Sgd: h1 = m * h1 + lr * g; update = h1; break;
    case SolverKind::Nesterov: {
      const double previous = h1;
      h1 = m * h1 + lr * g;
      update = (1 + m) * h1 - m * previous;
      break;
    }
    case SolverKind::AdaGrad: h1 += g * g; update = lr * g / (std::sqrt(h1) + delta); break;
    case SolverKind::RmsProp:
      h1 = p.rmsDecay * h1 + (1 - p.rmsDecay) * g * g;
      update = lr * g / (std::sqrt(h1) + delta);
      break;
    case SolverKind::AdaDelta: {
      h1 = m * h1 + (1 - m) * g * g;
      const double step = g * std::sqrt((h2 + delta) / (h1 + delta));
      h2 = m * h2 + (1 - m) * step * step;
      update = lr * step;
      break;
    }
    case SolverKind::Adam:
      h1 = m * h1 + (1 - m) * g;
      h2 = p.momentum2 * h2 + (1 - p.momentum2) * g * g;
      update = lr * correction * h1 / (std::sqrt(h2) + delta);
      break;
  }
  w -= update;
  return update;
}

// One update of 301 weights per solver kind, L2 and L1 decay; the two histories start non-zero.
void checkSolverUpdate() {
  using cudnet::SolverKind;
  const size_t n = 301;
  const char* names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
  for (int kind = 0; kind < 6; ++kind) {
    for (auto regularization : {cudnet::Regularization::L2, cudnet::Regularization::L1}) {
      cudnet::SolverUpdateParams p;
      p.kind = static_cast<SolverKind>(kind);
      p.count = n;
      p.learningRate = 0.05f;
      p.momentum = kind == int(SolverKind::AdaDelta) ? 0.95f : 0.9f;
      p.delta = kind == int(SolverKind::AdaDelta) ? 1e-6f : 1e-8f;
      p.weightDecay = 0.004f;
      p.regularization = regularization;
      p.iteration = 3;
      const float correction = std::sqrt(1.f - std::pow(p.momentum2, 4.f)) / (1.f - std::pow(p.momentum, 4.f));
      std::vector<float> weights = uniform(n, -1, 1), gradient = uniform(n, -1, 1);
      std::vector<float> history1 = uniform(n, 0.01f, 0.5f), history2 = uniform(n, 0.01f, 0.5f);
      std::vector<double> expectedWeights(n), expectedUpdate(n), expectedHistory1(n), expectedHistory2(n);
      for (size_t i = 0; i < n; ++i) {
        double w = weights[i], h1 = history1[i], h2 = history2[i];
        expectedUpdate[i] = solverReference(p, correction, w, gradient[i], h1, h2);
        expectedWeights[i] = w;
        expectedHistory1[i] = h1;
        expectedHistory2[i] = h2;
      }
      launch(cudnetSolverUpdate, blocksFor(n), kThreads, p, correction, weights.data(), gradient.data(),
             history1.data(), history2.data());
      double error = std::fmax(maxError(weights, expectedWeights), maxError(gradient, expectedUpdate));
      error = std::fmax(error, std::fmax(maxError(history1, expectedHistory1), maxError(history2, expectedHistory2)));
      const char* decay = regularization == cudnet::Regularization::L2 ? ", L2" : ", L1";
      report("cudnetSolverUpdate", std::string(names[kind]) + decay + " decay: weights, applied update and history",
             error, 1e-5);
    }
  }
}

}  // namespace

void checkElementwiseKernels() {
  checkFillAndAxpby();
  checkMultiplyAndPower();
  checkEltwiseMax();
  checkChannelAffine();
  checkCopyBlocks();
  checkReductions();
  checkRowBias();
  checkRelu();
  checkDropout();
  checkSolverUpdate();
}

}  // namespace host_check
