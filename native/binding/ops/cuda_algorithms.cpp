// cuda_algorithms.cpp — entry points for the GPU's convolution settings: every cuDNN convolution algorithm
// of one shape with its time and workspace (`cudnet bench --algorithms`), the TF32 switch that
// `--precision tf32` turns on, and the deterministic-algorithms switch (Device.setDeterministic).
// All run on the device's stream thread, where the CUDA context is current; the JS thread only waits on a Promise.
#include <functional>

#include "../../core/params.h"
#include "../../cuda/cuda_backend.h"
#include "../common.h"

namespace cudnet::binding {
namespace {

// Runs `work` on the stream of device `name` off the JS thread, then resolves with the text it produced.
class StreamTextWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<std::string(Backend&)>;
  // `what` names the work in an error message ("<what>: <reason>").
  StreamTextWorker(Napi::Env env, std::string name, std::string what, Work work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), name_(std::move(name)),
        what_(std::move(what)), work_(std::move(work)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      auto device = openDevice(name_);
      std::string* text = &text_;
      Work work = work_;
      Backend* backend = &device->backend();
      std::string what = what_;
      StreamTask task{[backend, text, work] { *text = work(*backend); }, [what] { return what; }};
      StreamError error;
      if (!device->stream().runAndWait(std::move(task), &error)) {
        code_ = error.code;
        SetError(error.message);
      }
    } catch (const Error& error) {
      code_ = error.code();
      SetError(error.what());
    } catch (const std::exception& error) {
      SetError(error.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Napi::String::New(Env(), text_)); }
  void OnError(const Napi::Error& error) override {
    deferred_.Reject(makeError(Env(), code_.empty() ? "NATIVE_ERROR" : code_, error.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string name_;
  std::string what_;
  Work work_;
  std::string text_;
  std::string code_;
};

std::string deviceArg(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsString()) throw Error("INVALID_ARGUMENT", "Expected a device name for device");
  return info[index].As<Napi::String>().Utf8Value();
}

}  // namespace

// convolutionAlgorithms(device, params) → Promise<string>: JSON of cuda::convolutionAlgorithmsJson (forward,
// backwardData and backwardFilter lists, fastest first, with the workspace limit the choice respects).
CUDNET_ENTRY(convolutionAlgorithms) {
  std::string name = deviceArg(info, 0);
  Conv2dParams p = convParamsArg(info, 1);
  auto* worker = new StreamTextWorker(info.Env(), name, "convolution algorithm timing",
                                      [p](Backend& backend) { return cuda::convolutionAlgorithmsJson(backend, p); });
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// setCudaTf32(device, enabled) → Promise<string>: switches TF32 tensor-core math for convolutions and GEMM
// on a GPU (ops queued before it keep the old mode); resolves with "tf32" or "fp32".
CUDNET_ENTRY(setCudaTf32) {
  std::string name = deviceArg(info, 0);
  bool enabled = boolArg(info, 1, "enabled");
  auto* worker = new StreamTextWorker(info.Env(), name, "switching TF32", [enabled](Backend& backend) {
    auto* cuda = dynamic_cast<cuda::CudaBackend*>(&backend);
    if (cuda == nullptr) throw Error("INVALID_ARGUMENT", "TF32 is a CUDA mode; " + backend.name() + " has none");
    cuda->setTf32(enabled);
    return std::string(enabled ? "tf32" : "fp32");
  });
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// setCudaDeterministic(device, enabled) → Promise<string>: restricts a GPU's convolutions to algorithms cuDNN
// marks deterministic, or lifts that (ops queued before it keep the old setting); resolves with
// "deterministic" or "fastest".
CUDNET_ENTRY(setCudaDeterministic) {
  std::string name = deviceArg(info, 0);
  bool enabled = boolArg(info, 1, "enabled");
  const std::string what = "switching deterministic convolutions";
  auto* worker = new StreamTextWorker(info.Env(), name, what, [enabled](Backend& backend) {
    auto* cuda = dynamic_cast<cuda::CudaBackend*>(&backend);
    if (cuda == nullptr) {
      throw Error("INVALID_ARGUMENT", "deterministic convolution algorithms are a CUDA setting; " + backend.name() +
                                          " has only one algorithm per op");
    }
    cuda->setDeterministic(enabled);
    return std::string(enabled ? "deterministic" : "fastest");
  });
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace cudnet::binding

namespace cudnet::binding {

// cudaDiagnostics() → JSON text: driver, cuDNN and cuBLAS versions and the paths each was loaded from
// (or every path tried and why it failed). Safe to call on a machine without a GPU.
CUDNET_ENTRY(cudaDiagnostics) { return Napi::String::New(info.Env(), cuda::diagnosticsJson()); }

}  // namespace cudnet::binding
