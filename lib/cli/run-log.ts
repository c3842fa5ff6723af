// run-log.ts — the training log: one JSON object per line (log.jsonl), appended as display and test events happen.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface LogRecord {
  type: 'train' | 'val' | 'snapshot' | 'done' | 'stopped';
  epoch: number;
  iter: number;
  loss?: number;
  lr?: number;
  accuracy?: number;
  imagesPerSecond?: number;
  /** Seconds since training started. */
  time: number;
  [extra: string]: unknown;
}

/** Appends records to a .jsonl file; close() waits until everything is on disk. */
export class RunLog {
  private readonly stream: WriteStream;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'a' });
  }

  write(record: LogRecord): void {
    this.stream.write(`${JSON.stringify(record)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(resolve);
    });
  }
}
