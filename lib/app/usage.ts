// usage.ts — what a training reports about its device every second: memory in use / cached / total and utilisation, sampled inside the worker.
import os from 'node:os';
import { device as openDevice, memory, type DeviceName } from '../index.js';

export interface DeviceUsage {
  /** 'cpu' or 'cuda:N'. */
  device: string;
  /** The library's description of the device (CPU model and threads; GPU name, memory and versions). */
  description: string;
  /** When the figures were taken (ISO). */
  time: string;
  /** CPU: the training process's resident memory; CUDA: bytes of the library's live tensors on the device. */
  memoryUsed: number;
  /** Bytes the library's allocator keeps cached on the device for reuse. */
  memoryCached: number;
  /** CPU: the machine's memory; CUDA: the device memory its description reports; null where unknown. */
  memoryTotal: number | null;
  /** Bytes of the library's live tensors on the device (on the CPU, part of memoryUsed). */
  tensorBytes: number;
  /** CPU: the process's CPU time over the last few seconds in % of one core (0 to 100 × cores); null where unknown (CUDA: no NVML). */
  utilization: number | null;
  /** Logical cores of the machine. */
  cores: number;
  /** Why a figure is missing. */
  note?: string;
}

/** Utilisation is averaged over this much of the recent past. */
const WINDOW_MS = 3000;

/** Samples the figures of one device for the process it runs in; utilisation needs two samples, so the first is null. */
export class UsageSampler {
  private readonly samples: { at: number; cpuMicros: number }[] = [];
  private readonly name: string;
  private readonly description: string;
  private readonly cores = os.availableParallelism();

  constructor(deviceName: string) {
    const device = openDevice(deviceName as DeviceName);
    this.name = device.name;
    this.description = device.description;
  }

  sample(): DeviceUsage {
    const now = performance.now();
    const cpu = process.cpuUsage();
    this.samples.push({ at: now, cpuMicros: cpu.user + cpu.system });
    while (this.samples.length > 2 && now - this.samples[1]!.at >= WINDOW_MS) this.samples.shift();
    const library = memory()[this.name] ?? { bytes: 0, cachedBytes: 0, tensors: 0 };
    const base = { device: this.name, description: this.description, time: new Date().toISOString(), memoryCached: library.cachedBytes, tensorBytes: library.bytes, cores: this.cores };
    if (this.name !== 'cpu') {
      const mib = /(\d+) MiB/.exec(this.description);
      return {
        ...base, memoryUsed: library.bytes, memoryTotal: mib ? Number(mib[1]) * 1024 * 1024 : null, utilization: null,
        note: 'utilisation not available (the library has no NVML)',
      };
    }
    const oldest = this.samples[0]!;
    const elapsedMicros = (now - oldest.at) * 1000;
    const utilization = this.samples.length > 1 && elapsedMicros > 0
      ? Math.min(100 * this.cores, Math.max(0, (100 * (cpu.user + cpu.system - oldest.cpuMicros)) / elapsedMicros))
      : null;
    return { ...base, memoryUsed: process.memoryUsage.rss(), memoryTotal: os.totalmem(), utilization };
  }
}
