// stubs.cpp — the CpuBackend members outside the pooling/LRN/activation/softmax/solver groups,
// as stubs that throw, so the self-test links only the files it checks (plus the thread pool).
#include "cpu/cpu_backend.h"
#include "core/error.h"

#include <cstdlib>

namespace cudnet::cpu {

[[noreturn]] static void notInSelfTest(const char* what) {
  throw Error("NOT_IMPLEMENTED", std::string(what) + " is not part of the ops self-test");
}

CpuBackend::CpuBackend() {}
std::string CpuBackend::describe() const { return "cpu (ops self-test)"; }
void* CpuBackend::allocate(size_t bytes) { return std::malloc(bytes); }
void CpuBackend::release(void* pointer, size_t) { std::free(pointer); }
void CpuBackend::copyFromHost(void*, const void*, size_t) { notInSelfTest("copyFromHost"); }
void CpuBackend::copyToHost(void*, const void*, size_t) { notInSelfTest("copyToHost"); }
void CpuBackend::fill(size_t, float, float*) { notInSelfTest("fill"); }
void CpuBackend::copy(size_t, const float*, float*) { notInSelfTest("copy"); }
void CpuBackend::axpby(size_t, float, const float*, float, float*) { notInSelfTest("axpby"); }
void CpuBackend::multiply(size_t, const float*, const float*, float*) { notInSelfTest("multiply"); }
void CpuBackend::powerForward(size_t, float, float, float, const float*, float*) { notInSelfTest("powerForward"); }
void CpuBackend::powerBackward(size_t, float, float, float, const float*, const float*, float*) {
  notInSelfTest("powerBackward");
}
void CpuBackend::maxAccumulate(size_t, int, const float*, float*, float*) { notInSelfTest("maxAccumulate"); }
void CpuBackend::maxSelectBackward(size_t, int, const float*, const float*, float*) {
  notInSelfTest("maxSelectBackward");
}
void CpuBackend::channelAffineForward(int, int, int, const float*, const float*, const float*, float*) {
  notInSelfTest("channelAffineForward");
}
void CpuBackend::channelAffineBackward(int, int, int, const float*, const float*, const float*, float*, float*,
                                       float*) {
  notInSelfTest("channelAffineBackward");
}
void CpuBackend::copyBlocks(size_t, size_t, const float*, size_t, float*, size_t) { notInSelfTest("copyBlocks"); }
void CpuBackend::dot(size_t, const float*, const float*, float*) { notInSelfTest("dot"); }
void CpuBackend::sumSquares(size_t, const float*, float*) { notInSelfTest("sumSquares"); }
void CpuBackend::sumAbs(size_t, const float*, float*) { notInSelfTest("sumAbs"); }
void CpuBackend::gemm(bool, bool, int, int, int, float, const float*, const float*, float, float*) {
  notInSelfTest("gemm");
}
void CpuBackend::addRowBias(int, int, const float*, float*) { notInSelfTest("addRowBias"); }
void CpuBackend::sumRowsInto(int, int, const float*, float*) { notInSelfTest("sumRowsInto"); }
void CpuBackend::conv2dForward(const Conv2dParams&, const float*, const float*, const float*, float*) {
  notInSelfTest("conv2dForward");
}
void CpuBackend::conv2dBackwardData(const Conv2dParams&, const float*, const float*, float*) {
  notInSelfTest("conv2dBackwardData");
}
void CpuBackend::conv2dBackwardFilter(const Conv2dParams&, const float*, const float*, float*) {
  notInSelfTest("conv2dBackwardFilter");
}
void CpuBackend::conv2dBackwardBias(const Conv2dParams&, const float*, float*) { notInSelfTest("conv2dBackwardBias"); }

}  // namespace cudnet::cpu
