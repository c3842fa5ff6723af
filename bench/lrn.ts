// lrn.ts — benchmark of AlexNet's norm1 LRN (16x96x55x55, n 5, alpha 1e-4, beta 0.75), forward and backward.
// Run: `npm run bench -- lrn [--device cpu|cuda:0] [--batch 16] [--repeats 21]`, or after `npm run build`:
//   node dist/bench/lrn.js
// LRN is memory bound, so besides milliseconds it prints the bytes the kernels must move per second,
// next to a plain tensor copy of the same size timed in the same run (the machine's practical bandwidth).
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Tensor, device, type DeviceName } from '../lib/index.js';
import { lrnBackward, lrnForward, type LrnOptions } from '../lib/ops/lrn.js';

interface Summary { median: number; low: number; high: number }

function summarize(seconds: number[]): Summary {
  const sorted = [...seconds].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], low: sorted[0], high: sorted[sorted.length - 1] };
}

/** Seconds per call of `run` (after two warm-up calls), waiting for the device after each. */
async function timeOp(on: DeviceName, run: () => void, repeats: number): Promise<Summary> {
  const target = device(on);
  for (let r = 0; r < 2; r++) run();
  await target.synchronize();
  const seconds: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    run();
    await target.synchronize();
    seconds.push((performance.now() - start) / 1000);
  }
  return summarize(seconds);
}

function option(args: string[], name: string, fallback: string): string {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && index + 1 < args.length ? args[index + 1] : fallback;
}

const line = (what: string, s: Summary, bytes: number) =>
  `  ${what.padEnd(18)} ${(s.median * 1e3).toFixed(2).padStart(7)} ms  ` +
  `(${(s.low * 1e3).toFixed(2)}..${(s.high * 1e3).toFixed(2)})  ${(bytes / s.median / 1e9).toFixed(1).padStart(5)} GB/s`;

/** Times norm1 forward, backward and both, and a same-size copy as the bandwidth baseline. */
export async function run(args: string[] = []): Promise<void> {
  const on = option(args, 'device', 'cpu') as DeviceName;
  const batch = Number(option(args, 'batch', '16'));
  const repeats = Number(option(args, 'repeats', '21'));
  const shape = [batch, 96, 55, 55];
  const options: LrnOptions = { localSize: 5, alpha: 1e-4, beta: 0.75, k: 1, region: 'ACROSS_CHANNELS' };
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical cores; ` +
    `cudnet device: ${device(on).description}`);

  const count = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = Math.sin(i * 12.9898) * 50;
  const x = Tensor.from(values, shape, on), dy = Tensor.from(values.map((v) => v / 100), shape, on);
  const y = Tensor.empty(shape, on), scale = Tensor.empty(shape, on), dx = Tensor.empty(shape, on);
  // The copy baseline cycles through pairs whose total (149 MB at batch 16) exceeds the L3 cache,
  // so it measures memory, as the LRN timings do.
  const copies = Array.from({ length: 4 }, () => [Tensor.from(values, shape, on), Tensor.empty(shape, on)]);
  let nextCopy = 0;

  // Bytes each kernel must move at least: forward reads x, writes y and scale; backward reads
  // x, y, scale and dy and writes dx; a copy reads and writes one tensor.
  const tensorBytes = count * 4;
  const forward = await timeOp(on, () => lrnForward(x, y, scale, options), repeats);
  const backward = await timeOp(on, () => lrnBackward(x, y, scale, dy, dx, options), repeats);
  const both = await timeOp(on, () => {
    lrnForward(x, y, scale, options);
    lrnBackward(x, y, scale, dy, dx, options);
  }, repeats);
  const baseline = await timeOp(on, () => {
    const [source, destination] = copies[nextCopy++ % copies.length];
    destination.copyFrom(source);
  }, repeats);

  console.log(`LRN norm1 ${shape.join('x')} ACROSS_CHANNELS n 5, median of ${repeats} runs (fastest..slowest):`);
  console.log(line('forward', forward, 3 * tensorBytes));
  console.log(line('backward', backward, 5 * tensorBytes));
  console.log(line('forward+backward', both, 8 * tensorBytes));
  console.log(line('copy (baseline)', baseline, 2 * tensorBytes));
  for (const tensor of [x, dy, y, scale, dx, ...copies.flat()]) tensor.dispose();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
