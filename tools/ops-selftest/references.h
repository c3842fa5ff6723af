// references.h — plain double-precision versions of the CPU pooling, LRN, softmax, loss, accuracy and
// solver ops, written straight from Caffe's formulas; the self-test compares the fast kernels to them.
#pragma once
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "core/params.h"

namespace reference {

using cudnet::LrnParams;
using cudnet::PoolParams;
using Doubles = std::vector<double>;

inline size_t at4(int C, int H, int W, int n, int c, int h, int w) {
  return ((static_cast<size_t>(n) * C + c) * H + h) * W + w;
}

// Pooling forward: y and mask (argmax h*W+w, -1 for an empty window), Caffe's windows and divisor.
inline void poolForward(const PoolParams& p, const std::vector<float>& x, Doubles& y, std::vector<int>& mask) {
  y.assign(static_cast<size_t>(p.N) * p.C * p.outH * p.outW, 0.0);
  mask.assign(y.size(), -1);
  for (int n = 0; n < p.N; ++n)
    for (int c = 0; c < p.C; ++c)
      for (int ph = 0; ph < p.outH; ++ph)
        for (int pw = 0; pw < p.outW; ++pw) {
          int hs = ph * p.strideH - p.padH, ws = pw * p.strideW - p.padW;
          int he = std::min(hs + p.kernelH, p.H + p.padH), we = std::min(ws + p.kernelW, p.W + p.padW);
          double poolSize = static_cast<double>(he - hs) * (we - ws);
          hs = std::max(hs, 0), ws = std::max(ws, 0), he = std::min(he, p.H), we = std::min(we, p.W);
          double best = -FLT_MAX, sum = 0.0;
          int bestIndex = -1;
          for (int h = hs; h < he; ++h)
            for (int w = ws; w < we; ++w) {
              double v = x[at4(p.C, p.H, p.W, n, c, h, w)];
              sum += v;
              if (v > best) best = v, bestIndex = h * p.W + w;
            }
          size_t o = at4(p.C, p.outH, p.outW, n, c, ph, pw);
          y[o] = p.method == cudnet::PoolMethod::Max ? best : sum / poolSize;
          mask[o] = bestIndex;
        }
}

// Pooling backward: dx from dy (MAX through the reference mask, AVE spread over the window).
inline void poolBackward(const PoolParams& p, const std::vector<float>& dy, const std::vector<int>& mask, Doubles& dx) {
  dx.assign(static_cast<size_t>(p.N) * p.C * p.H * p.W, 0.0);
  for (int n = 0; n < p.N; ++n)
    for (int c = 0; c < p.C; ++c)
      for (int ph = 0; ph < p.outH; ++ph)
        for (int pw = 0; pw < p.outW; ++pw) {
          size_t o = at4(p.C, p.outH, p.outW, n, c, ph, pw);
          size_t planeStart = at4(p.C, p.H, p.W, n, c, 0, 0);
          if (p.method == cudnet::PoolMethod::Max) {
            if (mask[o] >= 0) dx[planeStart + mask[o]] += dy[o];
            continue;
          }
          int hs = ph * p.strideH - p.padH, ws = pw * p.strideW - p.padW;
          int he = std::min(hs + p.kernelH, p.H + p.padH), we = std::min(ws + p.kernelW, p.W + p.padW);
          double poolSize = static_cast<double>(he - hs) * (we - ws);
          hs = std::max(hs, 0), ws = std::max(ws, 0), he = std::min(he, p.H), we = std::min(we, p.W);
          for (int h = hs; h < he; ++h)
            for (int w = ws; w < we; ++w) dx[planeStart + h * p.W + w] += dy[o] / poolSize;
        }
}

// LRN scale for one element, straight from the definition (ACROSS with k, WITHIN with shift 1).
inline double lrnScale(const LrnParams& p, const Doubles& x, int n, int c, int h, int w) {
  int half = (p.localSize - 1) / 2;
  double sum = 0.0;
  if (p.region == cudnet::LrnRegion::AcrossChannels) {
    for (int j = std::max(c - half, 0); j <= std::min(c + half, p.C - 1); ++j) {
      double v = x[at4(p.C, p.H, p.W, n, j, h, w)];
      sum += v * v;
    }
    return p.k + p.alpha / p.localSize * sum;
  }
  for (int i = std::max(h - half, 0); i <= std::min(h + half, p.H - 1); ++i)
    for (int j = std::max(w - half, 0); j <= std::min(w + half, p.W - 1); ++j) {
      double v = x[at4(p.C, p.H, p.W, n, c, i, j)];
      sum += v * v;
    }
  return 1.0 + p.alpha / (p.localSize * p.localSize) * sum;
}

inline void lrnForward(const LrnParams& p, const Doubles& x, Doubles& y, Doubles& scale) {
  y.assign(x.size(), 0.0), scale.assign(x.size(), 0.0);
  for (int n = 0; n < p.N; ++n)
    for (int c = 0; c < p.C; ++c)
      for (int h = 0; h < p.H; ++h)
        for (int w = 0; w < p.W; ++w) {
          size_t i = at4(p.C, p.H, p.W, n, c, h, w);
          scale[i] = lrnScale(p, x, n, c, h, w);
          y[i] = x[i] * std::pow(scale[i], -static_cast<double>(p.beta));
        }
}

// LRN backward by Caffe's formula: dx = dy*s^-beta - factor * x * sum_{window} dy*y/s.
inline void lrnBackward(const LrnParams& p, const Doubles& x, const Doubles& dy, Doubles& dx) {
  Doubles y, scale;
  lrnForward(p, x, y, scale);
  Doubles ratio(x.size());
  for (size_t i = 0; i < x.size(); ++i) ratio[i] = dy[i] * y[i] / scale[i];
  bool across = p.region == cudnet::LrnRegion::AcrossChannels;
  double area = across ? p.localSize : p.localSize * p.localSize;
  double factor = 2.0 * p.alpha * p.beta / area;
  int half = (p.localSize - 1) / 2;
  dx.assign(x.size(), 0.0);
  for (int n = 0; n < p.N; ++n)
    for (int c = 0; c < p.C; ++c)
      for (int h = 0; h < p.H; ++h)
        for (int w = 0; w < p.W; ++w) {
          double sum = 0.0;
          if (across) {
            for (int j = std::max(c - half, 0); j <= std::min(c + half, p.C - 1); ++j)
              sum += ratio[at4(p.C, p.H, p.W, n, j, h, w)];
          } else {
            for (int i = std::max(h - half, 0); i <= std::min(h + half, p.H - 1); ++i)
              for (int j = std::max(w - half, 0); j <= std::min(w + half, p.W - 1); ++j)
                sum += ratio[at4(p.C, p.H, p.W, n, c, i, j)];
          }
          size_t i = at4(p.C, p.H, p.W, n, c, h, w);
          dx[i] = dy[i] * std::pow(scale[i], -static_cast<double>(p.beta)) - factor * x[i] * sum;
        }
}

}  // namespace reference
