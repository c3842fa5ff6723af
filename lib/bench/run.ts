// run.ts — runs a benchmark: for each device and batch size, build the net, time it, and collect the report.
import { device as openDevice, devices as deviceNames, type Device, type DeviceName } from '../device.js';
import { CudnetError, fromNativeError } from '../errors.js';
import { native } from '../native.js';
import { Net } from '../net/index.js';
import { convolutionAlgorithms } from './algorithms.js';
import { machineInfo } from './machine.js';
import { measureNet } from './measure.js';
import { fragmentError } from './fragment.js';
import { FRAGMENT_SOURCE, type BenchNetwork } from './network.js';
import { measurePeak, type DevicePeak } from './peak.js';
import { REPORT_FORMAT, runReport, type BenchReport, type BenchSettings, type Precision, type RunReport } from './report.js';

/** The TF32 switch of native/binding/ops/cuda_algorithms.cpp. */
interface PrecisionEntries {
  setCudaTf32(device: string, enabled: boolean): Promise<string>;
}

export interface RunOptions {
  /** 'cpu', 'cuda:N', 'cuda', or 'all' (every device this machine has). */
  device: string;
  batchSizes: number[];
  iterations: number;
  warmup: number;
  precision: Precision;
  algorithms: boolean;
  /** The command line, recorded in the report. */
  command?: string[];
  /** Shorter peak measurements (tests). */
  quickPeak?: boolean;
  /** Called as each run finishes (the CLI prints it). */
  onRun?: (run: RunReport) => void;
  onProgress?: (message: string) => void;
}

/** The devices of --device: 'all' is every device the machine can use, CPU first. */
export function resolveDevices(name: string): Device[] {
  if (name === 'all') return deviceNames().map((each) => openDevice(each as DeviceName));
  return [openDevice(name as DeviceName)];
}

/** Turns TF32 on or off on a GPU (a CPU always computes in fp32, so it is left alone). */
export async function applyPrecision(device: Device, precision: Precision): Promise<Precision> {
  if (device.kind === 'cpu') return 'fp32';
  try {
    await (native as unknown as PrecisionEntries).setCudaTf32(device.name, precision === 'tf32');
  } catch (error) {
    throw fromNativeError(error);
  }
  return precision;
}

/** Builds the net at one batch size; a --layer fragment's build errors quote the fragment. */
function buildNet(network: BenchNetwork, target: Device, batchSize: number): Net {
  try {
    return Net.fromParameter(network.build(batchSize), { phase: network.phase, device: target, seed: 1, file: network.file });
  } catch (error) {
    if (network.file !== FRAGMENT_SOURCE) throw error;
    const reason = ((error as Error).message ?? String(error)).replace(/^layer '[^']*' \([^)]*\): /, '');
    throw fragmentError(network.label, `${reason} (with input ${network.inputDescription ?? ''})`);
  }
}

/** Times a built net and disposes of it. */
async function runOne(net: Net, batchSize: number, peak: DevicePeak, precision: Precision, options: RunOptions): Promise<RunReport> {
  try {
    const measurement = await measureNet(net, { iterations: options.iterations, warmup: options.warmup });
    const algorithms = options.algorithms ? await convolutionAlgorithms(net, net.device) : undefined;
    return runReport(measurement, {
      device: net.device.name, deviceDescription: net.device.description, batchSize, precision, peak, algorithms,
    });
  } finally {
    net.dispose();
  }
}

/** Runs every device and batch size in turn; the peaks are measured once per device, before its runs. */
export async function runBenchmark(network: BenchNetwork, options: RunOptions): Promise<BenchReport> {
  if (options.batchSizes.length === 0) throw new CudnetError('USAGE', 'no batch sizes to run');
  const targets = resolveDevices(options.device);
  const runs: RunReport[] = [];
  for (const target of targets) {
    const precision = await applyPrecision(target, options.precision);
    try {
      let peak: DevicePeak | undefined;
      for (const batchSize of options.batchSizes) {
        options.onProgress?.(`${network.label} on ${target.name}, batch ${batchSize}`);
        // Built before the peaks are measured, so a net that cannot be built fails at once.
        const net = buildNet(network, target, batchSize);
        peak ??= await measurePeak(target, options.quickPeak);
        const run = await runOne(net, batchSize, peak, precision, options);
        runs.push(run);
        options.onRun?.(run);
      }
    } finally {
      if (precision === 'tf32') await applyPrecision(target, 'fp32');
    }
  }
  const settings: BenchSettings = {
    network: network.label, phase: network.phase, devices: targets.map((target) => target.name),
    batchSizes: options.batchSizes, iterations: options.iterations, warmup: options.warmup,
    precision: options.precision, algorithms: options.algorithms,
  };
  return {
    format: REPORT_FORMAT, createdAt: new Date().toISOString(), command: options.command ?? [], settings,
    machine: machineInfo(targets), runs,
  };
}
