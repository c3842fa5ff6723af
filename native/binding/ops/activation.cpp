// activation.cpp — entry points of ReLU forward/backward and train-time dropout (see Backend for the math).
#include "../common.h"

#include <cmath>

namespace cudnet::binding {

// reluForward(n, slope, x, y)
CUDNET_ENTRY(reluForward) {
  size_t n = countArg(info, 0, "n");
  float slope = static_cast<float>(numberArg(info, 1, "slope"));
  BufferRef x = bufferArg(info, 2, "x"), y = bufferArg(info, 3, "y");
  requireCount("relu", "x", x, n);
  requireCount("relu", "y", y, n);
  auto device = commonDevice("relu", {&x, &y});
  submit(device, {reads(x, n), writes(y, n)}, [=] { device->backend().reluForward(n, slope, x->data(), y->data()); },
         [=] { return "relu forward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// reluBackward(n, slope, x, dy, dx)
CUDNET_ENTRY(reluBackward) {
  size_t n = countArg(info, 0, "n");
  float slope = static_cast<float>(numberArg(info, 1, "slope"));
  BufferRef x = bufferArg(info, 2, "x"), dy = bufferArg(info, 3, "dy"), dx = bufferArg(info, 4, "dx");
  for (auto* b : {&x, &dy, &dx}) requireCount("relu backward", "tensor", *b, n);
  auto device = commonDevice("relu backward", {&x, &dy, &dx});
  submit(device, {reads(x, n), reads(dy, n), writes(dx, n)},
         [=] { device->backend().reluBackward(n, slope, x->data(), dy->data(), dx->data()); },
         [=] { return "relu backward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

// dropoutForward(n, ratio, seed, x, y, mask); seed is a non-negative integer below 2^53.
CUDNET_ENTRY(dropoutForward) {
  size_t n = countArg(info, 0, "n");
  double ratio = numberArg(info, 1, "ratio");
  double seed = numberArg(info, 2, "seed");
  if (!(ratio >= 0.0 && ratio < 1.0)) throw Error("INVALID_ARGUMENT", "dropout: ratio must be in [0, 1)");
  if (!(seed >= 0.0 && seed < 9007199254740992.0) || std::floor(seed) != seed)
    throw Error("INVALID_ARGUMENT", "dropout: seed must be a non-negative integer below 2^53");
  BufferRef x = bufferArg(info, 3, "x"), y = bufferArg(info, 4, "y"), mask = bufferArg(info, 5, "mask");
  for (auto* b : {&x, &y, &mask}) requireCount("dropout", "tensor", *b, n);
  auto device = commonDevice("dropout", {&x, &y, &mask});
  float ratioFloat = static_cast<float>(ratio);
  uint64_t seedBits = static_cast<uint64_t>(seed);
  submit(device, {reads(x, n), writes(y, n), writes(mask, n)},
         [=] { device->backend().dropoutForward(n, ratioFloat, seedBits, x->data(), y->data(), mask->data()); },
         [=] { return "dropout forward(n=" + std::to_string(n) + ")"; });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
