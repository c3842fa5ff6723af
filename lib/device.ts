// device.ts — devices: 'cpu', 'cuda', 'cuda:N' or 'auto'; listing, synchronising and memory reports.
import { CudnetError, fromNativeError, invalidArgument } from './errors.js';
import { native } from './native.js';

/** A device tensors live on and ops run on. Each device runs its ops in order on its own stream. */
export class Device {
  private constructor(
    /** "cpu" or "cuda:N". */
    readonly name: string,
    /** What the device is: CPU model and threads, or GPU name and library versions. */
    readonly description: string,
  ) {}

  private deterministicSetting = false;

  get kind(): 'cpu' | 'cuda' {
    return this.name === 'cpu' ? 'cpu' : 'cuda';
  }

  /**
   * Resolves once every op queued on this device has run; rejects with the first op failure since the
   * previous synchronize (a read rejects only for failures of the ops that wrote what it reads).
   */
  async synchronize(): Promise<void> {
    try {
      await native.synchronize(this.name);
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** Bytes and tensors alive on this device, and bytes cached by its allocator. */
  memory(): { bytes: number; tensors: number; cachedBytes: number } {
    const entry = native.memory()[this.name] ?? { bytes: 0, tensors: 0, cachedBytes: 0 };
    return { bytes: entry.bytes, tensors: entry.tensors, cachedBytes: entry.cachedBytes };
  }

  /** Whether convolutions are restricted to deterministic algorithms (see setDeterministic). */
  get deterministic(): boolean {
    return this.deterministicSetting;
  }

  /**
   * On a GPU, true restricts convolutions to the cuDNN algorithms marked deterministic, which give the
   * same bits on every run; false (the default) lets the fastest run, some of which add with atomics in
   * an order that changes between runs. Ops queued before the call keep the old setting. The CPU has one
   * algorithm per op, so there the setting is only recorded.
   */
  async setDeterministic(enabled: boolean): Promise<void> {
    if (typeof enabled !== 'boolean') throw invalidArgument('true or false', 'enabled', enabled);
    if (this.kind === 'cuda') {
      try {
        await native.setCudaDeterministic(this.name, enabled);
      } catch (error) {
        throw fromNativeError(error);
      }
    }
    this.deterministicSetting = enabled;
  }

  /** Releases blocks the device's allocator keeps for reuse (a no-op on the CPU). */
  emptyCache(): void {
    native.emptyCache(this.name);
  }

  toString(): string {
    return this.name;
  }

  private static readonly opened = new Map<string, Device>();

  /** @internal Opens a device by its exact name (throws with what is missing). */
  static open(name: string): Device {
    const known = Device.opened.get(name);
    if (known) return known;
    let info: { name: string; description: string };
    try {
      info = native.openDevice(name);
    } catch (error) {
      throw fromNativeError(error);
    }
    const device = new Device(info.name, info.description);
    Device.opened.set(name, device);
    Device.opened.set(info.name, device);
    return device;
  }
}

export type DeviceName = 'cpu' | 'cuda' | 'auto' | `cuda:${number}`;

const DEVICE_PATTERN = /^(cpu|cuda|auto|cuda:\d+)$/;

/** Names of the devices this machine can use: "cpu" first, then "cuda:0", ... */
export function devices(): string[] {
  return native.devices().names;
}

/** Why no CUDA device can be used (empty when one can): what is missing and where the loader looked. */
export function cudaUnavailableReason(): string {
  return native.devices().cudaUnavailable;
}

/**
 * Returns a device. 'auto' picks the first GPU if there is one, else the CPU; 'cuda' is 'cuda:0'.
 * Asking for a GPU that cannot be used throws one error that says what is missing.
 */
export function device(name: DeviceName | Device = 'auto'): Device {
  if (name instanceof Device) return name;
  if (typeof name !== 'string' || !DEVICE_PATTERN.test(name))
    throw invalidArgument("'cpu', 'cuda', 'cuda:N' or 'auto'", 'device', name);
  if (name === 'auto') {
    const gpu = devices().find((candidate) => candidate.startsWith('cuda:'));
    return Device.open(gpu ?? 'cpu');
  }
  const resolved = name === 'cuda' ? 'cuda:0' : name;
  if (resolved !== 'cpu' && !devices().includes(resolved)) {
    const reason = cudaUnavailableReason();
    throw new CudnetError('CUDA_UNAVAILABLE', `device ${resolved} is not available: ${reason || 'no such CUDA device'}`);
  }
  return Device.open(resolved);
}

/** Bytes and tensors alive on every device opened so far. */
export function memory(): Record<string, { bytes: number; tensors: number; cachedBytes: number }> {
  const report: Record<string, { bytes: number; tensors: number; cachedBytes: number }> = {};
  for (const [name, entry] of Object.entries(native.memory()))
    report[name] = { bytes: entry.bytes, tensors: entry.tensors, cachedBytes: entry.cachedBytes };
  return report;
}
