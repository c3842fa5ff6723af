// convolution_test.cpp — checks the convolution lowering against direct double-precision loops,
// and times AlexNet's layers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "cpu/gemm/convolution.h"
#include "selftest.h"

using cudnet::Conv2dParams;
using namespace cudnet::cpu;

namespace {

size_t inputIndex(const Conv2dParams& p, int n, int c, int h, int w) { return ((size_t(n) * p.C + c) * p.H + h) * p.W + w; }
size_t outputIndex(const Conv2dParams& p, int n, int k, int h, int w) {
  return ((size_t(n) * p.K + k) * p.outH + h) * p.outW + w;
}
size_t weightIndex(const Conv2dParams& p, int k, int c, int i, int j) {
  return ((size_t(k) * (p.C / p.group) + c) * p.kernelH + i) * p.kernelW + j;
}

// Calls visit(xIndex, yIndex, wIndex) for every (input, output, weight) triple the convolution multiplies.
template <typename Visit>
void forEachProduct(const Conv2dParams& p, Visit visit) {
  int channels = p.C / p.group, filters = p.K / p.group;
  for (int n = 0; n < p.N; ++n)
    for (int k = 0; k < p.K; ++k)
      for (int oh = 0; oh < p.outH; ++oh)
        for (int ow = 0; ow < p.outW; ++ow)
          for (int c = 0; c < channels; ++c)
            for (int i = 0; i < p.kernelH; ++i)
              for (int j = 0; j < p.kernelW; ++j) {
                int ih = oh * p.strideH - p.padH + i * p.dilationH, iw = ow * p.strideW - p.padW + j * p.dilationW;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                int inputChannel = k / filters * channels + c;
                visit(inputIndex(p, n, inputChannel, ih, iw), outputIndex(p, n, k, oh, ow), weightIndex(p, k, c, i, j));
              }
}

void testOne(ThreadPool& pool, Conv2dParams p) {
  cudnet::computeOutputShape(p);
  size_t xSize = size_t(p.N) * p.C * p.H * p.W, ySize = size_t(p.N) * p.K * p.outH * p.outW;
  size_t wSize = size_t(p.K) * (p.C / p.group) * p.kernelH * p.kernelW;
  auto x = randomVector(xSize), w = randomVector(wSize), b = randomVector(p.K), dy = randomVector(ySize);
  auto dw = randomVector(wSize), db = randomVector(p.K);
  std::vector<double> yRef(ySize), dxRef(xSize), dwRef(dw.begin(), dw.end()), dbRef(db.begin(), db.end());
  forEachProduct(p, [&](size_t xi, size_t yi, size_t wi) {
    yRef[yi] += double(x[xi]) * w[wi];
    dxRef[xi] += double(dy[yi]) * w[wi];
    dwRef[wi] += double(dy[yi]) * x[xi];
  });
  size_t spatial = size_t(p.outH) * p.outW;
  for (size_t i = 0; i < ySize; ++i) {
    yRef[i] += b[i / spatial % p.K];
    dbRef[i / spatial % p.K] += dy[i];
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> y(ySize, nan), dx(xSize, nan);
  convolution::forward(pool, p, x.data(), w.data(), b.data(), y.data());
  convolution::backwardData(pool, p, w.data(), dy.data(), dx.data());
  convolution::backwardFilter(pool, p, x.data(), dy.data(), dw.data());
  convolution::backwardBias(pool, p, dy.data(), db.data());
  char name[200];
  std::snprintf(name, sizeof name, "conv N=%d C=%d %dx%d K=%d k=%dx%d pad=%d,%d stride=%d,%d dil=%d,%d group=%d", p.N,
                p.C, p.H, p.W, p.K, p.kernelH, p.kernelW, p.padH, p.padW, p.strideH, p.strideW, p.dilationH,
                p.dilationW, p.group);
  check(std::string(name) + " forward", relativeError(y, yRef), 1e-5);
  check(std::string(name) + " backward data", relativeError(dx, dxRef), 1e-5);
  check(std::string(name) + " backward filter", relativeError(dw, dwRef), 1e-5);
  check(std::string(name) + " backward bias", relativeError(db, dbRef), 1e-5);
}

Conv2dParams make(int N, int C, int H, int W, int K, int kh, int kw, int pad, int stride, int dilation, int group) {
  Conv2dParams p;
  p.N = N, p.C = C, p.H = H, p.W = W, p.K = K, p.kernelH = kh, p.kernelW = kw, p.padH = p.padW = pad;
  p.strideH = p.strideW = stride, p.dilationH = p.dilationW = dilation, p.group = group;
  return p;
}

}  // namespace

void testConvolution(ThreadPool& pool) {
  testOne(pool, make(1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1));
  testOne(pool, make(1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1));
  testOne(pool, make(2, 4, 9, 7, 6, 3, 2, 1, 2, 1, 2));
  testOne(pool, make(3, 6, 11, 10, 9, 3, 3, 2, 1, 2, 3));
  testOne(pool, make(4, 6, 8, 8, 6, 3, 3, 1, 1, 1, 6));
  testOne(pool, make(5, 8, 6, 5, 12, 1, 1, 0, 1, 1, 2));
  testOne(pool, make(2, 5, 6, 7, 7, 1, 1, 1, 2, 1, 1));
  testOne(pool, make(4, 3, 23, 19, 20, 11, 11, 0, 4, 1, 1));
  testOne(pool, make(2, 16, 13, 13, 24, 5, 5, 2, 1, 1, 2));
  testOne(pool, make(8, 4, 9, 9, 8, 3, 3, 0, 3, 1, 1));
  // Small outputs lowered several images to a GEMM (LeNet's layers; uneven runs; a batch the threads
  // do not split, so every GEMM is threaded), and large ones image by image.
  testOne(pool, make(64, 20, 12, 12, 50, 5, 5, 0, 1, 1, 1));
  testOne(pool, make(64, 1, 28, 28, 20, 5, 5, 0, 1, 1, 1));
  testOne(pool, make(10, 4, 15, 15, 6, 3, 3, 1, 1, 1, 2));
  testOne(pool, make(7, 5, 9, 8, 7, 3, 3, 1, 1, 1, 1));
  testOne(pool, make(9, 6, 5, 5, 8, 1, 1, 0, 1, 1, 2));
  testOne(pool, make(7, 3, 22, 22, 4, 3, 3, 0, 1, 1, 1));
  testOne(pool, make(1, 2, 24, 23, 3, 3, 2, 1, 1, 1, 1));
  // Same-size convolutions (im2col's shifted-plane path): rows wider than a vector, long outputs, a
  // non-square kernel.
  testOne(pool, make(6, 8, 13, 19, 16, 3, 3, 1, 1, 1, 2));
  testOne(pool, make(4, 6, 9, 27, 8, 5, 5, 2, 1, 1, 1));
  Conv2dParams sameNonSquare = make(3, 4, 9, 11, 5, 3, 5, 1, 1, 1, 1);
  sameNonSquare.padW = 2;
  testOne(pool, sameNonSquare);
  Conv2dParams rectangular = make(3, 6, 10, 12, 6, 2, 4, 0, 1, 1, 3);
  rectangular.padH = 1, rectangular.padW = 2, rectangular.strideH = 2, rectangular.strideW = 1;
  rectangular.dilationH = 1, rectangular.dilationW = 2;
  testOne(pool, rectangular);
}

void benchConvolution(ThreadPool& pool) {
  struct Layer { const char* name; Conv2dParams p; };
  const Layer layers[] = {{"conv1", make(16, 3, 227, 227, 96, 11, 11, 0, 4, 1, 1)},
                          {"conv2", make(16, 96, 27, 27, 256, 5, 5, 2, 1, 1, 2)},
                          {"conv3", make(16, 256, 13, 13, 384, 3, 3, 1, 1, 1, 1)},
                          {"conv4", make(16, 384, 13, 13, 384, 3, 3, 1, 1, 1, 2)},
                          {"conv5", make(16, 384, 13, 13, 256, 3, 3, 1, 1, 1, 2)}};
  double totalFlops = 0, totalSeconds = 0;
  for (auto layer : layers) {
    Conv2dParams& p = layer.p;
    cudnet::computeOutputShape(p);
    size_t xSize = size_t(p.N) * p.C * p.H * p.W, ySize = size_t(p.N) * p.K * p.outH * p.outW;
    size_t wSize = size_t(p.K) * (p.C / p.group) * p.kernelH * p.kernelW;
    auto x = randomVector(xSize), w = randomVector(wSize), b = randomVector(p.K), dy = randomVector(ySize);
    std::vector<float> y(ySize), dx(xSize), dw(wSize), db(p.K);
    double flops = 2.0 * p.N * p.K * p.outH * p.outW * (p.C / p.group) * p.kernelH * p.kernelW;
    auto time = [&](auto run) {
      run();
      std::vector<double> times;
      for (int r = 0; r < 7; ++r) {
        double t0 = nowSeconds();
        run();
        times.push_back(nowSeconds() - t0);
      }
      std::sort(times.begin(), times.end());
      return times[times.size() / 2];
    };
    double forward = time([&] { convolution::forward(pool, p, x.data(), w.data(), b.data(), y.data()); });
    double data = time([&] { convolution::backwardData(pool, p, w.data(), dy.data(), dx.data()); });
    double filter = time([&] { convolution::backwardFilter(pool, p, x.data(), dy.data(), dw.data()); });
    double bias = time([&] { convolution::backwardBias(pool, p, dy.data(), db.data()); });
    double all = forward + data + filter + bias;
    std::printf("%s  forward %6.2f ms %5.1f GFLOP/s | data %6.2f ms %5.1f | filter %6.2f ms %5.1f | bias %.2f ms | "
                "fwd+bwd %5.1f GFLOP/s\n",
                layer.name, forward * 1e3, flops / forward * 1e-9, data * 1e3, flops / data * 1e-9, filter * 1e3,
                flops / filter * 1e-9, bias * 1e3, 3 * flops / all * 1e-9);
    if (layer.name[4] != '1') totalFlops += 3 * flops, totalSeconds += all;
  }
  std::printf("conv2..conv5 fwd+bwd: %.1f GFLOP/s\n", totalFlops / totalSeconds * 1e-9);
}
