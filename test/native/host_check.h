// host_check.h — what the host checks of test/native share: random inputs, the error measure, the
// report line every check prints, and the launch geometry of native/cuda (kernels.cpp, ops/*.cpp).
//
// Report lines, one per check, read by test/cuda/kernels-on-host.test.ts:
//   PASS <kernel>: <what is checked>; max error <e> (tolerance <t>)
//   FAIL <kernel>: <what is checked>; max error <e> (tolerance <t>): <what went wrong>
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/kernels.h"

namespace host_check {

// ---- launch geometry, as native/cuda launches every kernel ------------------------------------------
constexpr unsigned kThreads = cudnet::cuda::kThreadsPerBlock;
constexpr unsigned kMaxBlocks = 65535;        // KernelModule::maxBlocks_ (kernels.h)
constexpr unsigned kMaxReduceBlocks = 1024;   // ops/elementwise.cpp: partials fit the scratch block

// KernelModule::blocksFor (kernels.cpp): one thread per element, at least one block, at most kMaxBlocks.
inline unsigned blocksFor(size_t n) {
  size_t blocks = (n + kThreads - 1) / kThreads;
  if (blocks == 0) blocks = 1;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

// ---- inputs -----------------------------------------------------------------------------------------
inline std::mt19937& generator() {
  static std::mt19937 engine(20240607);
  return engine;
}

inline std::vector<float> uniform(size_t n, float low, float high) {
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(n);
  for (float& value : values) value = distribution(generator());
  return values;
}

// An output buffer full of NaN, so an element a kernel forgets to write shows up as an error.
inline std::vector<float> poisoned(size_t n) { return std::vector<float>(n, std::nanf("")); }

// ---- comparison ---------------------------------------------------------------------------------------
// |actual - expected| / max(1, |expected|); 0 when both are NaN (both sides agree there is no number),
// infinite when only one is.
inline double relativeError(double actual, double expected) {
  if (std::isnan(actual) && std::isnan(expected)) return 0;
  if (std::isnan(actual) || std::isnan(expected)) return std::numeric_limits<double>::infinity();
  if (actual == expected) return 0;  // equal infinities
  return std::fabs(actual - expected) / std::fmax(1.0, std::fabs(expected));
}

template <typename Actual, typename Expected>
double maxError(const std::vector<Actual>& actual, const std::vector<Expected>& expected) {
  if (actual.size() != expected.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) worst = std::fmax(worst, relativeError(actual[i], expected[i]));
  return worst;
}

// ---- reporting --------------------------------------------------------------------------------------
inline int& failureCount() {
  static int count = 0;
  return count;
}

// Prints the check's line; it passes when error <= tolerance and no problem is named.
inline void report(const std::string& kernel, const std::string& what, double error, double tolerance,
                   const std::string& problem = "") {
  const bool passed = error <= tolerance && problem.empty();
  if (!passed) ++failureCount();
  std::string reason = problem.empty() && !passed ? "the error exceeds the tolerance" : problem;
  std::printf("%s %s: %s; max error %.3g (tolerance %.3g)%s%s\n", passed ? "PASS" : "FAIL", kernel.c_str(),
              what.c_str(), error, tolerance, passed ? "" : ": ", passed ? "" : reason.c_str());
  std::fflush(stdout);
}

// The checks of each file (elementwise_on_host.cpp, layers_on_host.cpp, conv_choice_on_host.cpp).
void checkElementwiseKernels();
void checkLayerKernels();
void checkConvolutionChoice();

}  // namespace host_check
