// elementwise.cpp — entry points of the element-wise ops and reductions (see Backend for the math).
// Pattern for every op: read arguments → check sizes → find the common device → submit work with the
// ranges it reads and writes (see submit) → describe the op for error messages.
#include "../common.h"

namespace cudnet::binding {

// fill(y, n, value)
CUDNET_ENTRY(fill) {
  BufferRef y = bufferArg(info, 0, "y");
  size_t n = countArg(info, 1, "n");
  float value = static_cast<float>(numberArg(info, 2, "value"));
  requireCount("fill", "y", y, n);
  auto device = commonDevice("fill", {&y});
  submit(device, {writes(y, n)}, [=] { device->backend().fill(n, value, y->data()); },
         [=] { return "fill(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// axpby(n, alpha, x, beta, y): y = alpha*x + beta*y
CUDNET_ENTRY(axpby) {
  size_t n = countArg(info, 0, "n");
  float alpha = static_cast<float>(numberArg(info, 1, "alpha"));
  BufferRef x = bufferArg(info, 2, "x");
  float beta = static_cast<float>(numberArg(info, 3, "beta"));
  BufferRef y = bufferArg(info, 4, "y");
  requireCount("axpby", "x", x, n);
  requireCount("axpby", "y", y, n);
  auto device = commonDevice("axpby", {&x, &y});
  // With beta = 0, y's old values are not read.
  BufferUse output = beta == 0.f ? writes(y, n) : updates(y, n);
  submit(device, {reads(x, n), output}, [=] { device->backend().axpby(n, alpha, x->data(), beta, y->data()); },
         [=] { return "axpby(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// multiply(n, a, b, y): y = a*b
CUDNET_ENTRY(multiply) {
  size_t n = countArg(info, 0, "n");
  BufferRef a = bufferArg(info, 1, "a"), b = bufferArg(info, 2, "b"), y = bufferArg(info, 3, "y");
  requireCount("multiply", "a", a, n);
  requireCount("multiply", "b", b, n);
  requireCount("multiply", "y", y, n);
  auto device = commonDevice("multiply", {&a, &b, &y});
  submit(device, {reads(a, n), reads(b, n), writes(y, n)},
         [=] { device->backend().multiply(n, a->data(), b->data(), y->data()); },
         [=] { return "multiply(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// powerForward(n, power, scale, shift, x, y) / powerBackward(n, power, scale, shift, x, dy, dx)
CUDNET_ENTRY(powerForward) {
  size_t n = countArg(info, 0, "n");
  float power = static_cast<float>(numberArg(info, 1, "power"));
  float scale = static_cast<float>(numberArg(info, 2, "scale"));
  float shift = static_cast<float>(numberArg(info, 3, "shift"));
  BufferRef x = bufferArg(info, 4, "x"), y = bufferArg(info, 5, "y");
  requireCount("power", "x", x, n);
  requireCount("power", "y", y, n);
  auto device = commonDevice("power", {&x, &y});
  submit(device, {reads(x, n), writes(y, n)},
         [=] { device->backend().powerForward(n, power, scale, shift, x->data(), y->data()); },
         [=] { return "power forward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

CUDNET_ENTRY(powerBackward) {
  size_t n = countArg(info, 0, "n");
  float power = static_cast<float>(numberArg(info, 1, "power"));
  float scale = static_cast<float>(numberArg(info, 2, "scale"));
  float shift = static_cast<float>(numberArg(info, 3, "shift"));
  BufferRef x = bufferArg(info, 4, "x"), dy = bufferArg(info, 5, "dy"), dx = bufferArg(info, 6, "dx");
  for (auto* b : {&x, &dy, &dx}) requireCount("power backward", "tensor", *b, n);
  auto device = commonDevice("power backward", {&x, &dy, &dx});
  submit(device, {reads(x, n), reads(dy, n), writes(dx, n)},
         [=] { device->backend().powerBackward(n, power, scale, shift, x->data(), dy->data(), dx->data()); },
         [=] { return "power backward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// The winning bottom's index is stored as a float in mask, exact up to 2^24.
static int bottomIndexArg(const Napi::CallbackInfo& info, size_t position) {
  size_t index = countArg(info, position, "index");
  if (index > (size_t{1} << 24)) throw Error("INVALID_ARGUMENT", "Expected an integer in [0, 16777216] for index");
  return static_cast<int>(index);
}

// maxAccumulate(n, index, x, y, mask) / maxSelectBackward(n, index, mask, dy, dx)

CUDNET_ENTRY(maxAccumulate) {
  size_t n = countArg(info, 0, "n");
  int index = bottomIndexArg(info, 1);
  BufferRef x = bufferArg(info, 2, "x"), y = bufferArg(info, 3, "y"), mask = bufferArg(info, 4, "mask");
  for (auto* b : {&x, &y, &mask}) requireCount("eltwise max", "tensor", *b, n);
  auto device = commonDevice("eltwise max", {&x, &y, &mask});
  // The first bottom (index 0) overwrites y and mask; each later one compares with them.
  bool first = index == 0;
  submit(device, {reads(x, n), first ? writes(y, n) : updates(y, n), first ? writes(mask, n) : updates(mask, n)},
         [=] { device->backend().maxAccumulate(n, index, x->data(), y->data(), mask->data()); },
         [=] { return "eltwise max(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

CUDNET_ENTRY(maxSelectBackward) {
  size_t n = countArg(info, 0, "n");
  int index = bottomIndexArg(info, 1);
  BufferRef mask = bufferArg(info, 2, "mask"), dy = bufferArg(info, 3, "dy"), dx = bufferArg(info, 4, "dx");
  for (auto* b : {&mask, &dy, &dx}) requireCount("eltwise max backward", "tensor", *b, n);
  auto device = commonDevice("eltwise max backward", {&mask, &dy, &dx});
  submit(device, {reads(mask, n), reads(dy, n), writes(dx, n)},
         [=] { device->backend().maxSelectBackward(n, index, mask->data(), dy->data(), dx->data()); },
         [=] { return "eltwise max backward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

static std::string describeAffine(const char* op, int outer, int channels, int inner) {
  return std::string(op) + "(outer=" + std::to_string(outer) + ", channels=" + std::to_string(channels) +
         ", inner=" + std::to_string(inner) + ")";
}

// channelAffineForward(outer, channels, inner, x, scale, bias|null, y)
CUDNET_ENTRY(channelAffineForward) {
  int outer = static_cast<int>(countArg(info, 0, "outer")), channels = static_cast<int>(countArg(info, 1, "channels"));
  int inner = static_cast<int>(countArg(info, 2, "inner"));
  BufferRef x = bufferArg(info, 3, "x"), scale = bufferArg(info, 4, "scale");
  BufferRef bias = optionalBufferArg(info, 5, "bias"), y = bufferArg(info, 6, "y");
  size_t n = static_cast<size_t>(outer) * channels * inner;
  requireCount("scale", "x", x, n);
  requireCount("scale", "y", y, n);
  requireCount("scale", "scale", scale, channels);
  requireCount("scale", "bias", bias, channels);
  auto device = commonDevice("scale", {&x, &scale, &bias, &y});
  submit(device, {reads(x, n), reads(scale, channels), reads(bias, channels), writes(y, n)},
         [=] {
           device->backend().channelAffineForward(outer, channels, inner, x->data(), scale->data(),
                                                  bias ? bias->data() : nullptr, y->data());
         },
         [=] { return describeAffine("scale", outer, channels, inner); });
  return info.Env().Undefined();
}

// channelAffineBackward(outer, channels, inner, x, scale, dy, dx|null, dscale|null, dbias|null)
CUDNET_ENTRY(channelAffineBackward) {
  int outer = static_cast<int>(countArg(info, 0, "outer")), channels = static_cast<int>(countArg(info, 1, "channels"));
  int inner = static_cast<int>(countArg(info, 2, "inner"));
  BufferRef x = bufferArg(info, 3, "x"), scale = bufferArg(info, 4, "scale"), dy = bufferArg(info, 5, "dy");
  BufferRef dx = optionalBufferArg(info, 6, "dx"), dscale = optionalBufferArg(info, 7, "dscale");
  BufferRef dbias = optionalBufferArg(info, 8, "dbias");
  size_t n = static_cast<size_t>(outer) * channels * inner;
  for (auto* b : {&x, &dy, &dx}) requireCount("scale backward", "tensor", *b, n);
  for (auto* b : {&scale, &dscale, &dbias}) requireCount("scale backward", "parameter", *b, channels);
  auto device = commonDevice("scale backward", {&x, &scale, &dy, &dx, &dscale, &dbias});
  // dx is overwritten; dscale and dbias accumulate.
  submit(device,
         {reads(x, n), reads(scale, channels), reads(dy, n), writes(dx, n), updates(dscale, channels),
          updates(dbias, channels)},
         [=] {
           device->backend().channelAffineBackward(outer, channels, inner, x->data(), scale->data(), dy->data(),
                                                   dx ? dx->data() : nullptr, dscale ? dscale->data() : nullptr,
                                                   dbias ? dbias->data() : nullptr);
         },
         [=] { return describeAffine("scale backward", outer, channels, inner); });
  return info.Env().Undefined();
}

// (count - 1) * stride + block: the elements from the start of the first block to the end of the last.
// Throws SHAPE_MISMATCH when that overflows (no tensor is that large); countArg keeps each below 2^53.
static size_t blockSpan(const char* name, size_t count, size_t block, size_t stride) {
  if (count == 0) return 0;
  size_t span = 0;
  if (__builtin_mul_overflow(count - 1, stride, &span) || __builtin_add_overflow(span, block, &span) ||
      span > (size_t{1} << 53))
    throw Error("SHAPE_MISMATCH", std::string("copyBlocks: the ") + name + " blocks run past the end of any tensor");
  return span;
}

// copyBlocks(count, block, source, sourceOffset, sourceStride, destination, destinationOffset, destinationStride)
CUDNET_ENTRY(copyBlocks) {
  size_t count = countArg(info, 0, "count"), block = countArg(info, 1, "block");
  BufferRef source = bufferArg(info, 2, "source");
  size_t sourceOffset = countArg(info, 3, "sourceOffset"), sourceStride = countArg(info, 4, "sourceStride");
  BufferRef destination = bufferArg(info, 5, "destination");
  size_t destinationOffset = countArg(info, 6, "destinationOffset");
  size_t destinationStride = countArg(info, 7, "destinationStride");
  // Each side spans from the first block to the end of the last; blocks with gaps between them write
  // only part of that span.
  size_t sourceSpan = blockSpan("source", count, block, sourceStride);
  size_t destinationSpan = blockSpan("destination", count, block, destinationStride);
  requireCount("copyBlocks", "source", source, sourceOffset + sourceSpan);
  requireCount("copyBlocks", "destination", destination, destinationOffset + destinationSpan);
  auto device = commonDevice("copyBlocks", {&source, &destination});
  bool contiguous = destinationStride == block || count <= 1;
  BufferUse output = contiguous ? writes(destination, destinationSpan, destinationOffset)
                                : updates(destination, destinationSpan, destinationOffset);
  submit(device, {reads(source, sourceSpan, sourceOffset), output},
         [=] {
           device->backend().copyBlocks(count, block, source->data() + sourceOffset, sourceStride,
                                        destination->data() + destinationOffset, destinationStride);
         },
         [=] { return "copyBlocks(count=" + std::to_string(count) + ", block=" + std::to_string(block) + ")"; });
  return info.Env().Undefined();
}

// Reductions into a one-element tensor: dot(n, x, y, out), sumSquares(n, x, out), sumAbs(n, x, out)
CUDNET_ENTRY(dot) {
  size_t n = countArg(info, 0, "n");
  BufferRef x = bufferArg(info, 1, "x"), y = bufferArg(info, 2, "y"), out = bufferArg(info, 3, "out");
  requireCount("dot", "x", x, n);
  requireCount("dot", "y", y, n);
  requireCount("dot", "out", out, 1);
  auto device = commonDevice("dot", {&x, &y, &out});
  submit(device, {reads(x, n), reads(y, n), writes(out, 1)},
         [=] { device->backend().dot(n, x->data(), y->data(), out->data()); },
         [=] { return "dot(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

static Napi::Value reduceEntry(const Napi::CallbackInfo& info, const char* op,
                               void (Backend::*reduce)(size_t, const float*, float*)) {
  size_t n = countArg(info, 0, "n");
  BufferRef x = bufferArg(info, 1, "x"), out = bufferArg(info, 2, "out");
  requireCount(op, "x", x, n);
  requireCount(op, "out", out, 1);
  auto device = commonDevice(op, {&x, &out});
  std::string name = op;
  submit(device, {reads(x, n), writes(out, 1)}, [=] { (device->backend().*reduce)(n, x->data(), out->data()); },
         [=] { return name + "(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

CUDNET_ENTRY(sumSquares) { return reduceEntry(info, "sumSquares", &Backend::sumSquares); }
CUDNET_ENTRY(sumAbs) { return reduceEntry(info, "sumAbs", &Backend::sumAbs); }

}  // namespace cudnet::binding
