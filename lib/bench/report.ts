// report.ts — the benchmark report as JSON: settings, machine, and per device and batch size the layers' timings and rates.
import type { AlgorithmReport } from './algorithms.js';
import type { MachineInfo } from './machine.js';
import type { LayerMeasurement, NetMeasurement } from './measure.js';
import type { DevicePeak } from './peak.js';
import type { TimingSummary } from './stats.js';

/** Written into every report so readers can tell the layout. */
export const REPORT_FORMAT = 'cudnet-bench/1';

export type Precision = 'fp32' | 'tf32';

/** A value per direction; backward is null where the layer does not run backward. */
export interface Directions<T> {
  forward: T;
  backward: T | null;
}

export interface LayerReport {
  index: number;
  name: string;
  type: string;
  topShapes: number[][];
  /** Milliseconds. */
  forward: TimingSummary;
  backward: TimingSummary | null;
  flops: Directions<number>;
  bytes: Directions<number>;
  gflops: Directions<number>;
  gbPerSecond: Directions<number>;
  /** GFLOP/s over the device's measured compute peak, GB/s over its measured copy bandwidth. */
  peakFraction: { compute: Directions<number>; memory: Directions<number> };
}

export interface RunReport {
  device: string;
  deviceDescription: string;
  batchSize: number;
  /** The precision the run used (a CPU always computes in fp32). */
  precision: Precision;
  peak: DevicePeak;
  layers: LayerReport[];
  /** Sums of the layers' medians, milliseconds. */
  layerTotals: { forward: number; backward: number };
  /** A whole iteration (forward + backward in TRAIN), milliseconds. */
  iteration: TimingSummary;
  imagesPerSecond: number;
  algorithms?: AlgorithmReport;
}

export interface BenchSettings {
  network: string;
  phase: 'TRAIN' | 'TEST';
  devices: string[];
  batchSizes: number[];
  iterations: number;
  warmup: number;
  precision: Precision;
  algorithms: boolean;
}

export interface BenchReport {
  format: typeof REPORT_FORMAT;
  createdAt: string;
  command: string[];
  settings: BenchSettings;
  machine: MachineInfo;
  runs: RunReport[];
}

/** Rates of one direction: GFLOP/s and GB/s at the median time, and their fractions of the peaks. */
function rates(flops: number, bytes: number, summary: TimingSummary, peak: DevicePeak) {
  const seconds = summary.median / 1000;
  const gflops = seconds > 0 ? flops / seconds / 1e9 : 0;
  const gbPerSecond = seconds > 0 ? bytes / seconds / 1e9 : 0;
  return { gflops, gbPerSecond, compute: gflops / peak.gflops, memory: gbPerSecond / peak.gbPerSecond };
}

/** A layer's report from its measurement and the device's peaks. */
export function layerReport(layer: LayerMeasurement, peak: DevicePeak): LayerReport {
  const { cost } = layer;
  const forward = rates(cost.forwardFlops, cost.forwardBytes, layer.forward, peak);
  const backward = layer.backward ? rates(cost.backwardFlops, cost.backwardBytes, layer.backward, peak) : null;
  return {
    index: layer.index, name: layer.name, type: layer.type, topShapes: layer.topShapes,
    forward: layer.forward, backward: layer.backward,
    flops: { forward: cost.forwardFlops, backward: layer.backward ? cost.backwardFlops : null },
    bytes: { forward: cost.forwardBytes, backward: layer.backward ? cost.backwardBytes : null },
    gflops: { forward: forward.gflops, backward: backward?.gflops ?? null },
    gbPerSecond: { forward: forward.gbPerSecond, backward: backward?.gbPerSecond ?? null },
    peakFraction: {
      compute: { forward: forward.compute, backward: backward?.compute ?? null },
      memory: { forward: forward.memory, backward: backward?.memory ?? null },
    },
  };
}

/** The report of one device and batch size. */
export function runReport(measurement: NetMeasurement, context: {
  device: string; deviceDescription: string; batchSize: number; precision: Precision; peak: DevicePeak;
  algorithms?: AlgorithmReport;
}): RunReport {
  const layers = measurement.layers.map((layer) => layerReport(layer, context.peak));
  const sum = (pick: (layer: LayerReport) => number) => layers.reduce((total, layer) => total + pick(layer), 0);
  return {
    device: context.device, deviceDescription: context.deviceDescription, batchSize: context.batchSize,
    precision: context.precision, peak: context.peak, layers,
    layerTotals: { forward: sum((layer) => layer.forward.median), backward: sum((layer) => layer.backward?.median ?? 0) },
    iteration: measurement.iteration,
    imagesPerSecond: context.batchSize / (measurement.iteration.median / 1000),
    ...(context.algorithms ? { algorithms: context.algorithms } : {}),
  };
}
