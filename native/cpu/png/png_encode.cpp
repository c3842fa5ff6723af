// png_encode.cpp — the PNG writer of dataset records (see png_encode.h).
//
// The pipeline: the Average filter (PNG filter type 3) on every row, in AVX2, counting the
// residual bytes that are 0; the Adler-32 of the filtered stream; then deflate without any
// search for repeated strings. Photographs leave residuals that only Huffman coding shrinks, so
// by default every byte is a literal, coded with tables fitted to each block of about 32 K bytes
// (zlib's Z_HUFFMAN_ONLY with memLevel 9 does the same). When at least a quarter of the residuals
// are 0 (flat areas such as a plain background) runs of a repeated byte are also coded, as
// matches at distance 1 of 3 to 258 bytes (zlib's Z_RLE). Each block is written as dynamic
// Huffman, fixed Huffman or stored, whichever is shortest. The chunks' CRC-32 folds 64 bytes at a
// time with carry-less multiplies.
#include "png_encode.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace cudnet::cpu::png {
namespace {

// ---- CRC-32 (PNG's and zlib's: reflected polynomial 0xEDB88320) ----------------------------------

struct CrcTables {
  uint32_t t[8][256];
  CrcTables() {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (int k = 1; k < 8; ++k)
      for (int n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
};

const CrcTables& crcTables() {
  static const CrcTables tables;
  return tables;
}

// Slicing by 8: eight table look-ups per 8 bytes. `c` is the CRC register (the CRC inverted).
uint32_t crcSlice8(uint32_t c, const uint8_t* p, size_t n) {
  const auto& t = crcTables().t;
  for (; n >= 8; p += 8, n -= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
        t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

// Folding with carry-less multiplies (Gopal et al., "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction", Intel 2009), in the bit-reflected domain: four
// 128-bit lanes fold 64 bytes per step, then fold into one lane, then a Barrett reduction to
// 32 bits. `n` >= 64 and a multiple of 16; `c` is the CRC register.
#define CUDNET_PCLMUL __attribute__((target("pclmul,sse4.1")))

// One folding step: x's two 64-bit halves multiplied by k's (which carries them forward over the
// bytes in between) and added to `next`.
CUDNET_PCLMUL inline __m128i crcFoldStep(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

CUDNET_PCLMUL uint32_t crcFold(uint32_t c, const uint8_t* p, size_t n) {
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);  // x^(4*128+32), x^(4*128-32) mod P
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);  // x^(128+32), x^(128-32) mod P
  const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);                // x^64 mod P
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);   // Barrett: mu, P
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  auto load = [](const uint8_t* at) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at)); };
  auto fold = crcFoldStep;
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c)));
  __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48);
  for (p += 64, n -= 64; n >= 64; p += 64, n -= 64) {
    x1 = fold(x1, k1k2, load(p));
    x2 = fold(x2, k1k2, load(p + 16));
    x3 = fold(x3, k1k2, load(p + 32));
    x4 = fold(x4, k1k2, load(p + 48));
  }
  x1 = fold(x1, k3k4, x2);
  x1 = fold(x1, k3k4, x3);
  x1 = fold(x1, k3k4, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = fold(x1, k3k4, load(p));
  // 128 bits to 64.
  __m128i x = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
  x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00));
  // Barrett reduction to 32 bits.
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(x, t), 1));
}

bool hasPclmul() {
  static const bool has = __builtin_cpu_supports("pclmul");
  return has;
}

// ---- the Average filter ------------------------------------------------------------------------

constexpr uint8_t kFilterAverage = 3;

