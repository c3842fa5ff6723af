// peak.ts — the device's measured peaks (GFLOP/s and GB/s), the yardsticks of each layer's fraction of peak.
import type { Device } from '../device.js';
import { native } from '../native.js';
import { gemm } from '../ops/gemm.js';
import { Tensor } from '../tensor.js';
import { summarize } from './stats.js';

/** The FMA-loop entry of native/binding/ops/bench.cpp. */
interface PeakEntries {
  benchFmaPeak(seconds: number): Promise<number>;
}

export interface DevicePeak {
  gflops: number;
  gbPerSecond: number;
  /** How each was measured, for the report. */
  method: { compute: string; memory: string };
}

/**
 * The fastest of `runs` calls of `run`, in milliseconds, each timed to device.synchronize(), after two
 * untimed ones: a peak is the best the device attains, and on a shared machine the median understates it.
 */
async function fastestMs(device: Device, run: () => void, runs: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs + 2; r++) {
    await device.synchronize();
    const start = performance.now();
    run();
    await device.synchronize();
    if (r >= 2) times.push(performance.now() - start);
  }
  return summarize(times).min;
}

/** Copy bandwidth: a `floats`-element device-to-device copy reads and writes every byte once. */
async function copyBandwidth(device: Device, floats: number): Promise<number> {
  const source = Tensor.zeros([floats], device, 1), target = Tensor.empty([floats], device);
  const ms = await fastestMs(device, () => void target.copyFrom(source), 5);
  source.dispose();
  target.dispose();
  return (2 * floats * 4) / (ms / 1000) / 1e9;
}

/** GFLOP/s of an n x n x n GEMM through ops.gemm (2*n^3 operations). */
async function gemmRate(device: Device, n: number): Promise<number> {
  const a = Tensor.zeros([n, n], device, 0.5), b = Tensor.zeros([n, n], device, 0.25), c = Tensor.empty([n, n], device);
  const ms = await fastestMs(device, () => void gemm(a, b, c), 5);
  for (const tensor of [a, b, c]) tensor.dispose();
  return (2 * n ** 3) / (ms / 1000) / 1e9;
}

/** The best of `tries` runs of bench.cpp's FMA loop, `seconds` each. */
async function fmaPeak(tries: number, seconds: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < tries; i++) best = Math.max(best, await (native as unknown as PeakEntries).benchFmaPeak(seconds));
  return best;
}

/**
 * Measures the peaks once per device. CPU: the FMA-only loop on every thread of the CPU pool
 * (bench.cpp's benchFmaPeak) and a 64 MiB copy. GPU: a 4096³ GEMM through ops.gemm and a 256 MiB
 * device copy — attainable peaks of our own code, not the datasheet's.
 */
export async function measurePeak(device: Device, quick = false): Promise<DevicePeak> {
  if (device.kind === 'cpu') {
    const gflops = await fmaPeak(quick ? 1 : 3, quick ? 0.1 : 0.3);
    const gbPerSecond = await copyBandwidth(device, (quick ? 4 : 16) << 20);
    return { gflops, gbPerSecond, method: { compute: `FMA loop on every thread (benchFmaPeak), best of ${quick ? 1 : 3}`, memory: `copy of ${quick ? 16 : 64} MiB` } };
  }
  const gflops = await gemmRate(device, 4096);
  const gbPerSecond = await copyBandwidth(device, 64 << 20);
  return { gflops, gbPerSecond, method: { compute: 'SGEMM 4096x4096x4096 through ops.gemm', memory: 'device copy of 256 MiB' } };
}
