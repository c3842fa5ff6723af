// tune.cpp — single-thread GEMM and convolution timings by thread CPU time (robust to other load on the
// machine), for tuning the blocking and the micro-kernel shape: gemm-selftest tune [layer name part]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cpu/gemm/sgemm.h"
#include "cpu/gemm/peak.h"
#include "cpu/gemm/convolution.h"
#include "selftest.h"

using namespace cudnet::cpu;

static double threadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

template <typename F>
static double bestThreadSeconds(F run, int repeats) {
  run();
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    double t0 = threadSeconds();
    run();
    best = std::min(best, threadSeconds() - t0);
  }
  return best;
}

void tune(const char* only) {
  double peakFlops = 0;
  {
    double t0 = threadSeconds();
    double flops = gemm::fmaLoopAvx512(20000000);
    peakFlops = flops / (threadSeconds() - t0);
  }
  std::printf("one-core FMA peak %.1f GFLOP/s\n", peakFlops * 1e-9);
  struct Shape { const char* name; bool transA, transB; int M, N, K; };
  const Shape shapes[] = {{"conv1", false, false, 96, 3025, 363}, {"conv2", false, false, 128, 729, 1200},
                          {"conv3", false, false, 384, 169, 2304}, {"conv5", false, false, 128, 169, 1728},
                          {"fc6/2", false, true, 128, 2048, 9216}, {"conv3 filter", false, true, 384, 2304, 169},
                          {"conv3 data", true, false, 2304, 169, 384},
                          // InnerProduct: forward x W^T, backward dW += dy^T x and dx = dy W.
                          {"lenet ip1", false, true, 64, 500, 800}, {"lenet ip1 dW", true, false, 500, 800, 64},
                          {"lenet ip1 dx", false, false, 64, 800, 500}, {"fc6", false, true, 16, 4096, 9216},
                          {"fc6 dW", true, false, 4096, 9216, 16}, {"fc6 dx", false, false, 16, 9216, 4096}};
  for (auto& s : shapes) {
    if (only && !std::strstr(s.name, only)) continue;
    auto A = randomVector(size_t(s.M) * s.K), B = randomVector(size_t(s.K) * s.N);
    std::vector<float> C(size_t(s.M) * s.N);
    int lda = s.transA ? s.M : s.K, ldb = s.transB ? s.K : s.N;
    double flops = 2.0 * s.M * s.N * s.K;
    double seconds = bestThreadSeconds([&] {
      gemm::sgemmSerial(s.transA, s.transB, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
    }, std::max(3, int(5e9 / flops)));
    std::printf("%-13s %5.1f GFLOP/s  %4.1f%% of one core\n", s.name, flops / seconds * 1e-9, flops / seconds / peakFlops * 100);
  }
  // Each thread's share of a training batch: LeNet batch 64 and AlexNet batch 16 over 2 threads.
  ThreadPool single(1);
  struct Layer { const char* name; int N, C, H, K, kernel, pad, stride, group; };
  const Layer layers[] = {{"lenet conv1", 32, 1, 28, 20, 5, 0, 1, 1},     {"lenet conv2", 32, 20, 12, 50, 5, 0, 1, 1},
                          {"alexnet conv1", 8, 3, 227, 96, 11, 0, 4, 1}, {"alexnet conv2", 8, 96, 27, 256, 5, 2, 1, 2},
                          {"alexnet conv3", 8, 256, 13, 384, 3, 1, 1, 1}, {"alexnet conv4", 8, 384, 13, 384, 3, 1, 1, 2},
                          {"alexnet conv5", 8, 384, 13, 256, 3, 1, 1, 2}};
  for (auto& l : layers) {
    if (only && !std::strstr(l.name, only)) continue;
    cudnet::Conv2dParams p;
    p.N = l.N, p.C = l.C, p.H = p.W = l.H, p.K = l.K, p.kernelH = p.kernelW = l.kernel, p.padH = p.padW = l.pad;
    p.strideH = p.strideW = l.stride, p.group = l.group;
    cudnet::computeOutputShape(p);
    auto x = randomVector(size_t(p.N) * p.C * p.H * p.W);
    auto w = randomVector(size_t(p.K) * p.C / p.group * l.kernel * l.kernel), b = randomVector(p.K);
    auto dy = randomVector(size_t(p.N) * p.K * p.outH * p.outW);
    std::vector<float> y(dy.size()), dx(x.size()), dw(w.size());
    double flops = 2.0 * p.N * p.K * p.outH * p.outW * (p.C / p.group) * l.kernel * l.kernel;
    int repeats = std::max(3, int(2e9 / flops));
    double forward = bestThreadSeconds([&] { convolution::forward(single, p, x.data(), w.data(), b.data(), y.data()); }, repeats);
    double data = bestThreadSeconds([&] { convolution::backwardData(single, p, w.data(), dy.data(), dx.data()); }, repeats);
    double filter = bestThreadSeconds([&] { convolution::backwardFilter(single, p, x.data(), dy.data(), dw.data()); }, repeats);
    std::printf("%-13s N=%-2d forward %6.3f ms %4.1f%%  data %6.3f ms %4.1f%%  filter %6.3f ms %4.1f%% of one core\n",
                l.name, p.N, forward * 1e3, flops / forward / peakFlops * 100, data * 1e3, flops / data / peakFlops * 100,
                filter * 1e3, flops / filter / peakFlops * 100);
  }
}