// Writes the rows of `pixels`, each preceded by its filter-type byte 3, with every byte replaced
// by x - floor((left + above) / 2) (mod 256; left is one pixel back, and both are 0 outside the
// image). Returns how many residual bytes are 0.
size_t filterAverage(const uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels, uint8_t* out) {
  const size_t stride = size_t(width) * channels;
  const __m256i one = _mm256_set1_epi8(1), low7 = _mm256_set1_epi8(0x7f), zero = _mm256_setzero_si256();
  size_t zeros = 0;
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t* row = pixels + y * stride;
    const uint8_t* up = y > 0 ? row - stride : nullptr;
    uint8_t* o = out + y * (stride + 1);
    *o++ = kFilterAverage;
    size_t i = 0;
    for (; i < channels && i < stride; ++i) {  // the first pixel: nothing to its left
      uint8_t r = static_cast<uint8_t>(row[i] - ((up ? up[i] : 0) >> 1));
      o[i] = r;
      zeros += r == 0;
    }
    auto load = [](const uint8_t* at) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)); };
    if (up) {
      for (; i + 32 <= stride; i += 32) {
        __m256i a = load(row + i - channels), b = load(up + i);
        // floor((a + b) / 2) = the rounded-up mean less 1 where a + b is odd.
        __m256i mean = _mm256_sub_epi8(_mm256_avg_epu8(a, b), _mm256_and_si256(_mm256_xor_si256(a, b), one));
        __m256i r = _mm256_sub_epi8(load(row + i), mean);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + i), r);
        zeros += _mm_popcnt_u32(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero))));
      }
      for (; i < stride; ++i) {
        uint8_t r = static_cast<uint8_t>(row[i] - ((row[i - channels] + up[i]) >> 1));
        o[i] = r;
        zeros += r == 0;
      }
    } else {
      for (; i + 32 <= stride; i += 32) {
        __m256i half = _mm256_and_si256(_mm256_srli_epi16(load(row + i - channels), 1), low7);
        __m256i r = _mm256_sub_epi8(load(row + i), half);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + i), r);
        zeros += _mm_popcnt_u32(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(r, zero))));
      }
      for (; i < stride; ++i) {
        uint8_t r = static_cast<uint8_t>(row[i] - (row[i - channels] >> 1));
        o[i] = r;
        zeros += r == 0;
      }
    }
  }
  return zeros;
}

// ---- bits out ------------------------------------------------------------------------------------

// Deflate's bit order: the first bit in the lowest bit of each byte. Bits gather in a 64-bit
// word that is stored whole (8 bytes, so the buffer has 8 bytes of slack); the pointer then
// advances by the whole bytes written, leaving at most 7 bits in the word.
struct BitWriter {
  uint8_t* out;
  uint64_t acc = 0;
  unsigned bits = 0;

  void flush() {
    std::memcpy(out, &acc, 8);
    out += bits >> 3;
    acc >>= bits & ~7u;
    bits &= 7;
  }
  // `n` <= 56 bits of `value` (value < 2^n).
  void put(uint64_t value, unsigned n) {
    if (bits + n > 63) flush();
    acc |= value << bits;
    bits += n;
  }
  void alignToByte() {
    flush();
    if (bits > 0) ++out, acc = 0, bits = 0;
  }
};

// A code as the bit writer takes it: its bits (the first one lowest) and how many.
struct Entry {
  uint32_t code, length;
};

// Byte frequencies, in four tables so that runs of one byte value do not wait on each other's
// increments.
struct ByteCounter {
  uint32_t t[4][256];

  void clear() { std::memset(t, 0, sizeof t); }
  void count(const uint8_t* p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) ++t[k & 3][p[i + k]];
    for (; i < n; ++i) ++t[0][p[i]];
  }
  void total(uint32_t* freq) const {
    for (unsigned s = 0; s < 256; ++s) freq[s] = t[0][s] + t[1][s] + t[2][s] + t[3][s];
  }
};

// Emits `n` symbols of `symbols` through `table`, K codes between stores (K codes of at most
// 56 / K bits fit beside the 7 bits a store leaves); meanwhile, when `counter` is given, counts
// the bytes of `next` (up to `nextSize`, K per group): the next block's frequencies, counted
// while this block's codes wait on each other.
template <int K, typename Symbol>
void putSymbols(BitWriter& w, const Symbol* symbols, size_t n, const Entry* table, const uint8_t* next,
                size_t nextSize, ByteCounter* counter) {
  uint64_t acc = w.acc;
  unsigned bits = w.bits;
  uint8_t* out = w.out;
  size_t i = 0;
  // Codes `count` symbols from `at` (whole groups of K, then the last few one at a time), then writes the
  // finished bytes as one 8-byte store.
  auto put = [&](size_t at, int count) {
    for (int k = 0; k < count; ++k) {
      const Entry& e = table[symbols[at + k]];
      acc |= uint64_t(e.code) << bits;
      bits += e.length;
    }
    std::memcpy(out, &acc, 8);
    out += bits >> 3;
    acc >>= bits & ~7u;
    bits &= 7;
  };
  if (counter) {
    const size_t both = std::min(n, nextSize) / K * K;
    for (; i < both; i += K) {
      put(i, K);
      for (int k = 0; k < K; ++k) ++counter->t[k][next[i + k]];
    }
    counter->count(next + i, nextSize - i);
  }
  for (; i + K <= n; i += K) put(i, K);
  for (; i < n; ++i) put(i, 1);
  w.acc = acc, w.bits = bits, w.out = out;
}

// The same with K chosen for the longest code in use.
template <typename Symbol>
void putSymbols(BitWriter& w, const Symbol* symbols, size_t n, const Entry* table, unsigned longest,
                const uint8_t* next = nullptr, size_t nextSize = 0, ByteCounter* counter = nullptr) {
  w.flush();
  if (longest <= 14) putSymbols<4>(w, symbols, n, table, next, nextSize, counter);
  else if (longest <= 18) putSymbols<3>(w, symbols, n, table, next, nextSize, counter);
  else if (longest <= 28) putSymbols<2>(w, symbols, n, table, next, nextSize, counter);
  else putSymbols<1>(w, symbols, n, table, next, nextSize, counter);
}

