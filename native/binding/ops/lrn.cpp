// lrn.cpp — entry points of local response normalization forward and backward (see Backend for the math).
#include "../common.h"

namespace cudnet::binding {

// Reads an LrnParams object (fields as in core/params.h); lib/ops/lrn.ts has checked them.
static LrnParams lrnParamsArg(const Napi::CallbackInfo& info, size_t index) {
  Napi::Object object = objectArg(info, index, "params");
  LrnParams p;
  p.N = intField(object, "N"), p.C = intField(object, "C"), p.H = intField(object, "H"), p.W = intField(object, "W");
  p.localSize = intField(object, "localSize");
  p.alpha = static_cast<float>(numberField(object, "alpha"));
  p.beta = static_cast<float>(numberField(object, "beta"));
  p.k = static_cast<float>(numberField(object, "k"));
  int region = intField(object, "region");
  bool positive = p.N > 0 && p.C > 0 && p.H > 0 && p.W > 0 && p.localSize > 0;
  if (!positive || p.localSize % 2 == 0 || region < 0 || region > 1)
    throw Error("INVALID_ARGUMENT", "LRN parameters out of range");
  p.region = static_cast<LrnRegion>(region);
  return p;
}

static size_t countOf(const LrnParams& p) { return static_cast<size_t>(p.N) * p.C * p.H * p.W; }

static std::string describeLrn(const char* op, const LrnParams& p) {
  return std::string(op) + "(" + (p.region == LrnRegion::AcrossChannels ? "ACROSS_CHANNELS" : "WITHIN_CHANNEL") +
         ", N=" + std::to_string(p.N) + ", C=" + std::to_string(p.C) + ", " + std::to_string(p.H) + "x" +
         std::to_string(p.W) + ", local size " + std::to_string(p.localSize) + ")";
}

// lrnForward(params, x, y, scale)
CUDNET_ENTRY(lrnForward) {
  LrnParams p = lrnParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), y = bufferArg(info, 2, "y"), scale = bufferArg(info, 3, "scale");
  for (auto* b : {&x, &y, &scale}) requireCount("lrn", "tensor", *b, countOf(p));
  auto device = commonDevice("lrn", {&x, &y, &scale});
  submit(device, {reads(x, countOf(p)), writes(y, countOf(p)), writes(scale, countOf(p))},
         [=] { device->backend().lrnForward(p, x->data(), y->data(), scale->data()); },
         [=] { return describeLrn("lrn forward", p); });
  return info.Env().Undefined();
}

// lrnBackward(params, x, y, scale, dy, dx): dx overwritten
CUDNET_ENTRY(lrnBackward) {
  LrnParams p = lrnParamsArg(info, 0);
  BufferRef x = bufferArg(info, 1, "x"), y = bufferArg(info, 2, "y"), scale = bufferArg(info, 3, "scale");
  BufferRef dy = bufferArg(info, 4, "dy"), dx = bufferArg(info, 5, "dx");
  for (auto* b : {&x, &y, &scale, &dy, &dx}) requireCount("lrn backward", "tensor", *b, countOf(p));
  auto device = commonDevice("lrn backward", {&x, &y, &scale, &dy, &dx});
  size_t n = countOf(p);
  submit(device, {reads(x, n), reads(y, n), reads(scale, n), reads(dy, n), writes(dx, n)},
         [=] { device->backend().lrnBackward(p, x->data(), y->data(), scale->data(), dy->data(), dx->data()); },
         [=] { return describeLrn("lrn backward", p); });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
