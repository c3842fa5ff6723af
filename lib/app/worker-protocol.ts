// worker-protocol.ts — the messages a job's child process sends to the server.
import type { DeviceUsage } from './usage.js';

export type WorkerMessage =
  | { kind: 'progress'; progress: number; eta?: number }
  /** A training's device figures, about every second while it runs. */
  | { kind: 'usage'; usage: DeviceUsage }
  | { kind: 'metric'; metric: Record<string, unknown> }
  | { kind: 'snapshot'; iter: number }
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; message: string };