// ---- Huffman codes -------------------------------------------------------------------------------

constexpr unsigned kLitCodes = 286, kDistCodes = 30, kLengthCodes = 19, kEndOfBlock = 256;
constexpr unsigned kMaxBits = 15, kMaxCodeLengthBits = 7;
// Literal/length codes are kept to 14 bits (deflate allows 15) so that four of them fit each
// 64-bit store of the bit writer; measured no larger on photographs (a 15-bit code is rare, and
// the header of the shallower code is often shorter).
constexpr unsigned kMaxLitBits = 14;

// Stable radix sort of keys by their bytes from bit `shift` up, as far as `largest` has bits.
void radixSort(uint32_t* keys, int m, unsigned shift, uint32_t largest) {
  uint32_t other[kLitCodes];
  uint32_t *from = keys, *to = other;
  for (; shift < 32 && (largest >> shift) != 0; shift += 8) {
    unsigned start[256] = {};
    for (int i = 0; i < m; ++i) ++start[(from[i] >> shift) & 0xff];
    for (unsigned d = 0, sum = 0; d < 256; ++d) {
      unsigned count = start[d];
      start[d] = sum, sum += count;
    }
    for (int i = 0; i < m; ++i) to[start[(from[i] >> shift) & 0xff]++] = from[i];
    std::swap(from, to);
  }
  if (from != keys) std::memcpy(keys, from, m * sizeof(uint32_t));
}

// Sorts keys (frequency << 9 | symbol, frequencies below 2^23) in increasing order: insertion
// sort for a few, else the keys of frequencies below 256 and the others apart, each by a radix
// sort on the frequencies' bytes (one pass for the first, typically most of them; two for the
// others). Stable, and the keys come in symbol order, so equal frequencies stay in symbol order.
void sortKeys(uint32_t* keys, int m) {
  if (m <= 32) {
    for (int i = 1; i < m; ++i) {
      uint32_t key = keys[i];
      int j = i;
      for (; j > 0 && keys[j - 1] > key; --j) keys[j] = keys[j - 1];
      keys[j] = key;
    }
    return;
  }
  uint32_t large[kLitCodes];
  int small = 0, many = 0;
  uint32_t largest = 0;
  for (int i = 0; i < m; ++i) {
    const uint32_t key = keys[i];
    const bool big = key >= (256u << 9);
    keys[small] = key, large[many] = key;  // both written, one kept: no branch to mispredict
    small += !big, many += big;
    largest = std::max(largest, key);
  }
  radixSort(keys, small, 9, 255u << 9);
  radixSort(large, many, 9, largest);
  std::memcpy(keys + small, large, many * sizeof(uint32_t));
}

// Code lengths (at most `maxBits`) of a prefix code for symbols of frequencies `freq[0 .. n)`:
// lengths of an optimal (Huffman) code by Moffat and Katajainen's in-place method, then, if
// some are too long, leaves moved up the tree until the lengths fit (as miniz does). Unused
// symbols get length 0, except that a code always has at least two symbols (unused ones with
// the lowest numbers fill in), so that it is complete as inflaters require.
void buildLengths(const uint32_t* freq, unsigned n, unsigned maxBits, uint8_t* lengths) {
  uint32_t keys[kLitCodes];  // frequency << 9 | symbol, sorted by frequency
  int m = 0;
  for (unsigned s = 0; s < n; ++s)
    if (freq[s] != 0) keys[m++] = (freq[s] << 9) | s;
  for (unsigned s = 0; m < 2; ++s)
    if (freq[s] == 0) keys[m++] = s;
  sortKeys(keys, m);
  int a[kLitCodes];
  for (int i = 0; i < m; ++i) a[i] = static_cast<int>(keys[i] >> 9);
  // Pass 1: internal nodes' weights, left to right; each merged node's slot keeps its parent.
  a[0] += a[1];
  for (int root = 0, leaf = 2, next = 1; next < m - 1; ++next) {
    if (leaf >= m || a[root] < a[leaf]) a[next] = a[root], a[root++] = next;
    else a[next] = a[leaf++];
    if (leaf >= m || (root < next && a[root] < a[leaf])) a[next] += a[root], a[root++] = next;
    else a[next] += a[leaf++];
  }
  // Pass 2: internal nodes' depths.
  a[m - 2] = 0;
  for (int next = m - 3; next >= 0; --next) a[next] = a[a[next]] + 1;
  // Pass 3: leaves' depths, deepest (least frequent) first.
  for (int available = 1, used = 0, depth = 0, root = m - 2, next = m - 1; available > 0; ++depth) {
    for (; root >= 0 && a[root] == depth; --root) ++used;
    for (; available > used; --available) a[next--] = depth;
    available = 2 * used, used = 0;
  }
  // Lengths over maxBits: count them at maxBits, then restore Kraft's equality by taking a leaf
  // from maxBits and splitting a shorter one into two one level down, as often as needed.
  unsigned count[33] = {};
  for (int i = 0; i < m; ++i) ++count[std::min(a[i], 32)];
  if (a[0] > static_cast<int>(maxBits)) {
    for (unsigned b = maxBits + 1; b <= 32; ++b) count[maxBits] += count[b], count[b] = 0;
    uint32_t kraft = 0;
    for (unsigned b = 1; b <= maxBits; ++b) kraft += count[b] << (maxBits - b);
    for (; kraft > (1u << maxBits); --kraft) {
      --count[maxBits];
      for (unsigned b = maxBits - 1; b > 0; --b)
        if (count[b] != 0) {
          --count[b], count[b + 1] += 2;
          break;
        }
    }
  }
  std::memset(lengths, 0, n);
  for (int i = 0, b = static_cast<int>(maxBits < 32 ? maxBits : 32); b > 0; --b)
    for (unsigned k = 0; k < count[b]; ++k) lengths[keys[i++] & 511] = static_cast<uint8_t>(b);
}

