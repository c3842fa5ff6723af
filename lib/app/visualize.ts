// visualize.ts — DIGITS' layer visualizations: a blob as a mosaic of heat-map tiles (PNG via sharp) with shape, mean, std and a histogram.
import { sharp as loadSharp } from '../optional-deps.js';

export interface BlobStatistics {
  shape: number[];
  mean: number;
  std: number;
  /** 20 bins from min to max. */
  histogram: { min: number; max: number; counts: number[] };
}

export interface Visualization extends BlobStatistics {
  name: string;
  kind: 'activation' | 'weights';
  layerType?: string;
  parameters?: number;
  /** data: URL of the PNG mosaic, absent where DIGITS shows none (InnerProduct weights). */
  image?: string;
}

const BINS = 20;
/** Tiles are kept to a mosaic about this wide, as DIGITS does. */
const MOSAIC_WIDTH = 1200;

export function statistics(shape: number[], values: Float32Array): BlobStatistics {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
    sum += value;
  }
  const mean = sum / Math.max(1, values.length);
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  const counts = new Array<number>(BINS).fill(0);
  const width = (max - min) / BINS || 1;
  for (const value of values) counts[Math.min(BINS - 1, Math.floor((value - min) / width))]! += 1;
  return { shape, mean, std: Math.sqrt(squares / Math.max(1, values.length)), histogram: { min, max, counts } };
}

/** Splits a blob into 2-D tiles: [N?, C, H, W] → one tile per (n, c); 1-D and 2-D blobs → one row of 1 x 1 tiles. */
function tilesOf(shape: number[], values: Float32Array): { count: number; height: number; width: number } {
  if (shape.length >= 3) {
    const height = shape[shape.length - 2]!;
    const width = shape[shape.length - 1]!;
    return { count: values.length / (height * width), height, width };
  }
  return { count: values.length, height: 1, width: 1 };
}

/** An approximation of matplotlib's viridis through five anchor colours. */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function viridis(t: number): [number, number, number] {
  const position = Math.min(0.9999, Math.max(0, t)) * (VIRIDIS.length - 1);
  const low = Math.floor(position);
  const fraction = position - low;
  const a = VIRIDIS[low]!;
  const b = VIRIDIS[low + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * fraction)) as [number, number, number];
}

/** The mosaic: a square-ish grid of tiles with 1-pixel white separators, normalised by the shown values' min and max, upscaled to at least 100 px. */
export async function mosaicPng(shape: number[], values: Float32Array, heatmap = true): Promise<Buffer> {
  const tile = tilesOf(shape, values);
  const perRow = Math.max(1, Math.floor(MOSAIC_WIDTH / (tile.width + 1)));
  const shown = Math.min(tile.count, perRow * perRow);
  const columns = Math.ceil(Math.sqrt(shown));
  const rows = Math.ceil(shown / columns);
  const width = columns * (tile.width + 1) - 1;
  const height = rows * (tile.height + 1) - 1;
  const pixels = Buffer.alloc(width * height * 3, 255);
  const visible = values.subarray(0, shown * tile.height * tile.width);
  let min = Infinity;
  let max = -Infinity;
  for (const value of visible) [min, max] = [Math.min(min, value), Math.max(max, value)];
  const range = max - min || 1;
  for (let index = 0; index < shown; index++) {
    const left = (index % columns) * (tile.width + 1);
    const top = Math.floor(index / columns) * (tile.height + 1);
    for (let y = 0; y < tile.height; y++) for (let x = 0; x < tile.width; x++) {
      const t = (visible[(index * tile.height + y) * tile.width + x]! - min) / range;
      const colour = heatmap ? viridis(t) : [Math.round(t * 255), Math.round(t * 255), Math.round(t * 255)];
      pixels.set(colour, ((top + y) * width + left + x) * 3);
    }
  }
  const scale = Math.max(1, Math.ceil(100 / Math.min(width, height)));
  return loadSharp()(pixels, { raw: { width, height, channels: 3 } }).resize(width * scale, height * scale, { kernel: 'nearest' }).png().toBuffer();
}

export async function visualization(name: string, kind: Visualization['kind'], shape: number[], values: Float32Array, extra: Partial<Visualization> = {}, withImage = true): Promise<Visualization> {
  const image = withImage ? `data:image/png;base64,${(await mosaicPng(shape, values, name !== 'data')).toString('base64')}` : undefined;
  return { name, kind, ...statistics(shape, values), ...extra, ...(image ? { image } : {}) };
}
