// solver.cpp — CpuBackend solverUpdate: one fused pass per parameter blob for SGD, Nesterov,
// AdaGrad, RMSProp, AdaDelta and Adam, with L2/L1 regularisation folded into the gradient first.
//
// Caffe runs Regularize, ComputeUpdateValue and Blob::Update as separate passes over the blob
// (sgd_solver.cpp and friends); here each element goes through all of them at once, which reads
// and writes every array once. Per element, with g the gradient, w the weight, h/h2 the histories:
//   g += weightDecay * (L2: w | L1: sign(w))          (skipped when weightDecay == 0, as Caffe)
//   update = <the solver's formula, params.h>;  g = update;  w -= update
// Leaving the applied update in g is what Caffe does too (the diff holds it after ComputeUpdateValue).
#include <cmath>
#include <string>

#include "../../core/error.h"
#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {

// The regularization term, chosen once per call so the per-element loops have no branches and
// vectorise. None when weightDecay == 0 (Caffe skips the term, so an infinite w adds no NaN).
enum class Decay { None, L2, L1 };

// g + weightDecay * w (L2) or g + weightDecay * sign(w) (L1, sign(0) = 0 as caffe_sign).
template <Decay kDecay>
inline float regularized(float weightDecay, float g, float w) {
  if constexpr (kDecay == Decay::None) return g;
  if constexpr (kDecay == Decay::L2) return g + weightDecay * w;
  float sign = static_cast<float>((0.f < w) - (w < 0.f));
  return g + weightDecay * sign;
}

// Every range function takes the parameters by value: a local copy cannot alias the float arrays,
// so the compiler keeps the settings in registers and vectorises the loop.

// h = momentum*h + lr*g; update = h.
template <Decay kDecay>
void sgdRange(const SolverUpdateParams p, size_t begin, size_t end, float* w, float* g, float* h) {
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized<kDecay>(p.weightDecay, g[i], w[i]);
    h[i] = p.momentum * h[i] + p.learningRate * gradient;
    g[i] = h[i];
    w[i] -= h[i];
  }
}

// h' = momentum*h + lr*g; update = (1+momentum)*h' - momentum*h  (step back, then over-step).
template <Decay kDecay>
void nesterovRange(const SolverUpdateParams p, size_t begin, size_t end, float* w, float* g, float* h) {
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized<kDecay>(p.weightDecay, g[i], w[i]);
    float previous = h[i];
    h[i] = p.momentum * previous + p.learningRate * gradient;
    float update = (1.f + p.momentum) * h[i] - p.momentum * previous;
    g[i] = update;
    w[i] -= update;
  }
}

// AdaGrad: h += g^2;  RMSProp: h = rmsDecay*h + (1-rmsDecay)*g^2;  update = lr*g/(sqrt(h)+delta).
template <Decay kDecay>
void adaptiveRateRange(const SolverUpdateParams p, size_t begin, size_t end, float* w, float* g, float* h) {
  const bool adaGrad = p.kind == SolverKind::AdaGrad;
  const float keep = adaGrad ? 1.f : p.rmsDecay, add = adaGrad ? 1.f : 1.f - p.rmsDecay;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized<kDecay>(p.weightDecay, g[i], w[i]);
    h[i] = keep * h[i] + add * (gradient * gradient);
    float update = p.learningRate * (gradient / (std::sqrt(h[i]) + p.delta));
    g[i] = update;
    w[i] -= update;
  }
}

// h = m*h + (1-m)*g^2;  u = g*sqrt((h2+delta)/(h+delta));  h2 = m*h2 + (1-m)*u^2;  update = lr*u.
template <Decay kDecay>
void adaDeltaRange(const SolverUpdateParams p, size_t begin, size_t end, float* w, float* g, float* h,
                   float* h2) {
  const float m = p.momentum;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized<kDecay>(p.weightDecay, g[i], w[i]);
    h[i] = m * h[i] + (1.f - m) * (gradient * gradient);
    float step = gradient * std::sqrt((h2[i] + p.delta) / (h[i] + p.delta));
    h2[i] = m * h2[i] + (1.f - m) * (step * step);
    float update = p.learningRate * step;
    g[i] = update;
    w[i] -= update;
  }
}

// m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  update = lr*correction * m/(sqrt(v)+delta),
// correction = sqrt(1-b2^t)/(1-b1^t) with t = iteration + 1 (computed once per call).
template <Decay kDecay>
void adamRange(const SolverUpdateParams p, size_t begin, size_t end, float* w, float* g, float* m, float* v) {
  const double t = static_cast<double>(p.iteration) + 1.0;
  const float correction = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(p.momentum2), t)) /
                                              (1.0 - std::pow(static_cast<double>(p.momentum), t)));
  const float rate = p.learningRate * correction;
  const float b1 = p.momentum, b2 = p.momentum2;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized<kDecay>(p.weightDecay, g[i], w[i]);
    m[i] = b1 * m[i] + (1.f - b1) * gradient;
    v[i] = b2 * v[i] + (1.f - b2) * (gradient * gradient);
    float update = rate * (m[i] / (std::sqrt(v[i]) + p.delta));
    g[i] = update;
    w[i] -= update;
  }
}

void requireHistory(const SolverUpdateParams& p, const float* history, const char* which) {
  if (history != nullptr) return;
  static const char* names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
  throw Error("INVALID_ARGUMENT", std::string(names[static_cast<int>(p.kind)]) + " needs " + which +
                                      " but none was given");
}

// Below this many elements per thread, waking a worker costs more than the update (LeNet's biases
// and conv1 have 10 to 500 elements).
constexpr size_t kMinPerThread = 1 << 14;

// One range of the update, for the solver kind and regularization of p.
template <Decay kDecay>
void updateRange(const SolverUpdateParams& p, size_t begin, size_t end, float* weights, float* gradient,
                 float* history1, float* history2) {
  switch (p.kind) {
    case SolverKind::Sgd: sgdRange<kDecay>(p, begin, end, weights, gradient, history1); break;
    case SolverKind::Nesterov: nesterovRange<kDecay>(p, begin, end, weights, gradient, history1); break;
    case SolverKind::AdaGrad:
    case SolverKind::RmsProp: adaptiveRateRange<kDecay>(p, begin, end, weights, gradient, history1); break;
    case SolverKind::AdaDelta: adaDeltaRange<kDecay>(p, begin, end, weights, gradient, history1, history2); break;
    case SolverKind::Adam: adamRange<kDecay>(p, begin, end, weights, gradient, history1, history2); break;
  }
}

}  // namespace

void CpuBackend::solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                              float* history2) {
  requireHistory(p, history1, "history1");
  if (p.kind == SolverKind::AdaDelta || p.kind == SolverKind::Adam) requireHistory(p, history2, "history2");
  const Decay decay = p.weightDecay == 0.f                         ? Decay::None
                      : p.regularization == Regularization::L2 ? Decay::L2
                                                                  : Decay::L1;
  pool().parallelRanges(p.count, [&](size_t begin, size_t end, int) {
    switch (decay) {
      case Decay::None: updateRange<Decay::None>(p, begin, end, weights, gradient, history1, history2); break;
      case Decay::L2: updateRange<Decay::L2>(p, begin, end, weights, gradient, history1, history2); break;
      case Decay::L1: updateRange<Decay::L1>(p, begin, end, weights, gradient, history1, history2); break;
    }
  }, kMinPerThread);
}

}  // namespace cudnet::cpu
