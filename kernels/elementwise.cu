// elementwise.cu — element-wise ops, reductions, row/channel bias helpers, ReLU, dropout and the six
// solver updates; the formulas are those of native/core/backend.h and params.h, one kernel each.
#include "common.cuh"

extern "C" __global__ void cudnetFill(Index n, float value, float* y) {
  CUDNET_GRID_LOOP(i, n) { y[i] = value; }
}

// beta == 0 overwrites y without reading it (BLAS convention), so stale NaNs never leak through.
extern "C" __global__ void cudnetAxpby(Index n, float alpha, const float* x, float beta, float* y) {
  if (beta == 0.f) {
    CUDNET_GRID_LOOP(i, n) { y[i] = alpha * x[i]; }
  } else {
    CUDNET_GRID_LOOP(i, n) { y[i] = alpha * x[i] + beta * y[i]; }
  }
}

extern "C" __global__ void cudnetMultiply(Index n, const float* a, const float* b, float* y) {
  CUDNET_GRID_LOOP(i, n) { y[i] = a[i] * b[i]; }
}

// y = (shift + scale*x)^power
extern "C" __global__ void cudnetPowerForward(Index n, float power, float scale, float shift, const float* x,
                                              float* y) {
  CUDNET_GRID_LOOP(i, n) { y[i] = powf(shift + scale * x[i], power); }
}

// dx = dy * power*scale*(shift + scale*x)^(power-1)
extern "C" __global__ void cudnetPowerBackward(Index n, float power, float scale, float shift, const float* x,
                                               const float* dy, float* dx) {
  const float factor = power * scale;
  CUDNET_GRID_LOOP(i, n) { dx[i] = dy[i] * factor * powf(shift + scale * x[i], power - 1.f); }
}

// Eltwise MAX, one bottom at a time (bottom 0 initialises; later bottoms win only when strictly larger).
extern "C" __global__ void cudnetMaxAccumulate(Index n, int index, const float* x, float* y, float* mask) {
  CUDNET_GRID_LOOP(i, n) {
    if (index == 0) {
      y[i] = x[i];
      mask[i] = 0.f;
    } else if (x[i] > y[i]) {
      y[i] = x[i];
      mask[i] = (float)index;
    }
  }
}

extern "C" __global__ void cudnetMaxSelectBackward(Index n, int index, const float* mask, const float* dy,
                                                   float* dx) {
  CUDNET_GRID_LOOP(i, n) { dx[i] = mask[i] == (float)index ? dy[i] : 0.f; }
}

// y = x*scale[c] (+ bias[c]) over [outer, channels, inner].
extern "C" __global__ void cudnetChannelAffineForward(int outer, int channels, int inner, const float* x,
                                                      const float* scale, const float* bias, float* y) {
  CUDNET_GRID_LOOP(i, (Index)outer * channels * inner) {
    int c = (int)((i / inner) % channels);
    float value = x[i] * scale[c];
    y[i] = bias != nullptr ? value + bias[c] : value;
  }
}

extern "C" __global__ void cudnetChannelAffineBackwardData(int outer, int channels, int inner,
                                                           const float* scale, const float* dy, float* dx) {
  CUDNET_GRID_LOOP(i, (Index)outer * channels * inner) { dx[i] = dy[i] * scale[(i / inner) % channels]; }
}

// One block per channel: dscale[c] += sum dy*x, dbias[c] += sum dy (either may be null).
extern "C" __global__ void cudnetChannelAffineBackwardParams(int outer, int channels, int inner, const float* x,
                                                             const float* dy, float* dscale, float* dbias) {
  __shared__ double scratch[CUDNET_REDUCE_THREADS];
  const int c = blockIdx.x;
  double sumScale = 0, sumBias = 0;
  for (Index j = threadIdx.x; j < (Index)outer * inner; j += blockDim.x) {
    Index i = ((j / inner) * channels + c) * inner + j % inner;
    sumBias += dy[i];
    if (dscale != nullptr) sumScale += (double)dy[i] * x[i];
  }
  sumBias = blockSum(sumBias, scratch);
  sumScale = blockSum(sumScale, scratch);
  if (threadIdx.x == 0) {
    if (dbias != nullptr) dbias[c] += (float)sumBias;
    if (dscale != nullptr) dscale[c] += (float)sumScale;
  }
}

// destination[i*destinationStride + j] = source[i*sourceStride + j] for i < count, j < block.
extern "C" __global__ void cudnetCopyBlocks(Index count, Index block, const float* source, Index sourceStride,
                                            float* destination, Index destinationStride) {
  CUDNET_GRID_LOOP(i, count * block) {
    Index row = i / block, column = i % block;
    destination[row * destinationStride + column] = source[row * sourceStride + column];
  }
}

