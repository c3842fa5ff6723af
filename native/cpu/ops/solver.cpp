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

// g + weightDecay * w (L2) or g + weightDecay * sign(w) (L1, sign(0) = 0 as caffe_sign).
inline float regularized(const SolverUpdateParams& p, float g, float w) {
  if (p.weightDecay == 0.f) return g;
  if (p.regularization == Regularization::L2) return g + p.weightDecay * w;
  float sign = static_cast<float>((0.f < w) - (w < 0.f));
  return g + p.weightDecay * sign;
}

// h = momentum*h + lr*g; update = h.
void sgdRange(const SolverUpdateParams& p, size_t begin, size_t end, float* w, float* g, float* h) {
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized(p, g[i], w[i]);
    h[i] = p.momentum * h[i] + p.learningRate * gradient;
    g[i] = h[i];
    w[i] -= h[i];
  }
}

// h' = momentum*h + lr*g; update = (1+momentum)*h' - momentum*h  (step back, then over-step).
void nesterovRange(const SolverUpdateParams& p, size_t begin, size_t end, float* w, float* g, float* h) {
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized(p, g[i], w[i]);
    float previous = h[i];
    h[i] = p.momentum * previous + p.learningRate * gradient;
    float update = (1.f + p.momentum) * h[i] - p.momentum * previous;
    g[i] = update;
    w[i] -= update;
  }
}

// AdaGrad: h += g^2;  RMSProp: h = rmsDecay*h + (1-rmsDecay)*g^2;  update = lr*g/(sqrt(h)+delta).
void adaptiveRateRange(const SolverUpdateParams& p, size_t begin, size_t end, float* w, float* g, float* h) {
  const bool adaGrad = p.kind == SolverKind::AdaGrad;
  const float keep = adaGrad ? 1.f : p.rmsDecay, add = adaGrad ? 1.f : 1.f - p.rmsDecay;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized(p, g[i], w[i]);
    h[i] = keep * h[i] + add * (gradient * gradient);
    float update = p.learningRate * (gradient / (std::sqrt(h[i]) + p.delta));
    g[i] = update;
    w[i] -= update;
  }
}

// h = m*h + (1-m)*g^2;  u = g*sqrt((h2+delta)/(h+delta));  h2 = m*h2 + (1-m)*u^2;  update = lr*u.
void adaDeltaRange(const SolverUpdateParams& p, size_t begin, size_t end, float* w, float* g, float* h,
                   float* h2) {
  const float m = p.momentum;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized(p, g[i], w[i]);
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
void adamRange(const SolverUpdateParams& p, size_t begin, size_t end, float* w, float* g, float* m, float* v) {
  const double t = static_cast<double>(p.iteration) + 1.0;
  const float correction = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(p.momentum2), t)) /
                                              (1.0 - std::pow(static_cast<double>(p.momentum), t)));
  const float rate = p.learningRate * correction;
  const float b1 = p.momentum, b2 = p.momentum2;
  for (size_t i = begin; i < end; ++i) {
    float gradient = regularized(p, g[i], w[i]);
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

}  // namespace

void CpuBackend::solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                              float* history2) {
  requireHistory(p, history1, "history1");
  if (p.kind == SolverKind::AdaDelta || p.kind == SolverKind::Adam) requireHistory(p, history2, "history2");
  pool().parallelRanges(p.count, [&](size_t begin, size_t end, int) {
    switch (p.kind) {
      case SolverKind::Sgd: sgdRange(p, begin, end, weights, gradient, history1); break;
      case SolverKind::Nesterov: nesterovRange(p, begin, end, weights, gradient, history1); break;
      case SolverKind::AdaGrad:
      case SolverKind::RmsProp: adaptiveRateRange(p, begin, end, weights, gradient, history1); break;
      case SolverKind::AdaDelta: adaDeltaRange(p, begin, end, weights, gradient, history1, history2); break;
      case SolverKind::Adam: adamRange(p, begin, end, weights, gradient, history1, history2); break;
    }
  });
}

}  // namespace cudnet::cpu
