// A small BMP reader (sharp cannot read BMP): uncompressed 24/32-bit, 8-bit palette, and 16/32-bit bitfields.
import type { RawImage } from './resize.js';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d; // "BM"
}

interface BmpHeader {
  pixelOffset: number;
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  paletteSize: number;
  masks: [number, number, number];
}

function readHeader(view: DataView): BmpHeader {
  if (view.byteLength < 26) throw new Error('BMP file is truncated (no header)');
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit dimensions, 3-byte palette entries.
    return {
      pixelOffset: view.getUint32(10, true), headerSize, width: view.getUint16(18, true), height: view.getUint16(20, true),
      topDown: false, bitsPerPixel: view.getUint16(24, true), compression: BI_RGB, paletteSize: 0, masks: [0, 0, 0],
    };
  }
  if (headerSize < 40 || view.byteLength < 14 + 40) throw new Error(`Unsupported BMP header size ${headerSize}`);
  const rawHeight = view.getInt32(22, true);
  const compression = view.getUint32(30, true);
  const hasMasks = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  // Masks follow a 40-byte header, or sit inside the V4/V5 header at the same offset.
  const masks: [number, number, number] = hasMasks
    ? [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)]
    : [0, 0, 0];
  return {
    pixelOffset: view.getUint32(10, true), headerSize, width: view.getInt32(18, true), height: Math.abs(rawHeight),
    topDown: rawHeight < 0, bitsPerPixel: view.getUint16(28, true), compression, paletteSize: view.getUint32(46, true), masks,
  };
}

/** Reads one channel from a packed pixel through a bitfield mask, scaled to 0..255. */
function maskedChannel(value: number, mask: number): number {
  if (mask === 0) return 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const maximum = mask >>> shift;
  return Math.round((((value & mask) >>> shift) * 255) / maximum);
}

function readPalette(bytes: Uint8Array, header: BmpHeader): Uint8Array[] {
  const entrySize = header.headerSize === 12 ? 3 : 4;
  const count = header.paletteSize || 1 << header.bitsPerPixel;
  const start = 14 + header.headerSize + (header.compression === BI_BITFIELDS && header.headerSize === 40 ? 12 : 0);
  const palette: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * entrySize;
    if (at + 3 > bytes.length) throw new Error('BMP palette is truncated');
    palette.push(Uint8Array.of(bytes[at + 2]!, bytes[at + 1]!, bytes[at]!)); // stored B, G, R
  }
  return palette;
}

/** Decodes one pixel at bit `x` of a row into RGB. */
type PixelReader = (row: number, x: number, out: Uint8Array, at: number) => void;

function pixelReader(bytes: Uint8Array, view: DataView, header: BmpHeader): PixelReader {
  const bits = header.bitsPerPixel;
  if (header.compression !== BI_RGB && header.compression !== BI_BITFIELDS && header.compression !== BI_ALPHABITFIELDS) {
    throw new Error(`Compressed BMP (compression ${header.compression}) is not supported`);
  }
  if (bits <= 8) {
    const palette = readPalette(bytes, header);
    return (row, x, out, at) => {
      const bitOffset = x * bits;
      const index = (bytes[row + (bitOffset >> 3)]! >> (8 - bits - (bitOffset & 7))) & ((1 << bits) - 1);
      out.set(palette[index] ?? [0, 0, 0], at);
    };
  }
  if (bits === 24 || (bits === 32 && header.compression === BI_RGB)) {
    const step = bits / 8;
    return (row, x, out, at) => {
      const p = row + x * step;
      out[at] = bytes[p + 2]!; out[at + 1] = bytes[p + 1]!; out[at + 2] = bytes[p]!;
    };
  }
  if (bits === 16 || bits === 32) {
    const masks = header.compression === BI_RGB ? [0x7c00, 0x03e0, 0x001f] : header.masks; // 16-bit default is 5-5-5
    return (row, x, out, at) => {
      const value = bits === 16 ? view.getUint16(row + x * 2, true) : view.getUint32(row + x * 4, true);
      for (let c = 0; c < 3; c++) out[at + c] = maskedChannel(value, masks[c]!);
    };
  }
  throw new Error(`Unsupported BMP bit depth ${bits}`);
}

/** Decodes a BMP file to interleaved RGB; throws on anything truncated or unsupported. `maxPixels` guards memory. */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): RawImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(view);
  const { width, height } = header;
  if (width <= 0 || height <= 0) throw new Error(`Invalid BMP dimensions ${width}x${height}`);
  if (maxPixels > 0 && width * height > maxPixels) throw new Error(`Input image exceeds pixel limit (${width}x${height})`);
  const rowStride = Math.ceil((width * header.bitsPerPixel) / 32) * 4;
  if (header.pixelOffset + rowStride * height > bytes.length) throw new Error('BMP pixel data is truncated');
  const read = pixelReader(bytes, view, header);
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sourceRow = header.topDown ? y : height - 1 - y;
    const row = header.pixelOffset + sourceRow * rowStride;
    for (let x = 0; x < width; x++) read(row, x, pixels, (y * width + x) * 3);
  }
  return { pixels, width, height, channels: 3 };
}
