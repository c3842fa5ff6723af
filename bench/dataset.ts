// Dataset benchmark: import speed (500 photo-like JPEGs, 256x256 squash, PNG) and batch-source speed (227 crops + mirror + mean).
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createDataset } from '../lib/data/create.js';
import { LmdbBatchSource } from '../lib/data/source.js';
import { openRecords } from '../lib/data/store.js';

/** A photo-like picture as 500x375 JPEG (quality 85): smooth gradients in each channel plus per-pixel noise, so JPEG and PNG do real work. */
export async function photoJpeg(index: number): Promise<Buffer> {
  const [width, height] = [500, 375];
  const pixels = Buffer.alloc(width * height * 3);
  let state = index * 2654435761 + 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1103515245 + 12345) >>> 0;
      const noise = (state >>> 24) % 40;
      const at = (y * width + x) * 3;
      pixels[at] = (x * 200) / width + noise;
      pixels[at + 1] = (y * 200) / height + noise;
      pixels[at + 2] = ((x + y + index * 13) % 215) + noise;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

async function photo(index: number, file: string): Promise<void> {
  await writeFile(file, await photoJpeg(index));
}

async function generate(root: string, count: number): Promise<string> {
  const folder = path.join(root, 'photos');
  const classes = 5;
  const { mkdir } = await import('node:fs/promises');
  for (let c = 0; c < classes; c++) await mkdir(path.join(folder, `class_${c}`), { recursive: true });
  for (let i = 0; i < count; i++) await photo(i, path.join(folder, `class_${i % classes}`, `photo_${i}.jpg`));
  return folder;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]): string => `${Math.min(...values).toFixed(0)}..${Math.max(...values).toFixed(0)}`;
const load = (): string => os.loadavg()[0]!.toFixed(2);

/**
 * Times `work` by the clock and by the CPU time of the whole process (every thread): on a busy
 * machine the clock measures the neighbours too, while images per CPU-second times the core
 * count says what the cores would do if they were ours alone.
 */
async function measure(work: () => Promise<number>): Promise<{ wall: number; cpu: number }> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const images = await work();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: images / seconds, cpu: (images / ((cpu.user + cpu.system) / 1e6)) * os.availableParallelism() };
}

function report(what: string, results: { wall: number; cpu: number }[], bar: number): void {
  const wall = results.map((result) => result.wall);
  const cpu = results.map((result) => result.cpu);
  console.log(`${what}: median ${median(wall).toFixed(0)} images/s (runs ${spread(wall)}); by CPU time ${median(cpu).toFixed(0)} images/s on ${os.availableParallelism()} idle cores (runs ${spread(cpu)}); bar >= ${bar}; load ${load()}`);
}

/** Mean size of a record's value in a split's database (the Datum: the PNG plus a few bytes). */
function meanRecordBytes(db: string): number {
  const database = openRecords(db);
  let [count, bytes] = [0, 0];
  for (const { value } of database.getRange()) {
    count++;
    bytes += value.length;
  }
  void database.close();
  return bytes / Math.max(count, 1);
}

/**
 * createDataset with the options `cudnet dataset create <folder> <dest>` passes by default (256x256,
 * squash, PNG, 25% val), the same code path as the command.
 */
async function benchImport(root: string, folder: string, runs: number): Promise<void> {
  const results: { wall: number; cpu: number }[] = [];
  let recordBytes = 0;
  for (let run = 0; run <= runs; run++) {
    const dest = path.join(root, `import_${run}`);
    const result = await measure(async () => {
      const report = await createDataset({ folder, dest, width: 256, height: 256, resizeMode: 'squash', encoding: 'png', valPercent: 25 });
      return Object.values(report.splits).reduce((sum, split) => sum + split!.count, 0);
    });
    if (run > 0) results.push(result); // run 0 warms the file cache and sharp
    if (run === runs) recordBytes = meanRecordBytes(path.join(dest, 'train_db'));
    rmSync(dest, { recursive: true, force: true });
  }
  report('import  500x375 JPEG -> 256x256 squash PNG', results, 400);
  console.log(`        records: ${(recordBytes / 1024).toFixed(1)} KB on average (raw pixels: ${(256 * 256 * 3 / 1024).toFixed(0)} KB)`);
}

async function benchSource(root: string, folder: string, batches: number): Promise<void> {
  const dest = path.join(root, 'raw');
  await createDataset({ folder, dest, width: 256, height: 256, encoding: 'none', valPercent: 0 });
  const source = await LmdbBatchSource.open({
    source: path.join(dest, 'train_db'), batchSize: 100, phase: 'TRAIN', shuffle: true, seed: 1, reuseBuffers: true,
    transform: { cropSize: 227, mirror: true, meanFile: path.join(dest, 'mean.binaryproto') },
  });
  for (let i = 0; i < 5; i++) await source.next(); // warm-up: workers started, pages mapped
  const results: { wall: number; cpu: number }[] = [];
  for (let round = 0; round < 5; round++) {
    results.push(await measure(async () => {
      for (let i = 0; i < batches; i++) await source.next();
      return batches * 100;
    }));
  }
  await source.close();
  report('source  256x256 raw -> 227 crop + mirror + mean, batch 100', results, 5000);
}

/** Entry point for `npm run bench -- dataset [--images N]`. */
export async function run(args: string[]): Promise<void> {
  const imagesFlag = args.indexOf('--images');
  const count = imagesFlag >= 0 ? Number(args[imagesFlag + 1]) : 500;
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`);
  const root = mkdtempSync(path.join(os.tmpdir(), 'cudnet-bench-dataset-'));
  try {
    const folder = await generate(root, count);
    await benchImport(root, folder, 5);
    await benchSource(root, folder, 10);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