uint32_t reverseBits(uint32_t code, unsigned length) {
  code = ((code & 0x5555) << 1) | ((code >> 1) & 0x5555);
  code = ((code & 0x3333) << 2) | ((code >> 2) & 0x3333);
  code = ((code & 0x0f0f) << 4) | ((code >> 4) & 0x0f0f);
  code = ((code & 0x00ff) << 8) | ((code >> 8) & 0x00ff);
  return code >> (16 - length);
}

// The canonical codes of `lengths` (RFC 1951, 3.2.2), bit-reversed for the writer.
void buildCodes(const uint8_t* lengths, unsigned n, Entry* table) {
  unsigned count[16] = {}, next[16];
  for (unsigned s = 0; s < n; ++s) ++count[lengths[s]];
  count[0] = 0;
  for (unsigned b = 1, code = 0; b <= 15; ++b) code = (code + count[b - 1]) << 1, next[b] = code;
  for (unsigned s = 0; s < n; ++s)
    table[s] = lengths[s] ? Entry{reverseBits(next[lengths[s]]++, lengths[s]), lengths[s]} : Entry{0, 0};
}

// Lengths 3..258: their length code (257..285), extra bits and the extra bits' value.
struct LengthTable {
  uint16_t code[259];
  uint8_t extraBits[259];
  uint8_t extra[259];
  uint8_t codeExtraBits[kLitCodes];  // extra bits of each literal/length code
  LengthTable() {
    static const uint16_t base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t bits[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                     2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    std::memset(codeExtraBits, 0, sizeof codeExtraBits);
    for (unsigned c = 0; c < 29; ++c) {
      codeExtraBits[257 + c] = bits[c];
      unsigned end = c == 28 ? 259 : base[c + 1];
      for (unsigned len = base[c]; len < end; ++len) {
        code[len] = static_cast<uint16_t>(257 + c);
        extraBits[len] = bits[c];
        extra[len] = static_cast<uint8_t>(len - base[c]);
      }
    }
  }
};

const LengthTable& lengthTable() {
  static const LengthTable table;
  return table;
}

// The fixed Huffman code's lengths (RFC 1951, 3.2.6).
struct FixedLengths {
  uint8_t lit[288], dist[kDistCodes];
  FixedLengths() {
    for (unsigned s = 0; s < 288; ++s) lit[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    std::memset(dist, 5, sizeof dist);
  }
};

const FixedLengths& fixedLengths() {
  static const FixedLengths lengths;
  return lengths;
}

// ---- deflate blocks ------------------------------------------------------------------------------

// How often each literal/length code and each distance code occurs in one block.
struct BlockCounts {
  uint32_t lit[kLitCodes];
  uint32_t dist[kDistCodes];
};

// A dynamic block's header: the code lengths of both codes, run-length coded with the code-length
// alphabet (16: repeat the last length 3-6 times, 17: 3-10 zeros, 18: 11-138 zeros).
struct DynamicHeader {
  uint8_t litLengths[kLitCodes], distLengths[kDistCodes];
  unsigned litCount, distCount, lengthCount;
  uint8_t symbols[kLitCodes + kDistCodes], extras[kLitCodes + kDistCodes];
  unsigned symbolCount = 0;
  uint8_t codeLengths[kLengthCodes];
  Entry codeLengthCodes[kLengthCodes];
  uint64_t bits;  // the header's length after BFINAL and BTYPE

