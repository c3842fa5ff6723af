// Progress reports of an import: phase, counts, a smoothed images-per-second rate and the time left.

export type ImportPhase = 'scan' | 'train' | 'val' | 'test' | 'finish';

export interface ImportProgress {
  phase: ImportPhase;
  done: number;
  total: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export type ProgressListener = (progress: ImportProgress) => void;

/** Tracks one phase; reports at most every `intervalMs` (and always at the end) so listeners stay cheap. */
export class ProgressTracker {
  private startedAt = performance.now();
  private lastReport = 0;

  constructor(private readonly phase: ImportPhase, private readonly total: number, private readonly listener: ProgressListener | undefined, private readonly intervalMs = 200) {}

  update(done: number): void {
    if (this.listener === undefined) return;
    const now = performance.now();
    if (done < this.total && now - this.lastReport < this.intervalMs) return;
    this.lastReport = now;
    const seconds = (now - this.startedAt) / 1000;
    const imagesPerSecond = seconds > 0 ? done / seconds : 0;
    const etaSeconds = imagesPerSecond > 0 ? Math.max(0, (this.total - done) / imagesPerSecond) : 0;
    this.listener({ phase: this.phase, done, total: this.total, imagesPerSecond, etaSeconds });
  }
}