// Reductions in two passes with a fixed grid, so the result does not depend on scheduling.
// kind 0: sum x*y, 1: sum x*x, 2: sum |x|. One double per block goes to partial[blockIdx.x].
extern "C" __global__ void cudnetReducePartial(int kind, Index n, const float* x, const float* y,
                                               double* partial) {
  __shared__ double scratch[CUDNET_REDUCE_THREADS];
  double sum = 0;
  CUDNET_GRID_LOOP(i, n) {
    double value = x[i];
    sum += kind == 0 ? value * y[i] : kind == 1 ? value * value : fabs(value);
  }
  sum = blockSum(sum, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

extern "C" __global__ void cudnetReduceFinish(int count, const double* partial, float* out) {
  __shared__ double scratch[CUDNET_REDUCE_THREADS];
  double sum = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) sum += partial[i];
  sum = blockSum(sum, scratch);
  if (threadIdx.x == 0) out[0] = (float)sum;
}

// y[i, j] += bias[j] for y: [rows, columns].
extern "C" __global__ void cudnetAddRowBias(int rows, int columns, const float* bias, float* y) {
  CUDNET_GRID_LOOP(i, (Index)rows * columns) { y[i] += bias[i % columns]; }
}

// db[j] += sum_i dy[i, j]: one thread per column, rows in order (neighbouring threads read neighbours).
extern "C" __global__ void cudnetSumRowsInto(int rows, int columns, const float* dy, float* db) {
  CUDNET_GRID_LOOP(j, columns) {
    double sum = 0;
    for (int i = 0; i < rows; ++i) sum += dy[(Index)i * columns + j];
    db[j] += (float)sum;
  }
}

// y = x > 0 ? x : slope*x  (Caffe: max(x,0) + slope*min(x,0)); NaN stays NaN.
extern "C" __global__ void cudnetReluForward(Index n, float slope, const float* x, float* y) {
  CUDNET_GRID_LOOP(i, n) {
    float value = x[i];
    y[i] = value > 0.f ? value : value * slope;
  }
}

// dx = dy * (x > 0 ? 1 : slope): at exactly 0 the gradient is the slope, as Caffe.
extern "C" __global__ void cudnetReluBackward(Index n, float slope, const float* x, const float* dy, float* dx) {
  CUDNET_GRID_LOOP(i, n) { dx[i] = x[i] > 0.f ? dy[i] : dy[i] * slope; }
}

// mask = u(seed, i) >= ratio ? 1/(1-ratio) : 0;  y = x*mask. uniformAt is the CPU's generator.
extern "C" __global__ void cudnetDropoutForward(Index n, float ratio, unsigned long long seed, const float* x,
                                                float* y, float* mask) {
  const float scale = 1.f / (1.f - ratio);
  CUDNET_GRID_LOOP(i, n) {
    float keep = cudnet::uniformAt(seed, i) >= ratio ? scale : 0.f;
    mask[i] = keep;
    y[i] = x[i] * keep;
  }
}

// One parameter blob's update (formulas in native/core/params.h); the gradient is left holding the
// applied update, as Caffe leaves it in the diff.
__device__ float solverStep(const cudnet::SolverUpdateParams& p, float weight, float gradient, float* history1,
                            float* history2, float adamCorrection) {
  using cudnet::SolverKind;
  const float m = p.momentum;
  switch (p.kind) {
    case SolverKind::Sgd:
      *history1 = m * *history1 + p.learningRate * gradient;
      return *history1;
    case SolverKind::Nesterov: {
      float previous = *history1;
      *history1 = m * previous + p.learningRate * gradient;
      return (1.f + m) * *history1 - m * previous;
    }
    case SolverKind::AdaGrad:
      *history1 += gradient * gradient;
      return p.learningRate * gradient / (sqrtf(*history1) + p.delta);
    case SolverKind::RmsProp:
      *history1 = p.rmsDecay * *history1 + (1.f - p.rmsDecay) * gradient * gradient;
      return p.learningRate * gradient / (sqrtf(*history1) + p.delta);
    case SolverKind::AdaDelta: {
      *history1 = m * *history1 + (1.f - m) * gradient * gradient;
      float update = gradient * sqrtf((*history2 + p.delta) / (*history1 + p.delta));
      *history2 = m * *history2 + (1.f - m) * update * update;
      return p.learningRate * update;
    }
    case SolverKind::Adam:
      *history1 = m * *history1 + (1.f - m) * gradient;
      *history2 = p.momentum2 * *history2 + (1.f - p.momentum2) * gradient * gradient;
      return p.learningRate * adamCorrection * *history1 / (sqrtf(*history2) + p.delta);
  }
  return 0.f;
}

extern "C" __global__ void cudnetSolverUpdate(cudnet::SolverUpdateParams p, float adamCorrection, float* weights,
                                              float* gradient, float* history1, float* history2) {
  CUDNET_GRID_LOOP(i, p.count) {
    float w = weights[i];
    float g = gradient[i];
    if (p.weightDecay != 0.f) {
      float sign = w > 0.f ? 1.f : (w < 0.f ? -1.f : 0.f);
      g += p.weightDecay * (p.regularization == cudnet::Regularization::L2 ? w : sign);
    }
    float unused = 0.f;
    float* h1 = history1 != nullptr ? &history1[i] : &unused;
    float* h2 = history2 != nullptr ? &history2[i] : &unused;
    float update = solverStep(p, w, g, h1, h2, adamCorrection);
    gradient[i] = update;
    weights[i] = w - update;
  }
}