  static constexpr uint8_t kOrder[kLengthCodes] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  static constexpr uint8_t kExtraBits[kLengthCodes] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};

  explicit DynamicHeader(const BlockCounts& counts) {
    buildLengths(counts.lit, kLitCodes, kMaxLitBits, litLengths);
    buildLengths(counts.dist, kDistCodes, kMaxBits, distLengths);
    for (litCount = kLitCodes; litCount > 257 && litLengths[litCount - 1] == 0;) --litCount;
    for (distCount = kDistCodes; distCount > 1 && distLengths[distCount - 1] == 0;) --distCount;
    uint8_t all[kLitCodes + kDistCodes];
    std::memcpy(all, litLengths, litCount);
    std::memcpy(all + litCount, distLengths, distCount);
    const unsigned total = litCount + distCount;
    for (unsigned i = 0; i < total;) {
      unsigned value = all[i], run = 1;
      while (i + run < total && all[i + run] == value) ++run;
      i += run;
      if (value == 0) {
        for (; run >= 11; run -= std::min(run, 138u)) add(18, std::min(run, 138u) - 11);
        if (run >= 3) add(17, run - 3), run = 0;
      } else {
        add(static_cast<uint8_t>(value), 0), --run;
        for (; run >= 3; run -= std::min(run, 6u)) add(16, std::min(run, 6u) - 3);
      }
      for (; run > 0; --run) add(static_cast<uint8_t>(value), 0);
    }
    uint32_t freq[kLengthCodes] = {};
    for (unsigned i = 0; i < symbolCount; ++i) ++freq[symbols[i]];
    buildLengths(freq, kLengthCodes, kMaxCodeLengthBits, codeLengths);
    buildCodes(codeLengths, kLengthCodes, codeLengthCodes);
    for (lengthCount = kLengthCodes; lengthCount > 4 && codeLengths[kOrder[lengthCount - 1]] == 0;) --lengthCount;
    bits = 5 + 5 + 4 + 3 * lengthCount;
    for (unsigned s = 0; s < kLengthCodes; ++s) bits += uint64_t(freq[s]) * (codeLengths[s] + kExtraBits[s]);
  }
  void add(uint8_t symbol, unsigned extra) {
    symbols[symbolCount] = symbol;
    extras[symbolCount++] = static_cast<uint8_t>(extra);
  }
  void write(BitWriter& w) const {
    w.put(litCount - 257, 5);
    w.put(distCount - 1, 5);
    w.put(lengthCount - 4, 4);
    for (unsigned i = 0; i < lengthCount; ++i) w.put(codeLengths[kOrder[i]], 3);
    for (unsigned i = 0; i < symbolCount; ++i) {
      const Entry& e = codeLengthCodes[symbols[i]];
      w.put(e.code, e.length);
      if (kExtraBits[symbols[i]]) w.put(extras[i], kExtraBits[symbols[i]]);
    }
  }
};

// Bits of the symbols of `counts` coded with these lengths, extra bits included.
uint64_t payloadBits(const BlockCounts& counts, const uint8_t* litLengths, const uint8_t* distLengths) {
  const LengthTable& lengths = lengthTable();
  uint64_t bits = 0;
  for (unsigned s = 0; s < kLitCodes; ++s)
    bits += uint64_t(counts.lit[s]) * (litLengths[s] + lengths.codeExtraBits[s]);
  for (unsigned d = 0; d < kDistCodes; ++d)
    bits += uint64_t(counts.dist[d]) * (distLengths[d] + (d < 4 ? 0 : d / 2 - 1));
  return bits;
}

// Writes the bytes [raw, raw + size) as stored blocks of at most 65535 bytes.
void writeStored(BitWriter& w, const uint8_t* raw, size_t size, bool last) {
  do {
    size_t piece = std::min<size_t>(size, 65535);
    bool final = last && piece == size;
    w.put(final ? 1 : 0, 3);  // BFINAL, BTYPE 00
    w.alignToByte();
    uint8_t header[4] = {uint8_t(piece), uint8_t(piece >> 8), uint8_t(~piece), uint8_t(~piece >> 8)};
    std::memcpy(w.out, header, 4);
    std::memcpy(w.out + 4, raw, piece);
    w.out += 4 + piece;
    raw += piece, size -= piece;
  } while (size > 0);
}

// How one block is written: dynamic Huffman, fixed Huffman or stored, whichever is shortest.
struct BlockPlan {
  BlockPlan(const BlockCounts& counts, size_t rawSize) : header(counts) {
    const FixedLengths& fixed = fixedLengths();
    uint64_t dynamicBits = 3 + header.bits + payloadBits(counts, header.litLengths, header.distLengths);
    uint64_t fixedBits = 3 + payloadBits(counts, fixed.lit, fixed.dist);
    uint64_t storedBits = 8 * uint64_t(rawSize) + 48 * (rawSize / 65535 + 1);
    stored = storedBits < std::min(dynamicBits, fixedBits);
    dynamic = dynamicBits <= fixedBits;
    if (stored) return;
    const uint8_t* litLengths = dynamic ? header.litLengths : fixed.lit;
    buildCodes(litLengths, dynamic ? kLitCodes : 288, lit);  // the fixed code's 286 and 287 shift its 9-bit codes
    buildCodes(dynamic ? header.distLengths : fixed.dist, kDistCodes, dist);
    for (unsigned s = 0; s < 256; ++s)
      if (counts.lit[s]) longest = std::max(longest, unsigned(litLengths[s]));
  }
  // BFINAL, BTYPE and (dynamic blocks) the code lengths.
  void writeHeader(BitWriter& w, bool last) const {
    w.put((last ? 1 : 0) | (dynamic ? 2 : 1) << 1, 3);
    if (dynamic) header.write(w);
  }
  void writeEnd(BitWriter& w) const { w.put(lit[kEndOfBlock].code, lit[kEndOfBlock].length); }

