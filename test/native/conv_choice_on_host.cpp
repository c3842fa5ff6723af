// conv_choice_on_host.cpp — the convolution algorithm rule of native/cuda/ops/conv_choice.h on made-up
// cuDNN timing lists: float32 never runs tensor-op or default math, a deterministic device never picks a
// non-deterministic result, the workspace limit holds, and results that failed are skipped.
#include <vector>

#include "cuda/ops/conv_choice.h"
#include "host_check.h"

namespace host_check {
namespace {

using cudnet::cuda::AlgorithmChoice;
using cudnet::cuda::ConvolutionMode;
using Result = cudnet::cuda::api::cudnnConvolutionAlgoPerf_t;
namespace api = cudnet::cuda::api;

constexpr int kNonDeterministic = 0;  // CUDNN_NON_DETERMINISTIC

Result result(int algorithm, int mathType, size_t memory, int determinism = api::CUDNN_DETERMINISTIC,
              int status = api::CUDNN_STATUS_SUCCESS) {
  Result r{};
  r.algo = algorithm;
  r.status = status;
  r.time = float(algorithm);
  r.memory = memory;
  r.determinism = determinism;
  r.mathType = mathType;
  return r;
}

// cuDNN's list, fastest first: a failure, one over a 1 MiB limit, FP16 conversion, TF32 tensor ops, a
// fast non-deterministic default-math one, then FMA ones.
const std::vector<Result>& timings() {
  static const std::vector<Result> list{
      result(0, api::CUDNN_FMA_MATH, 0, api::CUDNN_DETERMINISTIC, api::CUDNN_STATUS_NOT_SUPPORTED),
      result(1, api::CUDNN_FMA_MATH, size_t(2) << 20),
      result(2, api::CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION, 0),
      result(3, api::CUDNN_TENSOR_OP_MATH, 0, kNonDeterministic),
      result(4, api::CUDNN_TENSOR_OP_MATH, 0),
      result(5, api::CUDNN_DEFAULT_MATH, 0, kNonDeterministic),
      result(6, api::CUDNN_DEFAULT_MATH, 0),
      result(7, api::CUDNN_FMA_MATH, 512),
  };
  return list;
}

std::string choiceText(const AlgorithmChoice& choice) {
  return "algorithm " + std::to_string(choice.algorithm) + " with math type " + std::to_string(choice.mathType) +
         " and " + std::to_string(choice.workspaceBytes) + " bytes";
}

// Picks from `list` and compares with the expected algorithm and math type.
void expectPick(const std::string& what, const std::vector<Result>& list, size_t limit, ConvolutionMode mode,
                int algorithm, int mathType) {
  std::string problem;
  try {
    AlgorithmChoice choice = cudnet::cuda::pickAlgorithm(list.data(), int(list.size()), limit, mode, "a test");
    if (!choice.chosen || choice.algorithm != algorithm || choice.mathType != mathType) {
      problem = "picked " + choiceText(choice) + ", expected algorithm " + std::to_string(algorithm) +
                " with math type " + std::to_string(mathType);
    } else if (choice.workspaceBytes > limit) {
      problem = "picked " + choiceText(choice) + " over the limit of " + std::to_string(limit);
    }
  } catch (const cudnet::Error& error) {
    problem = std::string("threw ") + error.what();
  }
  report("pickAlgorithm", what, 0, 0, problem);
}

void expectNone(const std::string& what, const std::vector<Result>& list, size_t limit, ConvolutionMode mode,
                const std::string& message) {
  std::string problem = "picked an algorithm";
  try {
    cudnet::cuda::pickAlgorithm(list.data(), int(list.size()), limit, mode, "the forward convolution x");
  } catch (const cudnet::Error& error) {
    problem = error.code() == "CUDNN_STATUS_NOT_SUPPORTED" && error.what() == message
                  ? ""
                  : "threw " + error.code() + ": " + error.what();
  }
  report("pickAlgorithm", what, 0, 0, problem);
}

// Every allowed result of every mode: never a forbidden math type, determinism always honoured.
void checkEveryMode() {
  for (bool tf32 : {false, true}) {
    for (bool deterministic : {false, true}) {
      const ConvolutionMode mode{tf32, deterministic};
      std::string problem;
      for (const Result& r : timings()) {
        if (!cudnet::cuda::isAllowed(r, size_t(1) << 20, mode)) continue;
        if (r.status != api::CUDNN_STATUS_SUCCESS || r.memory > (size_t(1) << 20)) {
          problem = "a failed or oversized result";
        }
        if (r.mathType == api::CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) problem = "FP16 conversion allowed";
        if (!tf32 && r.mathType == api::CUDNN_TENSOR_OP_MATH) problem = "tensor-op math in float32";
        if (deterministic && r.determinism != api::CUDNN_DETERMINISTIC) problem = "a non-deterministic result";
      }
      const std::string name = std::string(tf32 ? "TF32" : "float32") + (deterministic ? ", deterministic" : "");
      report("pickAlgorithm", name + ": no allowed result breaks the mode's rules", 0, 0, problem);
    }
  }
}

}  // namespace

void checkConvolutionChoice() {
  const size_t limit = size_t(1) << 20;
  const int fma = api::CUDNN_FMA_MATH;
  expectPick("float32: skips the failure, the oversized, FP16 and tensor ops; default math runs as FMA",
             timings(), limit, {false, false}, 5, fma);
  expectPick("float32, deterministic: the first deterministic one, run as FMA", timings(), limit, {false, true}, 6,
             fma);
  expectPick("TF32: tensor-op math allowed, FP16 conversion never", timings(), limit, {true, false}, 3,
             api::CUDNN_TENSOR_OP_MATH);
  expectPick("TF32, deterministic: the deterministic tensor-op one", timings(), limit, {true, true}, 4,
             api::CUDNN_TENSOR_OP_MATH);
  expectPick("a larger workspace limit admits the 2 MiB one", timings(), size_t(4) << 20, {false, false}, 1, fma);
  const bool searchesFma = cudnet::cuda::searchMathType({false, false}) == fma &&
                           cudnet::cuda::searchMathType({false, true}) == fma &&
                           cudnet::cuda::searchMathType({true, false}) == api::CUDNN_DEFAULT_MATH;
  report("searchMathType", "float32 searches with FMA math, TF32 with default math", 0, 0,
         searchesFma ? "" : "a wrong search math type");
  const std::vector<Result> onlyFast{result(0, fma, 0, kNonDeterministic), result(1, fma, 64 << 20)};
  expectNone("nothing deterministic within the limit: the error says so", onlyFast, limit, {false, true},
             "no deterministic cuDNN algorithm runs the forward convolution x within the workspace limit of 1 MiB "
             "(CUDNET_CUDNN_WORKSPACE_MB)");
  expectNone("nothing within the limit", {onlyFast[1]}, limit, {false, false},
             "no cuDNN algorithm runs the forward convolution x within the workspace limit of 1 MiB "
             "(CUDNET_CUDNN_WORKSPACE_MB)");
  checkEveryMode();
}

}  // namespace host_check
