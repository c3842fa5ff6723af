// direct_kernels.h — the register tiles of the direct (flat-plane) convolution, direct.cpp's inner loops.
//
// A stride-1 convolution over a zero-padded input plane of Wp columns is a 1-D correlation over the
// flattened plane: output position j = oy*Wp + ox reads input j + ky*dilH*Wp + kx*dilW for every tap,
// the positions with ox >= outW being thrown away (forward) or multiplied by zeros (filter gradient).
// So a tile is a few output channels times a few 16-float vectors of consecutive j, with no edge logic.
// The tiles are AVX-512 (direct_avx512.cpp) or AVX2 (direct_avx2.cpp), chosen as the SGEMM's are (isa.h).
#pragma once
#include <cstddef>

namespace cudnet::cpu::direct {

// Geometry shared by every tile of one call.
struct TileShape {
  int channels;         // input planes summed over
  int kernelH, kernelW;
  int rowStep;          // dilationH * Wp: distance between kernel rows in the flat plane
  int colStep;          // dilationW
  size_t planeStride;   // floats between consecutive padded planes
  size_t weightStride;  // floats between consecutive filters (channels * kernelH * kernelW)
};

// out[k][0 .. 16*vectors) = sum over channels c and taps (ky, kx) of
//   weights[k*weightStride + (c*kernelH + ky)*kernelW + kx] * input[c*planeStride + ky*rowStep + kx*colStep + j]
// for k < filters (1..12), in the same order of taps for every j (so any blocking gives the same bits).
using ForwardTile = void (*)(const TileShape& s, const float* input, const float* weights, int filters, int vectors,
                             float* out, size_t outStride);

// For k < filters and t < taps (a run of consecutive kernel columns of one kernel row):
//   out[k*outStride + t] += sum over images m < images and positions j < 16*vectors of
//     dy[m*dyImageStride + k*dyRowStride + j] * input[m*inputImageStride + t*colStep + j]
using FilterTile = void (*)(const float* dy, size_t dyImageStride, size_t dyRowStride, const float* input,
                            size_t inputImageStride, int colStep, int images, int vectors, int filters, int taps,
                            float* out, size_t outStride);

struct Kernels {
  ForwardTile forward;
  FilterTile filter;
  int maxForwardFilters;  // the most filters a forward tile takes at once
};

const Kernels& avx512Kernels();
const Kernels& avx2Kernels();

}  // namespace cudnet::cpu::direct
