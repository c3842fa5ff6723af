// direct.cpp — the direct convolution's planes, blocking and threads (direct.h); tiles in direct_avx512.cpp.
#include "direct.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "../isa.h"
#include "direct_kernels.h"
#include "scratch.h"

namespace cudnet::cpu::direct {
namespace {

// The depth (channels per group x kernel taps) up to which the direct loops beat im2col + SGEMM:
// measured on Zen 5 at batch 64, LeNet's conv1 (depth 25) forward 2.2x and filter gradient 3x faster,
// conv2 (depth 500) forward 1.7x and filter gradient 1.3x, while AlexNet's conv3 (depth 2304) is 5%
// slower forward and 2x slower for the filter gradient. CUDNET_DIRECT_CONV_MAX_DEPTH overrides it
// (0 turns the direct loops off) to compare the two.
int maxDepth() {
  static const int depth = [] {
    const char* value = std::getenv("CUDNET_DIRECT_CONV_MAX_DEPTH");
    return value && *value ? std::atoi(value) : 800;
  }();
  return depth;
}

// The AVX-512 tiles where the CPU has AVX-512 (and CUDNET_CPU_ISA does not ask for AVX2), else AVX2.
const Kernels& tiles() { return useAvx512() ? avx512Kernels() : avx2Kernels(); }

bool shallowStrideOne(const Conv2dParams& p) {
  // A 1x1 layer's GEMM reads the input itself, with nothing to lower.
  if (p.strideH != 1 || p.strideW != 1 || (p.kernelH == 1 && p.kernelW == 1)) return false;
  const int depth = p.C / p.group * p.kernelH * p.kernelW;
  return depth <= maxDepth() && p.outH > 0 && p.outW > 0;
}

// A convolution in forward terms: `channels` planes of H x W per group in, `filters` planes of
// outH x outW per group out, stride 1.
struct Plan {
  int N, groups, channels, H, W, filters, kernelH, kernelW, padH, padW, dilationH, dilationW, outH, outW;
  // The padded plane: Hp x Wp, `plane` floats apart (room for the last tap's overrun and a vector);
  // output positions j < 16*vectors cover outH lines of Wp.
  int Hp, Wp, vectors;
  size_t plane;

