// pool.cpp — entry points of max/average pooling forward and backward (see Backend for the math).
#include "../common.h"

namespace cudnet::binding {

// Reads a PoolParams object (fields as in core/params.h) and fills in Caffe's output size.
// lib/ops/pool.ts has checked every field; this guards the native side against misuse.
static PoolParams poolParamsArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Object object = objectArg(info, index, "params");
  PoolParams p;
  p.N = intField(object, "N"), p.C = intField(object, "C"), p.H = intField(object, "H"), p.W = intField(object, "W");
  p.kernelH = intField(object, "kernelH"), p.kernelW = intField(object, "kernelW");
  p.padH = intField(object, "padH"), p.padW = intField(object, "padW");
  p.strideH = intField(object, "strideH"), p.strideW = intField(object, "strideW");
  int method = intField(object, "method");
  bool positive = p.N > 0 && p.C > 0 && p.H > 0 && p.W > 0 && p.kernelH > 0 && p.kernelW > 0 && p.strideH > 0 &&
                  p.strideW > 0;
  if (!positive || p.padH < 0 || p.padW < 0 || p.padH >= p.kernelH || p.padW >= p.kernelW || method < 0 || method > 1)
    throw Error("INVALID_ARGUMENT", "pooling parameters out of range");
  p.method = static_cast<PoolMethod>(method);
  computeOutputShape(p);
  if (p.outH <= 0 || p.outW <= 0) throw Error("SHAPE_MISMATCH", "pooling output would be empty");
  return p;
}

static size_t inputCount(const PoolParams& p) { return static_cast<size_t>(p.N) * p.C * p.H * p.W; }
static size_t outputCount(const PoolParams& p) { return static_cast<size_t>(p.N) * p.C * p.outH * p.outW; }

static std::string describePool(const char* op, const PoolParams& p) {
  return std::string(op) + "(" + (p.method == PoolMethod::Max ? "MAX" : "AVE") + ", N=" + std::to_string(p.N) +
         ", C=" + std::to_string(p.C) + ", " + std::to_string(p.H) + "x" + std::to_string(p.W) + ", kernel " +
         std::to_string(p.kernelH) + "x" + std::to_string(p.kernelW) + ", stride " + std::to_string(p.strideH) + "x" +
         std::to_string(p.strideW) + ", pad " + std::to_string(p.padH) + "x" + std::to_string(p.padW) + ")";
}

// poolForward(params, x, y, mask|null): MAX writes the argmax index into mask.
CUDNET_ENTRY(poolForward) {
  PoolParams p = poolParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), y = bufferArg(info, 2, "y"), mask = optionalBufferArg(info, 3, "mask");
  requireCount("pool", "x", x, inputCount(p));
  requireCount("pool", "y", y, outputCount(p));
  requireCount("pool", "mask", mask, outputCount(p));
  auto device = commonDevice("pool", {&x, &y, &mask});
  submit(device, {reads(x, inputCount(p)), writes(y, outputCount(p)), writes(mask, outputCount(p))},
         [=] { device->backend().poolForward(p, x->data(), y->data(), mask ? mask->data() : nullptr); },
         [=] { return describePool("pool forward", p); });
  return info.Env().Undefined();
}

// poolBackward(params, dy, mask|null, dx): dx overwritten; MAX needs the mask.
CUDNET_ENTRY(poolBackward) {
  PoolParams p = poolParamsArg(info, 0);
  BufferRef dy = bufferArg(info, 1, "dy"), mask = optionalBufferArg(info, 2, "mask"), dx = bufferArg(info, 3, "dx");
  if (p.method == PoolMethod::Max && !mask) throw Error("INVALID_ARGUMENT", "pool backward: MAX pooling needs the mask");
  requireCount("pool backward", "dy", dy, outputCount(p));
  requireCount("pool backward", "mask", mask, outputCount(p));
  requireCount("pool backward", "dx", dx, inputCount(p));
  auto device = commonDevice("pool backward", {&dy, &mask, &dx});
  submit(device, {reads(dy, outputCount(p)), reads(mask, outputCount(p)), writes(dx, inputCount(p))},
         [=] { device->backend().poolBackward(p, dy->data(), mask ? mask->data() : nullptr, dx->data()); },
         [=] { return describePool("pool backward", p); });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
