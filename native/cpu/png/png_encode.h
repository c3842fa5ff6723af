// png_encode.h — the PNG writer of dataset records: 8-bit grey or RGB pixels, the Average filter
// on every row, deflated by Huffman coding alone (plus runs of a repeated byte on flat images).
// Pure C++ (no Node headers, no external libraries); safe to call from many threads at once.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cudnet::cpu::png {

// Tuning knobs, for measurements; the defaults are what the addon uses.
struct EncodeOptions {
  // Symbols (literals and runs) per deflate block: each block gets Huffman tables fitted to it.
  uint32_t blockSymbols = 32768;
  // The most bytes one IDAT chunk holds (the PNG limit is 2^31 - 1); longer data is split.
  uint32_t maxChunkBytes = 0x7fffffff;
};

// The most bytes encode() writes for an image of this size (its whole-word stores included).
size_t encodeBound(uint32_t width, uint32_t height, uint32_t channels,
                   const EncodeOptions& options = EncodeOptions());

// Writes the PNG file of `pixels` (height rows of width x channels bytes, channels interleaved;
// channels 1 = grey, 3 = RGB; width, height >= 1) to `out`, which holds encodeBound() bytes,
// and returns its length. One IHDR, IDAT chunk(s) with a zlib stream, IEND.
size_t encode(const uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels, uint8_t* out,
              const EncodeOptions& options = EncodeOptions());

// The checksums, with zlib's conventions (start with crc32(0, ...), adler32(1, ...)).
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size);
uint32_t adler32(uint32_t adler, const uint8_t* data, size_t size);

}  // namespace cudnet::cpu::png
