// machine.ts — what a report was measured on: CPU, GPUs and their libraries, Node, cudnet's version and commit.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import type { Device } from '../device.js';
import { packageRoot } from '../native.js';

export interface GpuInfo {
  device: string;
  name: string;
  /** The device's whole description as cudnet reports it. */
  description: string;
  /** The kernel driver's version (from /proc/driver/nvidia/version), when readable. */
  driver: string | null;
  /** The CUDA version the driver supports. */
  cuda: string | null;
  cudnn: string | null;
  cublas: string | null;
}

export interface MachineInfo {
  cpu: { model: string; cores: number; description: string };
  memoryBytes: number;
  os: string;
  node: string;
  gpus: GpuInfo[];
  cudnet: { version: string; commit: string | null };
}

/** The first match of `pattern`'s group 1 in `text`, or null. */
function pick(text: string, pattern: RegExp): string | null {
  return pattern.exec(text)?.[1] ?? null;
}

/** The NVIDIA kernel driver's version, e.g. "550.54.15"; null where the file is absent. */
function nvidiaDriverVersion(): string | null {
  try {
    return pick(readFileSync('/proc/driver/nvidia/version', 'utf8'), /Kernel Module\s+(?:for \S+\s+)?([\d.]+)/);
  } catch {
    return null;
  }
}

/** A GPU from its description: "NAME (sm_90, 132 SMs), 81559 MiB, driver CUDA 12.4, cuDNN 9.1.0, cuBLAS 12.4.5". */
export function gpuInfo(device: Device): GpuInfo {
  const text = device.description;
  return {
    device: device.name, name: text.split(/ \(sm_|, /)[0], description: text, driver: nvidiaDriverVersion(),
    cuda: pick(text, /CUDA ([\d.]+)/), cudnn: pick(text, /cuDNN ([\d.]+)/), cublas: pick(text, /cuBLAS ([\d.]+)/),
  };
}

/** `git rev-parse HEAD` in the package folder; null without git or outside a checkout. */
function gitCommit(folder: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: folder, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 })
      .toString().trim() || null;
  } catch {
    return null;
  }
}

/** The machine and the cudnet build; `devices` are those the run used (GPUs listed with their libraries). */
export function machineInfo(devices: readonly Device[]): MachineInfo {
  const root = packageRoot();
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const cpu = devices.find((device) => device.kind === 'cpu');
  return {
    cpu: { model: cpus()[0]?.model ?? 'unknown CPU', cores: cpus().length, description: cpu?.description ?? '' },
    memoryBytes: totalmem(),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    gpus: devices.filter((device) => device.kind === 'cuda').map(gpuInfo),
    cudnet: { version: manifest.version, commit: gitCommit(root) },
  };
}
