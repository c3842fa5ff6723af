// main.cpp — standalone self-test and benchmark of the CPU GEMM and convolution against naive
// double-precision references, and against OpenBLAS (dlopen'ed) where it is installed.
// Usage: gemm-selftest [test|bench [shape]|all|tune [layer]]
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cpu/gemm/sgemm.h"
#include "cpu/gemm/microkernel.h"
#include "cpu/gemm/peak.h"
#include "cpu/gemm/smallm.h"
#include "selftest.h"

using namespace cudnet::cpu;

std::mt19937 randomEngine(1234);

std::vector<float> randomVector(size_t n) {
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = uniform(randomEngine);
  return v;
}

// max |a - b| / max |b|
double relativeError(const std::vector<float>& actual, const std::vector<double>& expected) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double d = std::fabs(actual[i] - expected[i]);
    if (!(d <= diff)) diff = d;  // NaN propagates as failure
    scale = std::max(scale, std::fabs(expected[i]));
  }
  return diff / std::max(scale, 1e-30);
}

int failures = 0;
void check(const std::string& what, double error, double tolerance) {
  bool ok = error <= tolerance;
  if (!ok) ++failures;
  if (!ok || std::getenv("VERBOSE")) std::printf("%s %s: error %.3g\n", ok ? "ok  " : "FAIL", what.c_str(), error);
}

static bool testOneGemm(ThreadPool& pool, bool transA, bool transB, int M, int N, int K, float alpha, float beta,
                        bool threaded) {
  auto A = randomVector(size_t(M) * K), B = randomVector(size_t(K) * N), C = randomVector(size_t(M) * N);
  std::vector<double> expected(size_t(M) * N);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double sum = 0;
      for (int k = 0; k < K; ++k)
        sum += double(transA ? A[k * M + i] : A[i * K + k]) * double(transB ? B[j * K + k] : B[k * N + j]);
      expected[i * N + j] = alpha * sum + (beta == 0 ? 0.0 : beta * double(C[i * N + j]));
    }
  if (beta == 0) std::fill(C.begin(), C.end(), std::numeric_limits<float>::quiet_NaN());
  int lda = transA ? M : K, ldb = transB ? K : N;
  if (threaded)
    gemm::sgemm(pool, transA, transB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), N);
  else
    gemm::sgemmSerial(transA, transB, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), N);
  char name[160];
  std::snprintf(name, sizeof name, "gemm %c%c M=%d N=%d K=%d alpha=%g beta=%g %s", transA ? 'T' : 'N',
                transB ? 'T' : 'N', M, N, K, alpha, beta, threaded ? "threaded" : "serial");
  check(name, relativeError(C, expected), 1e-5);
  return true;
}

void testGemm(ThreadPool& pool) {
  const int shapes[][3] = {{1, 1, 1},   {1, 7, 5},    {5, 1, 9},   {7, 3, 1},    {17, 33, 19}, {8, 48, 16},
                           {9, 49, 17}, {31, 97, 400}, {96, 169, 385}, {130, 50, 70}, {3, 700, 11}, {200, 20, 900},
                           {64, 1000, 33}, {385, 17, 1},
                           // the small-M path (M <= 4): odd K and N, tails of the vectors and of the row groups
                           {1, 4097, 9217}, {2, 37, 1031}, {3, 1025, 77}, {4, 2049, 301}, {1, 15, 15}, {4, 17, 3},
                           {2, 3000, 2}, {3, 9, 4100}};
  for (auto& s : shapes)
    for (int t = 0; t < 4; ++t)
      for (int threaded = 0; threaded < 2; ++threaded) {
        testOneGemm(pool, t & 1, t & 2, s[0], s[1], s[2], 1.f, 0.f, threaded);
        testOneGemm(pool, t & 1, t & 2, s[0], s[1], s[2], -0.5f, 1.f, threaded);
        testOneGemm(pool, t & 1, t & 2, s[0], s[1], s[2], 2.f, 0.25f, threaded);
      }
}

