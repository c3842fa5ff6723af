// solver.cpp — entry point of one parameter blob's solver update (formulas in core/params.h).
#include "../common.h"

#include <cmath>

namespace cudnet::binding {

static const char* solverName(SolverKind kind) {
  static const char* names[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
  return names[static_cast<int>(kind)];
}

// Reads a SolverUpdateParams object (fields as in core/params.h); lib/ops/solver.ts has checked them.
static SolverUpdateParams solverParamsArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Object object = objectArg(info, index, "params");
  SolverUpdateParams p;
  int kind = intField(object, "kind"), regularization = intField(object, "regularization");
  double count = numberField(object, "count");
  if (kind < 0 || kind > 5 || regularization < 0 || regularization > 1 || !(count >= 0) || count != std::floor(count))
    throw Error("INVALID_ARGUMENT", "solver parameters out of range");
  p.kind = static_cast<SolverKind>(kind);
  p.regularization = static_cast<Regularization>(regularization);
  p.count = static_cast<size_t>(count);
  p.learningRate = static_cast<float>(numberField(object, "learningRate"));
  p.momentum = static_cast<float>(numberField(object, "momentum"));
  p.momentum2 = static_cast<float>(numberField(object, "momentum2"));
  p.rmsDecay = static_cast<float>(numberField(object, "rmsDecay"));
  p.delta = static_cast<float>(numberField(object, "delta"));
  p.weightDecay = static_cast<float>(numberField(object, "weightDecay"));
  p.iteration = intField(object, "iteration");
  return p;
}

// solverUpdate(params, weights, gradient, history1, history2|null): w -= update, gradient = update.
CUDNET_ENTRY(solverUpdate) {
  SolverUpdateParams p = solverParamsArg(info, 0);
  BufferRef weights = bufferArg(info, 1, "weights"), gradient = bufferArg(info, 2, "gradient");
  BufferRef history1 = bufferArg(info, 3, "history1"), history2 = optionalBufferArg(info, 4, "history2");
  bool needsSecond = p.kind == SolverKind::AdaDelta || p.kind == SolverKind::Adam;
  if (needsSecond && !history2)
    throw Error("INVALID_ARGUMENT", std::string("solver update: ") + solverName(p.kind) + " needs a second history");
  for (auto* b : {&weights, &gradient, &history1, &history2}) requireCount("solver update", "tensor", *b, p.count);
  auto device = commonDevice("solver update", {&weights, &gradient, &history1, &history2});
  // Every buffer is read and written: w -= update, gradient = update, the histories move on.
  submit(device,
         {updates(weights, p.count), updates(gradient, p.count), updates(history1, p.count),
          updates(history2, p.count)},
         [=] {
           device->backend().solverUpdate(p, weights->data(), gradient->data(), history1->data(),
                                          history2 ? history2->data() : nullptr);
         },
         [=] { return std::string(solverName(p.kind)) + " update(count=" + std::to_string(p.count) + ")"; });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
