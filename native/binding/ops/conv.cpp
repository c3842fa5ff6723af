// conv.cpp — entry points of 2-D convolution: forward, backward data, filter and bias (see Backend for the math).
#include "../common.h"

namespace cudnet::binding {

static size_t inputCount(const Conv2dParams& p) { return static_cast<size_t>(p.N) * p.C * p.H * p.W; }
static size_t outputCount(const Conv2dParams& p) { return static_cast<size_t>(p.N) * p.K * p.outH * p.outW; }
static size_t weightCount(const Conv2dParams& p) {
  return static_cast<size_t>(p.K) * (p.C / p.group) * p.kernelH * p.kernelW;
}

static std::string describeConv(const char* op, const Conv2dParams& p) {
  return std::string(op) + "(N=" + std::to_string(p.N) + ", C=" + std::to_string(p.C) + ", " + std::to_string(p.H) +
         "x" + std::to_string(p.W) + ", K=" + std::to_string(p.K) + ", kernel " + std::to_string(p.kernelH) + "x" +
         std::to_string(p.kernelW) + ", group " + std::to_string(p.group) + ")";
}

// conv2dForward(params, x, w, b|null, y)
CUDNET_ENTRY(conv2dForward) {
  Conv2dParams p = convParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), w = bufferArg(info, 2, "w");
  BufferRef b = optionalBufferArg(info, 3, "b"), y = bufferArg(info, 4, "y");
  requireCount("convolution", "x", x, inputCount(p));
  requireCount("convolution", "w", w, weightCount(p));
  requireCount("convolution", "b", b, p.K);
  requireCount("convolution", "y", y, outputCount(p));
  auto device = commonDevice("convolution", {&x, &w, &b, &y});
  submit(device, {reads(x, inputCount(p)), reads(w, weightCount(p)), reads(b, p.K), writes(y, outputCount(p))},
         [=] { device->backend().conv2dForward(p, x->data(), w->data(), b ? b->data() : nullptr, y->data()); },
         [=] { return describeConv("convolution forward", p); });
  return info.Env().Undefined();
}

// conv2dBackwardData(params, w, dy, dx): dx overwritten
CUDNET_ENTRY(conv2dBackwardData) {
  Conv2dParams p = convParamsArg(info, 0);
  BufferRef w = bufferArg(info, 1, "w"), dy = bufferArg(info, 2, "dy"), dx = bufferArg(info, 3, "dx");
  requireCount("convolution backward data", "w", w, weightCount(p));
  requireCount("convolution backward data", "dy", dy, outputCount(p));
  requireCount("convolution backward data", "dx", dx, inputCount(p));
  auto device = commonDevice("convolution backward data", {&w, &dy, &dx});
  submit(device, {reads(w, weightCount(p)), reads(dy, outputCount(p)), writes(dx, inputCount(p))},
         [=] { device->backend().conv2dBackwardData(p, w->data(), dy->data(), dx->data()); },
         [=] { return describeConv("convolution backward data", p); });
  return info.Env().Undefined();
}

// conv2dBackwardFilter(params, x, dy, dw): dw accumulates
CUDNET_ENTRY(conv2dBackwardFilter) {
  Conv2dParams p = convParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), dy = bufferArg(info, 2, "dy"), dw = bufferArg(info, 3, "dw");
  requireCount("convolution backward filter", "x", x, inputCount(p));
  requireCount("convolution backward filter", "dy", dy, outputCount(p));
  requireCount("convolution backward filter", "dw", dw, weightCount(p));
  auto device = commonDevice("convolution backward filter", {&x, &dy, &dw});
  submit(device, {reads(x, inputCount(p)), reads(dy, outputCount(p)), updates(dw, weightCount(p))},
         [=] { device->backend().conv2dBackwardFilter(p, x->data(), dy->data(), dw->data()); },
         [=] { return describeConv("convolution backward filter", p); });
  return info.Env().Undefined();
}

// conv2dBackwardBias(params, dy, db): db accumulates
CUDNET_ENTRY(conv2dBackwardBias) {
  Conv2dParams p = convParamsArg(info, 0);
  BufferRef dy = bufferArg(info, 1, "dy"), db = bufferArg(info, 2, "db");
  requireCount("convolution backward bias", "dy", dy, outputCount(p));
  requireCount("convolution backward bias", "db", db, p.K);
  auto device = commonDevice("convolution backward bias", {&dy, &db});
  submit(device, {reads(dy, outputCount(p)), updates(db, p.K)},
         [=] { device->backend().conv2dBackwardBias(p, dy->data(), db->data()); },
         [=] { return describeConv("convolution backward bias", p); });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