  DynamicHeader header;
  bool stored, dynamic;
  Entry lit[288], dist[kDistCodes];
  unsigned longest = 0;  // the longest literal code in use
};

// Literal-only deflate of s[0 .. n): blocks of about `blockBytes` (equal shares of the stream,
// so the last block is not a short one that would carry a whole table for a few bytes). Each
// block's byte frequencies are counted while the block before it is written.
void deflateLiterals(BitWriter& w, const uint8_t* s, size_t n, size_t blockBytes) {
  const size_t blocks = std::max<size_t>(1, (n + blockBytes / 2) / blockBytes);
  auto begin = [&](size_t b) { return n * b / blocks; };
  ByteCounter counter;
  counter.clear();
  counter.count(s, begin(1));
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* block = s + begin(b);
    const size_t size = begin(b + 1) - begin(b);
    const bool last = b + 1 == blocks;
    BlockCounts counts = {};
    counter.total(counts.lit);
    counts.lit[kEndOfBlock] = 1;
    counter.clear();
    const uint8_t* next = block + size;
    const size_t nextSize = last ? 0 : begin(b + 2) - begin(b + 1);
    BlockPlan plan(counts, size);
    if (plan.stored) {
      writeStored(w, block, size, last);
      counter.count(next, nextSize);
      continue;
    }
    plan.writeHeader(w, last);
    putSymbols(w, block, size, plan.lit, plan.longest, next, nextSize, &counter);
    plan.writeEnd(w);
  }
}

// Where runs of at least 3 bytes equal to the byte before them start, as a bit mask over the
// positions p .. p + 61 (p >= 1; reads p - 1 .. p + 63).
uint64_t runStarts(const uint8_t* p) {
  auto load = [](const uint8_t* at) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at)); };
  uint64_t lo = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(p), load(p - 1))));
  uint64_t hi = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(p + 32), load(p + 31))));
  uint64_t equal = lo | hi << 32;
  return equal & (equal >> 1) & (equal >> 2) & ((uint64_t(1) << 62) - 1);
}

// How many bytes from s[pos] on equal s[pos - 1], at most `limit` (reads up to 31 bytes past the limit).
size_t runLength(const uint8_t* s, size_t pos, size_t limit) {
  const __m256i previous = _mm256_set1_epi8(static_cast<char>(s[pos - 1]));
  size_t len = 0;
  for (; len < limit; len += 32) {
    __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + pos + len));
    uint32_t differ = ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, previous)));
    if (differ != 0) return std::min(limit, len + __builtin_ctz(differ));
  }
  return limit;
}

