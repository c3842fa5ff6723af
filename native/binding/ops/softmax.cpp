// softmax.cpp — entry points of softmax, SoftmaxWithLoss and accuracy (see Backend for the math).
#include "../common.h"

namespace cudnet::binding {

// The [outer, channels, inner] split every op of this group works on.
static SoftmaxParams softmaxParamsArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Object object = objectArg(info, index, "params");
  SoftmaxParams p;
  p.outer = intField(object, "outer"), p.channels = intField(object, "channels"), p.inner = intField(object, "inner");
  if (p.outer <= 0 || p.channels <= 0 || p.inner <= 0) throw Error("INVALID_ARGUMENT", "softmax shape out of range");
  return p;
}

static SoftmaxLossParams lossParamsArg(const Napi::CallbackInfo& info, size_t index) {
  SoftmaxParams shape = softmaxParamsArg(info, index);
  Napi::Object object = objectArg(info, index, "params");
  SoftmaxLossParams p;
  p.outer = shape.outer, p.channels = shape.channels, p.inner = shape.inner;
  p.hasIgnoreLabel = boolField(object, "hasIgnoreLabel");
  p.ignoreLabel = intField(object, "ignoreLabel");
  int normalization = intField(object, "normalization");
  if (normalization < 0 || normalization > 3) throw Error("INVALID_ARGUMENT", "loss normalization out of range");
  p.normalization = static_cast<LossNormalization>(normalization);
  return p;
}

static AccuracyParams accuracyParamsArg(const Napi::CallbackInfo& info, size_t index) {
  SoftmaxParams shape = softmaxParamsArg(info, index);
  Napi::Object object = objectArg(info, index, "params");
  AccuracyParams p;
  p.outer = shape.outer, p.channels = shape.channels, p.inner = shape.inner;
  p.topK = intField(object, "topK");
  p.hasIgnoreLabel = boolField(object, "hasIgnoreLabel");
  p.ignoreLabel = intField(object, "ignoreLabel");
  if (p.topK <= 0) throw Error("INVALID_ARGUMENT", "accuracy: topK must be positive");
  return p;
}

template <typename Params>
static size_t scoreCount(const Params& p) { return static_cast<size_t>(p.outer) * p.channels * p.inner; }
template <typename Params>
static size_t labelCount(const Params& p) { return static_cast<size_t>(p.outer) * p.inner; }

template <typename Params>
static std::string describeSoftmax(const char* op, const Params& p) {
  return std::string(op) + "(outer=" + std::to_string(p.outer) + ", channels=" + std::to_string(p.channels) +
         ", inner=" + std::to_string(p.inner) + ")";
}

// softmaxForward(params, x, y)
CUDNET_ENTRY(softmaxForward) {
  SoftmaxParams p = softmaxParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), y = bufferArg(info, 2, "y");
  requireCount("softmax", "x", x, scoreCount(p));
  requireCount("softmax", "y", y, scoreCount(p));
  auto device = commonDevice("softmax", {&x, &y});
  submit(device, {reads(x, scoreCount(p)), writes(y, scoreCount(p))},
         [=] { device->backend().softmaxForward(p, x->data(), y->data()); },
         [=] { return describeSoftmax("softmax forward", p); });
  return info.Env().Undefined();
}

// softmaxBackward(params, y, dy, dx)
CUDNET_ENTRY(softmaxBackward) {
  SoftmaxParams p = softmaxParamsArg(info, 0);
  BufferRef y = bufferArg(info, 1, "y"), dy = bufferArg(info, 2, "dy"), dx = bufferArg(info, 3, "dx");
  for (auto* b : {&y, &dy, &dx}) requireCount("softmax backward", "tensor", *b, scoreCount(p));
  auto device = commonDevice("softmax backward", {&y, &dy, &dx});
  submit(device, {reads(y, scoreCount(p)), reads(dy, scoreCount(p)), writes(dx, scoreCount(p))},
         [=] { device->backend().softmaxBackward(p, y->data(), dy->data(), dx->data()); },
         [=] { return describeSoftmax("softmax backward", p); });
  return info.Env().Undefined();
}

// softmaxLossForward(params, prob, labels, loss)
CUDNET_ENTRY(softmaxLossForward) {
  SoftmaxLossParams p = lossParamsArg(info, 0);
  BufferRef prob = bufferArg(info, 1, "prob"), labels = bufferArg(info, 2, "labels"), loss = bufferArg(info, 3, "loss");
  requireCount("softmax loss", "prob", prob, scoreCount(p));
  requireCount("softmax loss", "labels", labels, labelCount(p));
  requireCount("softmax loss", "loss", loss, 1);
  auto device = commonDevice("softmax loss", {&prob, &labels, &loss});
  submit(device, {reads(prob, scoreCount(p)), reads(labels, labelCount(p)), writes(loss, 1)},
         [=] { device->backend().softmaxLossForward(p, prob->data(), labels->data(), loss->data()); },
         [=] { return describeSoftmax("softmax loss forward", p); });
  return info.Env().Undefined();
}

// softmaxLossBackward(params, prob, labels, lossWeight, dx)
CUDNET_ENTRY(softmaxLossBackward) {
  SoftmaxLossParams p = lossParamsArg(info, 0);
  BufferRef prob = bufferArg(info, 1, "prob"), labels = bufferArg(info, 2, "labels");
  BufferRef lossWeight = bufferArg(info, 3, "lossWeight"), dx = bufferArg(info, 4, "dx");
  requireCount("softmax loss backward", "prob", prob, scoreCount(p));
  requireCount("softmax loss backward", "labels", labels, labelCount(p));
  requireCount("softmax loss backward", "lossWeight", lossWeight, 1);
  requireCount("softmax loss backward", "dx", dx, scoreCount(p));
  auto device = commonDevice("softmax loss backward", {&prob, &labels, &lossWeight, &dx});
  submit(device,
         {reads(prob, scoreCount(p)), reads(labels, labelCount(p)), reads(lossWeight, 1), writes(dx, scoreCount(p))},
         [=] {
           device->backend().softmaxLossBackward(p, prob->data(), labels->data(), lossWeight->data(), dx->data());
         },
         [=] { return describeSoftmax("softmax loss backward", p); });
  return info.Env().Undefined();
}

// accuracy(params, scores, labels, out)
CUDNET_ENTRY(accuracy) {
  AccuracyParams p = accuracyParamsArg(info, 0);
  BufferRef scores = bufferArg(info, 1, "scores"), labels = bufferArg(info, 2, "labels"), out = bufferArg(info, 3, "out");
  requireCount("accuracy", "scores", scores, scoreCount(p));
  requireCount("accuracy", "labels", labels, labelCount(p));
  requireCount("accuracy", "out", out, 1);
  auto device = commonDevice("accuracy", {&scores, &labels, &out});
  submit(device, {reads(scores, scoreCount(p)), reads(labels, labelCount(p)), writes(out, 1)},
         [=] { device->backend().accuracy(p, scores->data(), labels->data(), out->data()); },
         [=] { return describeSoftmax("accuracy", p); });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
