// main.cpp — runs the host checks of test/native and exits 1 when any failed (see host_check.h).
#include "host_check.h"

int main() {
  host_check::checkElementwiseKernels();
  host_check::checkLayerKernels();
  host_check::checkConvolutionChoice();
  std::printf("%d failed\n", host_check::failureCount());
  return host_check::failureCount() == 0 ? 0 : 1;
}