// Parses s[pos .. n) into up to `capacity` symbols (values < 256 literals, 256 + L a run of L
// bytes: a match of length L at distance 1), as zlib's Z_RLE does: a run where the next 3 to
// 258 bytes equal the byte before them, else a literal. Counts them in `counts`; returns the
// position reached.
size_t parseRuns(const uint8_t* s, size_t pos, size_t n, uint16_t* out, size_t capacity, size_t& count,
                 BlockCounts& counts) {
  const LengthTable& lengths = lengthTable();
  size_t k = 0;
  auto literals = [&](size_t m) {
    for (size_t j = 0; j < m; ++j) out[k + j] = s[pos + j], ++counts.lit[s[pos + j]];
    k += m, pos += m;
  };
  auto run = [&](size_t len) {
    out[k++] = static_cast<uint16_t>(256 + len);
    ++counts.lit[lengths.code[len]], ++counts.dist[0];
    pos += len;
  };
  if (pos == 0) literals(1);
  while (k < capacity && pos < n) {
    if (pos + 64 <= n) {
      uint64_t starts = runStarts(s + pos);
      size_t plain = starts ? __builtin_ctzll(starts) : 62;
      if (plain > capacity - k) {
        literals(capacity - k);
        break;
      }
      literals(plain);
      if (starts && k < capacity) run(runLength(s, pos, std::min<size_t>(258, n - pos)));
    } else if (pos + 3 <= n && s[pos] == s[pos - 1] && s[pos + 1] == s[pos - 1] && s[pos + 2] == s[pos - 1]) {
      run(runLength(s, pos, std::min<size_t>(258, n - pos)));
    } else {
      literals(1);
    }
  }
  count = k;
  return pos;
}

// Deflate of s[0 .. n) with runs: blocks of `blockSymbols` symbols.
void deflateRuns(BitWriter& w, const uint8_t* s, size_t n, size_t blockSymbols) {
  std::unique_ptr<uint16_t[]> symbols(new uint16_t[blockSymbols]);
  for (size_t pos = 0; pos < n;) {
    BlockCounts counts = {};
    size_t count;
    size_t end = parseRuns(s, pos, n, symbols.get(), blockSymbols, count, counts);
    counts.lit[kEndOfBlock] = 1;
    const bool last = end == n;
    BlockPlan plan(counts, end - pos);
    if (plan.stored) {
      writeStored(w, s + pos, end - pos, last);
    } else {
      plan.writeHeader(w, last);
      // Literals and runs in one table: a run's length code, its extra bits and distance code 0
      // (at most 14 + 5 + 5 bits: distance code 0 has 1 bit here, 5 in the fixed code).
      const LengthTable& lengths = lengthTable();
      Entry table[256 + 259];
      std::memcpy(table, plan.lit, 256 * sizeof(Entry));
      unsigned longest = plan.longest;
      const Entry distance = plan.dist[0];
      for (unsigned len = 3; len <= 258; ++len) {
        const Entry& code = plan.lit[lengths.code[len]];
        const unsigned extraBits = lengths.extraBits[len];
        table[256 + len] = Entry{code.code | uint32_t(lengths.extra[len]) << code.length |
                                     distance.code << (code.length + extraBits),
                                 code.length + extraBits + distance.length};
        if (counts.lit[lengths.code[len]]) longest = std::max(longest, table[256 + len].length);
      }
      putSymbols(w, symbols.get(), count, table, longest);
      plan.writeEnd(w);
    }
    pos = end;
  }
}

void putBigEndian(uint8_t* at, uint32_t value) {
  at[0] = uint8_t(value >> 24), at[1] = uint8_t(value >> 16), at[2] = uint8_t(value >> 8), at[3] = uint8_t(value);
}

// Writes a chunk's length and type at `at`, its data being already in place after them, then its
// CRC; returns where the next chunk starts.
uint8_t* finishChunk(uint8_t* at, const char* type, size_t size) {
  putBigEndian(at, static_cast<uint32_t>(size));
  std::memcpy(at + 4, type, 4);
  putBigEndian(at + 8 + size, crc32(0, at + 4, size + 4));
  return at + 12 + size;
}

// Room for the filtered rows: a buffer each thread keeps for its next image when that is small
// (a record's 197 KB), so that its pages are not mapped in afresh for every image; else `own`.
uint8_t* filteredRows(size_t size, std::unique_ptr<uint8_t[]>& own) {
  constexpr size_t kKeep = size_t(1) << 20;
  if (size > kKeep) {
    own.reset(new uint8_t[size]);
    return own.get();
  }
  thread_local std::vector<uint8_t> kept;
  if (kept.size() < size) kept.resize(size);
  return kept.data();
}

constexpr size_t kSlack = 64;  // the bit writer's whole-word stores and the run search's reads

size_t clampBlockSymbols(uint32_t symbols) { return std::min<size_t>(std::max<uint32_t>(symbols, 1024), 1 << 22); }

// The longest zlib stream for `n` stream bytes: stored blocks (5 bytes per 65535 and per block) at worst.
size_t zlibBound(size_t n, const EncodeOptions& options) {
  size_t blocks = n / clampBlockSymbols(options.blockSymbols) + 2;
  return 2 + n + 6 * (n / 65535 + blocks) + 4;
}

}  // namespace

uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size) {
  uint32_t c = ~crc;
  if (size >= 64 && hasPclmul()) {
    size_t whole = size & ~size_t(15);
    c = crcFold(c, data, whole);
    data += whole, size -= whole;
  }
  return ~crcSlice8(c, data, size);
}

