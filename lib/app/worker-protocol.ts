// worker-protocol.ts — the messages a job's child process sends to the server.
export type WorkerMessage =
  | { kind: 'progress'; progress: number; eta?: number }
  | { kind: 'metric'; metric: Record<string, unknown> }
  | { kind: 'snapshot'; iter: number }
  | { kind: 'result'; result: Record<string, unknown> }
  | { kind: 'error'; message: string };
