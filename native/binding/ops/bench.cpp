// bench.cpp — benchmark entry points on the CPU device: the FMA peak, and timed SGEMM, ours and
// OpenBLAS's (dlopen'ed when installed, never linked) on the same shape in the same run.
// The work runs on the CPU device's stream (the only thread that drives its thread pool); the
// JS thread only waits on a Promise.
#include <dlfcn.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "../../cpu/cpu_backend.h"
#include "../../cpu/gemm/peak.h"
#include "../common.h"

namespace cudnet::binding {
namespace {

// Times collected by one benchmark: ours always, OpenBLAS's when it was found.
struct BenchResult {
  double peak = 0;
  std::vector<double> ours, openblas;
  bool openblasFound = false;
  int threads = 0;
};

// Runs `work` on the CPU device's stream off the JS thread, then resolves with `toJs(result)`.
class BenchWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void(cpu::CpuBackend&, BenchResult&)>;
  using ToJs = std::function<Napi::Value(Napi::Env, const BenchResult&)>;
  BenchWorker(Napi::Env env, Work work, ToJs toJs)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
        toJs_(std::move(toJs)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      auto device = openDevice("cpu");
      auto* backend = dynamic_cast<cpu::CpuBackend*>(&device->backend());
      if (!backend) return SetError("the cpu device has no CPU backend");
      BenchResult* result = &result_;
      Work work = work_;
      StreamTask task{[backend, result, work] { work(*backend, *result); }, [] { return std::string("benchmark"); }};
      StreamError error;
      if (!device->stream().runAndWait(std::move(task), &error)) SetError(error.message);
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(toJs_(Env(), result_)); }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(makeError(Env(), "BENCHMARK_FAILED", error.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  ToJs toJs_;
  BenchResult result_;
};

using CblasSgemm = void (*)(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A,
                            int lda, const float* B, int ldb, float beta, float* C, int ldc);
constexpr int kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112;

// OpenBLAS's cblas_sgemm, set to `threads` threads, or null where libopenblas.so.0 is absent.
CblasSgemm openblasSgemm(int threads) {
  static void* library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!library) return nullptr;
  if (auto setThreads = reinterpret_cast<void (*)(int)>(dlsym(library, "openblas_set_num_threads")))
    setThreads(threads);
  return reinterpret_cast<CblasSgemm>(dlsym(library, "cblas_sgemm"));
}

// Seconds of each of `repeats` runs after `warmup` untimed ones.
template <typename Run>
std::vector<double> timeRuns(int warmup, int repeats, Run run) {
  using Clock = std::chrono::steady_clock;
  for (int r = 0; r < warmup; ++r) run();
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    auto start = Clock::now();
    run();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return seconds;
}

std::vector<float> pseudoRandom(size_t n, uint32_t seed) {
  std::vector<float> values(n);
  for (auto& v : values) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<float>(seed >> 8) / 16777216.f - 0.5f;
  }
  return values;
}

Napi::Array toArray(Napi::Env env, const std::vector<double>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
  return array;
}

}  // namespace

// benchFmaPeak(seconds) → Promise<number>: GFLOP/s of an FMA-only loop on every thread of the CPU pool.
CUDNET_ENTRY(benchFmaPeak) {
  double seconds = numberArg(info, 0, "seconds");
  auto* worker = new BenchWorker(
      info.Env(), [seconds](cpu::CpuBackend& cpu, BenchResult& result) {
        result.peak = cpu::gemm::measureFmaPeak(cpu.pool(), seconds);
        result.threads = cpu.pool().size();
      },
      [](Napi::Env env, const BenchResult& result) -> Napi::Value { return Napi::Number::New(env, result.peak); });
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// benchGemm(transA, transB, M, N, K, warmup, repeats) → Promise<{ threads, ours: seconds[], openblas: seconds[] | null }>
CUDNET_ENTRY(benchGemm) {
  bool transA = boolArg(info, 0, "transA"), transB = boolArg(info, 1, "transB");
  int M = static_cast<int>(countArg(info, 2, "M")), N = static_cast<int>(countArg(info, 3, "N"));
  int K = static_cast<int>(countArg(info, 4, "K"));
  int warmup = static_cast<int>(countArg(info, 5, "warmup")), repeats = static_cast<int>(countArg(info, 6, "repeats"));
  auto work = [=](cpu::CpuBackend& cpu, BenchResult& result) {
    std::vector<float> A = pseudoRandom(size_t(M) * K, 1), B = pseudoRandom(size_t(K) * N, 2), C(size_t(M) * N);
    result.threads = cpu.pool().size();
    result.ours = timeRuns(warmup, repeats, [&] {
      cpu.gemm(transA, transB, M, N, K, 1.f, A.data(), B.data(), 0.f, C.data());
    });
    CblasSgemm cblas = openblasSgemm(result.threads);
    result.openblasFound = cblas != nullptr;
    if (!cblas) return;
    result.openblas = timeRuns(warmup, repeats, [&] {
      cblas(kCblasRowMajor, transA ? kCblasTrans : kCblasNoTrans, transB ? kCblasTrans : kCblasNoTrans, M, N, K, 1.f,
            A.data(), transA ? M : K, B.data(), transB ? K : N, 0.f, C.data(), N);
    });
  };
  auto toJs = [](Napi::Env env, const BenchResult& result) -> Napi::Value {
    Napi::Object object = Napi::Object::New(env);
    object.Set("threads", result.threads);
    object.Set("ours", toArray(env, result.ours));
    object.Set("openblas", result.openblasFound ? Napi::Value(toArray(env, result.openblas)) : env.Null());
    return object;
  };
  auto* worker = new BenchWorker(info.Env(), work, toJs);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace cudnet::binding