uint32_t adler32(uint32_t adler, const uint8_t* p, size_t n) {
  constexpr uint32_t kBase = 65521;
  uint64_t s1 = adler & 0xffff, s2 = adler >> 16;
  const __m256i weights = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14,
                                           13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const __m256i ones = _mm256_set1_epi16(1), zero = _mm256_setzero_si256();
  auto sum64 = [](__m256i v) {
    __m128i x = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return uint64_t(_mm_cvtsi128_si64(x)) + uint64_t(_mm_extract_epi64(x, 1));
  };
  auto sum32 = [&](__m256i v) {
    return sum64(_mm256_add_epi64(_mm256_unpacklo_epi32(v, zero), _mm256_unpackhi_epi32(v, zero)));
  };
  // Over m chunks of 32 bytes b: s1 += sum(b); s2 += 32 m s1 + 32 * (the sum over the chunks of
  // s1's growth before each) + sum over each chunk of (32 - j) b[j]. 64-bit sums never overflow
  // within 2^14 chunks, and the 32-bit lanes of the weighted sums hold at most 2^14 * 32640.
  while (n >= 32) {
    size_t chunks = std::min<size_t>(n / 32, 1 << 14);
    __m256i v1 = zero, before = zero, v2 = zero;
    for (size_t k = 0; k < chunks; ++k, p += 32) {
      __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      before = _mm256_add_epi64(before, v1);
      v1 = _mm256_add_epi64(v1, _mm256_sad_epu8(b, zero));
      v2 = _mm256_add_epi32(v2, _mm256_madd_epi16(_mm256_maddubs_epi16(b, weights), ones));
    }
    n -= chunks * 32;
    s2 = (s2 + 32 * chunks * s1 + 32 * sum64(before) + sum32(v2)) % kBase;
    s1 = (s1 + sum64(v1)) % kBase;
  }
  for (; n > 0; --n) s1 += *p++, s2 += s1;
  return static_cast<uint32_t>((s2 % kBase) << 16 | (s1 % kBase));
}

size_t encodeBound(uint32_t width, uint32_t height, uint32_t channels, const EncodeOptions& options) {
  size_t n = size_t(height) * (size_t(width) * channels + 1);
  size_t z = zlibBound(n, options);
  size_t chunks = z / std::max<uint32_t>(options.maxChunkBytes, 1) + 1;
  return 8 + 25 + 12 * chunks + z + 12 + kSlack;
}

size_t encode(const uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels, uint8_t* out,
              const EncodeOptions& options) {
  const size_t n = size_t(height) * (size_t(width) * channels + 1);
  std::unique_ptr<uint8_t[]> own;
  uint8_t* filtered = filteredRows(n + kSlack, own);
  std::memset(filtered + n, 0, kSlack);
  const size_t zeros = filterAverage(pixels, width, height, channels, filtered);
  const uint8_t* s = filtered;

  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::memcpy(out, kSignature, 8);
  uint8_t* at = out + 8;
  putBigEndian(at + 8, width);
  putBigEndian(at + 12, height);
  at[16] = 8;                      // bit depth
  at[17] = channels == 1 ? 0 : 2;  // colour type: grey or RGB
  at[18] = at[19] = at[20] = 0;    // deflate, adaptive filtering, not interlaced
  at = finishChunk(at, "IHDR", 13);

  // The zlib stream, in place after the IDAT chunk's length and type.
  uint8_t* z = at + 8;
  z[0] = 0x78, z[1] = 0x01;  // deflate with a 32 KB window; "fastest" (as zlib marks Huffman-only)
  BitWriter w{z + 2};
  if (zeros * 4 >= n) deflateRuns(w, s, n, clampBlockSymbols(options.blockSymbols));
  else deflateLiterals(w, s, n, clampBlockSymbols(options.blockSymbols));
  w.alignToByte();
  putBigEndian(w.out, adler32(1, s, n));
  size_t size = static_cast<size_t>(w.out + 4 - z);

  // One IDAT chunk, or (for data over maxChunkBytes) several: moved apart from the last one back.
  const size_t maxChunk = std::max<uint32_t>(options.maxChunkBytes, 1);
  const size_t chunks = (size + maxChunk - 1) / maxChunk;
  for (size_t c = chunks; c-- > 1;) {
    size_t begin = c * maxChunk, length = std::min(maxChunk, size - begin);
    std::memmove(z + begin + 12 * c, z + begin, length);
  }
  for (size_t c = 0; c < chunks; ++c) {
    size_t length = std::min(maxChunk, size - c * maxChunk);
    at = finishChunk(at, "IDAT", length);
  }
  at = finishChunk(at, "IEND", 0);
  return static_cast<size_t>(at - out);
}

}  // namespace cudnet::cpu::png