  void finish() {
    Hp = H + 2 * padH;
    Wp = W + 2 * padW;
    vectors = (outH * Wp + 15) / 16;
    plane = (static_cast<size_t>(Hp) * Wp + static_cast<size_t>(kernelW - 1) * dilationW + 16 + 15) / 16 * 16;
  }
  int depth() const { return channels * kernelH * kernelW; }
  size_t inputImage() const { return static_cast<size_t>(groups) * channels * H * W; }
  size_t outputImage() const { return static_cast<size_t>(groups) * filters * outH * outW; }
  TileShape tile() const {
    return {channels, kernelH, kernelW, dilationH * Wp, dilationW, plane, static_cast<size_t>(depth())};
  }
};

Plan forwardPlan(const Conv2dParams& p) {
  Plan plan{p.N, p.group, p.C / p.group, p.H, p.W, p.K / p.group, p.kernelH, p.kernelW, p.padH, p.padW,
            p.dilationH, p.dilationW, p.outH, p.outW, 0, 0, 0, 0};
  plan.finish();
  return plan;
}

// Backward data as a forward convolution of dy: full padding minus the layer's own.
Plan backwardDataPlan(const Conv2dParams& p) {
  Plan plan{p.N, p.group, p.K / p.group, p.outH, p.outW, p.C / p.group, p.kernelH, p.kernelW,
            p.dilationH * (p.kernelH - 1) - p.padH, p.dilationW * (p.kernelW - 1) - p.padW, p.dilationH, p.dilationW,
            p.H, p.W, 0, 0, 0, 0};
  plan.finish();
  return plan;
}

// `channels` planes of H x W from src (H*W apart) into dst's padded planes (plan.plane apart), zeros around.
void padPlanes(const Plan& plan, const float* src, int channels, float* dst) {
  const size_t size = static_cast<size_t>(plan.H) * plan.W;
  for (int c = 0; c < channels; ++c) {
    const float* from = src + c * size;
    float* to = dst + c * plan.plane;
    std::fill(to, to + static_cast<size_t>(plan.padH) * plan.Wp, 0.f);
    float* line = to + static_cast<size_t>(plan.padH) * plan.Wp;
    for (int h = 0; h < plan.H; ++h, line += plan.Wp) {
      std::fill(line, line + plan.padW, 0.f);
      std::copy_n(from + static_cast<size_t>(h) * plan.W, plan.W, line + plan.padW);
      std::fill(line + plan.padW + plan.W, line + plan.Wp, 0.f);
    }
    std::fill(line, to + plan.plane, 0.f);
  }
}

thread_local gemm::ScratchBuffer planeBuffer, productBuffer, gradientBuffer;
// The product of one run of output lines: filters x lines, about 256 KB.
constexpr size_t kProductFloats = 64 * 1024;

// y = conv(x, weights) + bias over the plan; weights [groups][filters][depth].
void run(ThreadPool& pool, const Plan& plan, const float* x, const float* weights, const float* bias, float* y) {
  const Kernels& kernels = tiles();
  const TileShape shape = plan.tile();
  const size_t outSize = static_cast<size_t>(plan.outH) * plan.outW;
  // Whole images and groups per task when there are enough of them; otherwise blocks of filters too.
  const int images = plan.N * plan.groups;
  const int splits = images >= 2 * pool.size() ? 1 : (plan.filters + kernels.maxForwardFilters - 1) / kernels.maxForwardFilters;
  pool.parallelRanges(static_cast<size_t>(images) * splits, [&](size_t begin, size_t end, int) {
    for (size_t task = begin; task < end; ++task) {
      const int image = static_cast<int>(task / splits), split = static_cast<int>(task % splits);
      const int n = image / plan.groups, g = image % plan.groups;
      const int k0 = plan.filters * split / splits, k1 = plan.filters * (split + 1) / splits;
      float* planes = planeBuffer.get(plan.channels * plan.plane);
      padPlanes(plan, x + n * plan.inputImage() + static_cast<size_t>(g) * plan.channels * plan.H * plan.W,
                plan.channels, planes);
      // Output lines in runs whose products stay in L2 (and whose buffer stays small for large images).
      const int lines = std::max(1, static_cast<int>(kProductFloats / (static_cast<size_t>(k1 - k0) * plan.Wp)));
      const float* filterWeights = weights + (static_cast<size_t>(g) * plan.filters + k0) * plan.depth();
      for (int h0 = 0; h0 < plan.outH; h0 += lines) {
        const int count = std::min(lines, plan.outH - h0);
        const int vectors = (count * plan.Wp + 15) / 16;
        const size_t runLength = static_cast<size_t>(vectors) * 16;
        float* product = productBuffer.get((k1 - k0) * runLength);
        kernels.forward(shape, planes + static_cast<size_t>(h0) * plan.Wp, filterWeights, k1 - k0, vectors, product,
                        runLength);
        float* out = y + n * plan.outputImage() + (static_cast<size_t>(g) * plan.filters + k0) * outSize +
                     static_cast<size_t>(h0) * plan.outW;
        for (int k = k0; k < k1; ++k, out += outSize) {
          const float* line = product + (k - k0) * runLength;
          const float value = bias ? bias[g * plan.filters + k] : 0.f;
          for (int h = 0; h < count; ++h, line += plan.Wp)
            for (int w = 0; w < plan.outW; ++w) out[h * plan.outW + w] = line[w] + value;
        }
      }
    }
  });
}

thread_local gemm::ScratchBuffer flippedBuffer;
std::vector<std::unique_ptr<gemm::ScratchBuffer>> partialGradients;

// Scratch per thread stays bounded: one image's padded input planes (and, for the filter gradient,
// its re-laid dy) at most kMaxScratchFloats; larger layers take im2col + SGEMM, which lowers panel
// by panel.
constexpr size_t kMaxScratchFloats = size_t(4) << 20;
bool scratchFits(const Plan& plan, bool gradients) {
  if (plan.channels * plan.plane > kMaxScratchFloats) return false;
  return !gradients || static_cast<size_t>(plan.filters) * plan.vectors * 16 <= kMaxScratchFloats;
}

}  // namespace

// With AVX2's 16 registers the tiles hold at most 6 filters forward and 2 for a 5-tap filter gradient, so
// against AVX2's SGEMM they win only where few filters leave the GEMM's tiles empty. Measured at batch
// 64 on Zen 5 with CUDNET_CPU_ISA=avx2: 20 filters of 5x5 over 1 or 3 channels of 28x28, forward 2x and
// filter gradient 1.4-1.75x faster; 50 filters (over 1, 6, 10 or 20 channels) 1.3-1.5x slower for the
// filter gradient and, over 1 channel, forward too.
constexpr int kAvx2MaxFilters = 24, kAvx2FilterGradientMaxDepth = 100;

bool forwardApplies(const Conv2dParams& p) {
  if (!useAvx512() && p.K / p.group > kAvx2MaxFilters) return false;
  return shallowStrideOne(p) && scratchFits(forwardPlan(p), false);
}

bool backwardDataApplies(const Conv2dParams& p) {
  // dy is padded by dilation*(kernel-1) - pad, which must not be negative; its depth is filters x taps.
  if (!shallowStrideOne(p) || p.padH > p.dilationH * (p.kernelH - 1) || p.padW > p.dilationW * (p.kernelW - 1))
    return false;
  if (p.K / p.group * p.kernelH * p.kernelW > maxDepth()) return false;
  // Its tiles are the layer's input channels: with fewer than 8 (an image's 3 colours) a tile is mostly
  // loads (measured 1.8x slower than col2im for 64 filters over 3 channels of 64x64); and AVX2's tiles
  // are never worth it here.
  if (!useAvx512() || p.C / p.group < 8) return false;
  // The full correlation computes every input position from a padded dy: worth it only when the input
  // is about as large as the output (a "same" convolution). For a valid one (LeNet's conv2: 12x12 from
  // 8x8) it would multiply 2.25x the GEMM's products, most of them by padding, and is 1.5x slower.
  return static_cast<double>(p.H) * p.W <= 1.2 * p.outH * p.outW && scratchFits(backwardDataPlan(p), false);
}

bool backwardFilterApplies(const Conv2dParams& p) {
  if (!useAvx512() && (p.K / p.group > kAvx2MaxFilters || p.C / p.group * p.kernelH * p.kernelW > kAvx2FilterGradientMaxDepth))
    return false;
  return shallowStrideOne(p) && scratchFits(forwardPlan(p), true);
}

void forward(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  run(pool, forwardPlan(p), x, w, b, y);
}

void backwardData(ThreadPool& pool, const Conv2dParams& p, const float* w, const float* dy, float* dx) {
  const Plan plan = backwardDataPlan(p);
  // flipped[g][c][k][kh-1-i][kw-1-j] = w[g][k][c][i][j]
  const int channels = p.C / p.group, filters = p.K / p.group, taps = p.kernelH * p.kernelW;
  float* flipped = flippedBuffer.get(static_cast<size_t>(p.K) * channels * taps);
  for (int g = 0; g < p.group; ++g)
    for (int k = 0; k < filters; ++k)
      for (int c = 0; c < channels; ++c) {
        const float* from = w + ((static_cast<size_t>(g) * filters + k) * channels + c) * taps;
        float* to = flipped + ((static_cast<size_t>(g) * channels + c) * filters + k) * taps;
        for (int t = 0; t < taps; ++t) to[taps - 1 - t] = from[t];
      }
  run(pool, plan, dy, flipped, nullptr, dx);
}

void backwardFilter(ThreadPool& pool, const Conv2dParams& p, const float* x, const float* dy, float* dw) {
  const Kernels& kernels = tiles();
  const Plan plan = forwardPlan(p);
  const size_t lineLength = static_cast<size_t>(plan.vectors) * 16, weightCount = static_cast<size_t>(p.K) * plan.depth();
  const size_t outSize = static_cast<size_t>(plan.outH) * plan.outW;
  // Images in chunks whose padded planes and re-laid dy stay in L2 across the taps' passes over them.
  const size_t perImage = plan.channels * plan.plane + plan.filters * lineLength;
  const int chunk = static_cast<int>(std::max<size_t>(1, (256u << 10) / sizeof(float) / perImage));
  const int ranges = std::min(p.N, pool.size());
  while (static_cast<int>(partialGradients.size()) < ranges)
    partialGradients.push_back(std::make_unique<gemm::ScratchBuffer>());
  std::vector<float*> targets(ranges, dw);
  for (int r = 1; r < ranges; ++r) {
    targets[r] = partialGradients[r]->get(weightCount);
    std::fill(targets[r], targets[r] + weightCount, 0.f);
  }
  pool.parallelRanges(p.N, [&](size_t begin, size_t end, int range) {
    float* target = targets[range];
    for (int n0 = static_cast<int>(begin); n0 < static_cast<int>(end); n0 += chunk) {
      const int count = std::min(chunk, static_cast<int>(end) - n0);
      for (int g = 0; g < plan.groups; ++g) {
        float* planes = planeBuffer.get(count * plan.channels * plan.plane);
        float* gradients = gradientBuffer.get(count * plan.filters * lineLength);
        for (int m = 0; m < count; ++m) {
          const int n = n0 + m;
          padPlanes(plan, x + n * plan.inputImage() + static_cast<size_t>(g) * plan.channels * plan.H * plan.W,
                    plan.channels, planes + m * plan.channels * plan.plane);
          // dy's lines laid Wp apart like the output positions, zeros past outW and past the last line.
          const float* from = dy + n * plan.outputImage() + static_cast<size_t>(g) * plan.filters * outSize;
          float* to = gradients + m * plan.filters * lineLength;
          for (int k = 0; k < plan.filters; ++k, from += outSize, to += lineLength) {
            std::fill(to, to + lineLength, 0.f);
            for (int h = 0; h < plan.outH; ++h) std::copy_n(from + h * plan.outW, plan.outW, to + h * plan.Wp);
          }
        }
        float* weights = target + static_cast<size_t>(g) * plan.filters * plan.depth();
        for (int c = 0; c < plan.channels; ++c)
          for (int ky = 0; ky < plan.kernelH; ++ky)
            kernels.filter(gradients, plan.filters * lineLength, lineLength,
                           planes + c * plan.plane + static_cast<size_t>(ky) * plan.dilationH * plan.Wp,
                           plan.channels * plan.plane, plan.dilationW, count, plan.vectors, plan.filters,
                           plan.kernelW, weights + (c * plan.kernelH + ky) * plan.kernelW, plan.depth());
      }
    }
  });
  for (int r = 1; r < ranges; ++r)
    for (size_t i = 0; i < weightCount; ++i) dw[i] += targets[r][i];
}

}  // namespace cudnet::cpu::direct