// Each ISA's small-M kernels called directly (the dispatch only reaches the best one), on a slice of the
// columns [j0, j1) with row strides wider than the rows: C outside the slice must stay as it was.
void testSmallMKernels() {
  const int shapes[][3] = {{1, 1, 1}, {1, 37, 1031}, {2, 41, 33}, {3, 1030, 17}, {4, 77, 9}, {4, 2100, 130}, {1, 9, 2}};
  struct Named { const char* name; const gemm::SmallMKernels* kernels; };
  std::vector<Named> sets = {{"avx2", &gemm::smallMKernelsAvx2()}};
  if (__builtin_cpu_supports("avx512f")) sets.push_back({"avx512", &gemm::smallMKernelsAvx512()});
  for (auto& set : sets)
    for (auto& s : shapes)
      for (int transB = 0; transB < 2; ++transB)
        for (float beta : {0.f, 0.5f}) {
          const int M = s[0], N = s[1], K = s[2], lda = K + 3, ldb = (transB ? K : N) + 5, ldc = N + 2;
          const int j0 = N > 2 ? 1 : 0, j1 = N > 2 ? N - 1 : N;
          auto A = randomVector(size_t(M) * lda), B = randomVector(size_t(transB ? N : K) * ldb),
               C = randomVector(size_t(M) * ldc);
          std::vector<double> expected(C.begin(), C.end());
          for (int i = 0; i < M; ++i)
            for (int j = j0; j < j1; ++j) {
              double sum = 0;
              for (int k = 0; k < K; ++k) sum += double(A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
              expected[i * ldc + j] = 1.5 * sum + (beta == 0 ? 0.0 : beta * double(C[i * ldc + j]));
            }
          if (beta == 0)
            for (int i = 0; i < M; ++i)
              for (int j = j0; j < j1; ++j) C[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
          auto kernel = transB ? set.kernels->dotRows : set.kernels->axpyColumns;
          kernel(M, K, A.data(), lda, B.data(), ldb, j0, j1, 1.5f, beta, C.data(), ldc);
          char name[160];
          std::snprintf(name, sizeof name, "small-M %s %s M=%d N=%d K=%d columns [%d,%d) beta=%g", set.name,
                        transB ? "NT" : "NN", M, N, K, j0, j1, beta);
          check(name, relativeError(C, expected), 1e-5);
        }
}

// ---- benchmark -------------------------------------------------------------------------------

double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double medianSeconds(F run, int repeats) {
  run();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    double t0 = nowSeconds();
    run();
    times.push_back(nowSeconds() - t0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);

void benchGemm(ThreadPool& pool, const char* only) {
  void* openblas = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  CblasSgemm cblas = openblas ? reinterpret_cast<CblasSgemm>(dlsym(openblas, "cblas_sgemm")) : nullptr;
  if (openblas)
    if (auto setThreads = reinterpret_cast<void (*)(int)>(dlsym(openblas, "openblas_set_num_threads")))
      setThreads(pool.size());
  struct Shape { const char* name; bool transA, transB; int M, N, K; };
  const Shape shapes[] = {{"conv1", false, false, 96, 3025, 363}, {"conv2", false, false, 128, 729, 1200},
                          {"conv3", false, false, 384, 169, 2304}, {"fc6", false, true, 128, 4096, 9216},
                          {"fc6 b1", false, true, 1, 4096, 9216}, {"fc7 b1", false, true, 1, 4096, 4096},
                          {"fc8 b1", false, true, 1, 1000, 4096}, {"fc6 b4", false, true, 4, 4096, 9216},
                          {"fc6 NN", false, false, 1, 4096, 9216}, {"fc6 b2", false, true, 2, 4096, 9216},
                          {"fc6 b8", false, true, 8, 4096, 9216}, {"fc6 b16", false, true, 16, 4096, 9216}};
  std::printf("kernels %s MR=%d NR=%d, threads %d\n", gemm::bestKernelSet().name, gemm::bestKernelSet().MR,
              gemm::bestKernelSet().NR(), pool.size());
  for (auto& s : shapes) {
    if (only && !std::strstr(s.name, only)) continue;
    auto A = randomVector(size_t(s.M) * s.K), B = randomVector(size_t(s.K) * s.N);
    std::vector<float> C(size_t(s.M) * s.N);
    int lda = s.transA ? s.M : s.K, ldb = s.transB ? s.K : s.N;
    double flops = 2.0 * s.M * s.N * s.K;
    int repeats = std::max(5, int(3e10 / flops));
    double ours = medianSeconds([&] {
      gemm::sgemm(pool, s.transA, s.transB, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
    }, repeats);
    double serial = medianSeconds([&] {
      gemm::sgemmSerial(s.transA, s.transB, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C.data(), s.N);
    }, repeats / 2);
    std::printf("       one thread %6.1f GFLOP/s\n", flops / serial * 1e-9);
    double theirs = 0;
    if (cblas)
      theirs = medianSeconds([&] {
        cblas(101, s.transA ? 112 : 111, s.transB ? 112 : 111, s.M, s.N, s.K, 1.f, A.data(), lda, B.data(), ldb,
              0.f, C.data(), s.N);
      }, repeats);
    std::printf("       %.2f ms, %.1f GB/s of B\n", ours * 1e3, 4.0 * s.N * s.K / ours * 1e-9);
    std::printf("%-6s %c%c M=%-4d N=%-5d K=%-5d ours %6.1f GFLOP/s   openblas %6.1f GFLOP/s   ratio %.2f\n", s.name,
                s.transA ? 'T' : 'N', s.transB ? 'T' : 'N', s.M, s.N, s.K, flops / ours * 1e-9,
                theirs ? flops / theirs * 1e-9 : 0.0, theirs ? theirs / ours : 0.0);
  }
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "all";
  ThreadPool pool;
  if (mode == "tune") tune(argc > 2 ? argv[2] : nullptr);
  if (mode == "test" || mode == "all") {
    testGemm(pool);
    testSmallMKernels();
    testConvolution(pool);
    std::printf("%d failures\n", failures);
  }
  if (mode == "bench" || mode == "all") {
    std::printf("FMA peak: %.1f GFLOP/s on %d threads\n", gemm::measureFmaPeak(pool, 0.5), pool.size());
    const char* only = mode == "bench" && argc > 2 ? argv[2] : nullptr;  // bench [shape name part]
    benchGemm(pool, only);
    if (!only) benchConvolution(pool);
  }
  return failures ? 1 : 0;
}
