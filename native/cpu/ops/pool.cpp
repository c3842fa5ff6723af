// pool.cpp — CpuBackend max and average pooling, forward and backward, with Caffe's exact windows.
//
// Every (n, c) plane is pooled on its own, so the planes are split over the threads.
// Window of output (ph, pw), as Caffe's pooling_layer.cpp:
//   hs = ph*strideH - padH,  he = hs + kernelH   (likewise along W)
//   MAX: the window is clipped to the image [max(hs,0), min(he,H)); the running maximum starts at
//        -FLT_MAX and only a strictly greater value replaces it, so on ties the first maximum in
//        row-major order wins and the mask records its index h*W + w inside the plane.
//   AVE: the divisor (min(he, H+padH) - hs) * (min(we, W+padW) - ws) counts the padding cells but
//        not the part hanging past H + pad; the sum covers the in-image cells only.
// A window that starts beyond the input (possible when stride > kernel and pad = 0, where Caffe
// does not clip the ceil'ed output) stays as Caffe leaves it: MAX gives -FLT_MAX with mask -1,
// AVE gives 0/0 = NaN.
#include <algorithm>
#include <cfloat>
#include <cstring>
#include <vector>

#include "../../core/error.h"
#include "../cpu_backend.h"

namespace cudnet::cpu {
namespace {

// One output row's or column's window: [begin, end) inside the image, and the AVE extent.
struct Window {
  int begin, end;  // clipped to [0, size)
  int extent;      // min(start + kernel, size + pad) - start: the AVE divisor along this axis
};

Window windowAt(int out, int kernel, int pad, int stride, int size) {
  int start = out * stride - pad;
  int paddedEnd = std::min(start + kernel, size + pad);
  return Window{std::max(start, 0), std::min(start + kernel, size), paddedEnd - start};
}

// Windows for every output row (or column), computed once per call.
std::vector<Window> windowsAlong(int outSize, int kernel, int pad, int stride, int size) {
  std::vector<Window> windows(outSize);
  for (int o = 0; o < outSize; ++o) windows[o] = windowAt(o, kernel, pad, stride, size);
  return windows;
}

struct PlaneWindows {
  std::vector<Window> rows, columns;
};

PlaneWindows planeWindows(const PoolParams& p) {
  return PlaneWindows{windowsAlong(p.outH, p.kernelH, p.padH, p.strideH, p.H),
                      windowsAlong(p.outW, p.kernelW, p.padW, p.strideW, p.W)};
}

// MAX over one plane x: [H, W] -> y: [outH, outW], mask (may be null) holds the argmax index.
void maxPoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* x, float* y, float* mask) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      float best = -FLT_MAX;
      int bestIndex = -1;
      for (int h = rows.begin; h < rows.end; ++h) {
        const float* row = x + static_cast<size_t>(h) * p.W;
        for (int w = columns.begin; w < columns.end; ++w) {
          if (row[w] > best) {
            best = row[w];
            bestIndex = h * p.W + w;
          }
        }
      }
      size_t out = static_cast<size_t>(ph) * p.outW + pw;
      y[out] = best;
      if (mask) mask[out] = static_cast<float>(bestIndex);
    }
  }
}

// AVE over one plane: sum of the in-image cells divided by Caffe's padded extent.
void averagePoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* x, float* y) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      float sum = 0.f;
      for (int h = rows.begin; h < rows.end; ++h) {
        const float* row = x + static_cast<size_t>(h) * p.W;
        for (int w = columns.begin; w < columns.end; ++w) sum += row[w];
      }
      float poolSize = static_cast<float>(rows.extent * columns.extent);
      y[static_cast<size_t>(ph) * p.outW + pw] = sum / poolSize;
    }
  }
}

// MAX backward over one plane: dx[mask] += dy (dx already zeroed); an empty window (mask -1) routes nothing.
void maxUnpoolPlane(const PoolParams& p, const float* dy, const float* mask, float* dx) {
  size_t outCount = static_cast<size_t>(p.outH) * p.outW;
  for (size_t out = 0; out < outCount; ++out) {
    int index = static_cast<int>(mask[out]);
    if (index >= 0) dx[index] += dy[out];
  }
}

// AVE backward over one plane: each in-image cell of a window receives dy / poolSize.
void averageUnpoolPlane(const PoolParams& p, const PlaneWindows& windows, const float* dy, float* dx) {
  for (int ph = 0; ph < p.outH; ++ph) {
    const Window& rows = windows.rows[ph];
    for (int pw = 0; pw < p.outW; ++pw) {
      const Window& columns = windows.columns[pw];
      float share = dy[static_cast<size_t>(ph) * p.outW + pw] / static_cast<float>(rows.extent * columns.extent);
      for (int h = rows.begin; h < rows.end; ++h) {
        float* row = dx + static_cast<size_t>(h) * p.W;
        for (int w = columns.begin; w < columns.end; ++w) row[w] += share;
      }
    }
  }
}

}  // namespace

void CpuBackend::poolForward(const PoolParams& p, const float* x, float* y, float* mask) {
  const size_t inPlane = static_cast<size_t>(p.H) * p.W, outPlane = static_cast<size_t>(p.outH) * p.outW;
  const PlaneWindows windows = planeWindows(p);
  pool().parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    for (size_t plane = begin; plane < end; ++plane) {
      const float* xPlane = x + plane * inPlane;
      float* yPlane = y + plane * outPlane;
      if (p.method == PoolMethod::Max) {
        maxPoolPlane(p, windows, xPlane, yPlane, mask ? mask + plane * outPlane : nullptr);
      } else {
        averagePoolPlane(p, windows, xPlane, yPlane);
      }
    }
  });
}

void CpuBackend::poolBackward(const PoolParams& p, const float* dy, const float* mask, float* dx) {
  const size_t inPlane = static_cast<size_t>(p.H) * p.W, outPlane = static_cast<size_t>(p.outH) * p.outW;
  if (p.method == PoolMethod::Max && mask == nullptr) {
    throw Error("INVALID_ARGUMENT", "MAX pooling backward needs the mask written by the forward pass");
  }
  const PlaneWindows windows = planeWindows(p);
  pool().parallelRanges(static_cast<size_t>(p.N) * p.C, [&](size_t begin, size_t end, int) {
    for (size_t plane = begin; plane < end; ++plane) {
      float* dxPlane = dx + plane * inPlane;
      std::memset(dxPlane, 0, inPlane * sizeof(float));
      if (p.method == PoolMethod::Max) {
        maxUnpoolPlane(p, dy + plane * outPlane, mask + plane * outPlane, dxPlane);
      } else {
        averageUnpoolPlane(p, windows, dy + plane * outPlane, dxPlane);
      }
    }
  });
}

}  // namespace cudnet::cpu
