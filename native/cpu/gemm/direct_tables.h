// direct_tables.h — the blocking shared by the AVX-512 and AVX2 tiles of the direct convolution: filters
// split into balanced blocks (20 filters at most 8 a block are 7+7+6), kernel rows into runs of at most
// kMaxTaps taps, each block sent to the tile instantiated for its size. Included by direct_avx512.cpp
// and direct_avx2.cpp only, each with its own Isa (so each instantiation carries its own flags):
//   template <int KB> static void forwardTile(const TileShape&, const float* input, const float* weights,
//                                             int vectors, float* out, size_t outStride);
//   the vector type of direct_filter_tile.h (Reg, kLanes, zero, load, loadAligned, fmadd, sum), whose
//   filterTile<Isa, KB, TB> is the filter-gradient tile;
//   static constexpr int kMaxForwardFilters;      // at most 8
//   static constexpr int maxFilters(int taps);    // for 1..kMaxTaps taps, at most 8
#pragma once
#include <array>
#include <utility>

#include "direct_kernels.h"

namespace cudnet::cpu::direct {
namespace {

#include "direct_filter_tile.h"

constexpr int kMaxTaps = 5;

// The size of the next of the balanced blocks that cover `left` items at most `most` a block.
constexpr int balancedBlock(int left, int most) {
  const int blocks = (left + most - 1) / most;
  return (left + blocks - 1) / blocks;
}

template <class Isa>
struct Tables {
  using Forward = void (*)(const TileShape&, const float*, const float*, int, float*, size_t);
  using Filter = void (*)(const float*, size_t, size_t, const float*, size_t, int, int, int, float*, size_t);

  template <size_t... I>
  static constexpr std::array<Forward, sizeof...(I)> forwardRow(std::index_sequence<I...>) {
    return {{&Isa::template forwardTile<static_cast<int>(I) + 1>...}};
  }
  // filter[TB-1][KB-1]; entries past maxFilters(TB) are never used (they repeat the largest).
  template <int TB, size_t... I>
  static constexpr std::array<Filter, 8> filterRow(std::index_sequence<I...>) {
    constexpr std::array<Filter, sizeof...(I)> row{{&filterTile<Isa, static_cast<int>(I) + 1, TB>...}};
    std::array<Filter, 8> padded{};
    for (size_t i = 0; i < 8; ++i) padded[i] = row[i < row.size() ? i : row.size() - 1];
    return padded;
  }
  template <int TB>
  static constexpr std::array<Filter, 8> filterRow() {
    return filterRow<TB>(std::make_index_sequence<Isa::maxFilters(TB)>());
  }

  static constexpr auto forwardTiles = forwardRow(std::make_index_sequence<Isa::kMaxForwardFilters>());
  static constexpr std::array<std::array<Filter, 8>, kMaxTaps> filterBlocks = {
      {filterRow<1>(), filterRow<2>(), filterRow<3>(), filterRow<4>(), filterRow<5>()}};

  static void forward(const TileShape& s, const float* input, const float* weights, int filters, int vectors,
                      float* out, size_t outStride) {
    for (int k = 0; k < filters;) {
      const int count = balancedBlock(filters - k, Isa::kMaxForwardFilters);
      forwardTiles[count - 1](s, input, weights + k * s.weightStride, vectors, out + k * outStride, outStride);
      k += count;
    }
  }

  static void filter(const float* dy, size_t dyImageStride, size_t dyRowStride, const float* input,
                     size_t inputImageStride, int colStep, int images, int vectors, int filters, int taps, float* out,
                     size_t outStride) {
    for (int t = 0; t < taps; t += kMaxTaps) {
      const int tapCount = taps - t < kMaxTaps ? taps - t : kMaxTaps;
      for (int k = 0; k < filters;) {
        const int count = balancedBlock(filters - k, Isa::maxFilters(tapCount));
        filterBlocks[tapCount - 1][count - 1](dy + k * dyRowStride, dyImageStride, dyRowStride, input + t * colStep,
                                              inputImageStride, colStep, images, vectors, out + k * outStride + t,
                                              outStride);
        k += count;
      }
    }
  }

  static const Kernels& kernels() {
    static const Kernels set{&forward, &filter, Isa::kMaxForwardFilters};
    return set;
  }
};

}  // namespace
}  // namespace cudnet::cpu::direct
