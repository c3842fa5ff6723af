// solver.cpp — CudaBackend's six solver updates, one kernel launch per parameter blob (formulas in
// native/core/params.h, kernel in kernels/elementwise.cu).
#include <cmath>

#include "../cuda_backend.h"

namespace cudnet::cuda {

// Adam's bias correction sqrt(1 - beta2^t) / (1 - beta1^t), t = iteration + 1, computed once on the host.
void CudaBackend::solverUpdate(const SolverUpdateParams& p, float* weights, float* gradient, float* history1,
                               float* history2) {
  if (p.count == 0) return;
  float adamCorrection = 1.f;
  if (p.kind == SolverKind::Adam) {
    const double t = double(p.iteration) + 1;
    adamCorrection = static_cast<float>(std::sqrt(1 - std::pow(double(p.momentum2), t)) /
                                        (1 - std::pow(double(p.momentum), t)));
  }
  kernels_->launch(Kernel::SolverUpdate, kernels_->blocksFor(p.count), stream_, p, adamCorrection, weights, gradient,
                   history1, history2);
}

}  // namespace cudnet::cuda
