// job-files.ts — a job's folder on disk: status.json (written atomically), its log, ids and durations.
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceUsage } from './usage.js';

export type JobState = 'WAIT' | 'RUN' | 'DONE' | 'ABORT' | 'ERROR';
export type JobType = 'dataset' | 'model' | 'evaluate';

export interface JobStatus {
  id: string;
  type: JobType;
  name: string;
  state: JobState;
  /** Every state change with its time (ISO). */
  history: { state: JobState; time: string }[];
  submitted: string;
  /** The validated form the job was made from (clone pre-fills the form with it). */
  options: Record<string, unknown>;
  /** 0..1 */
  progress: number;
  /** Seconds left, while running. */
  eta?: number;
  error?: string;
  /** The dataset a model trains on, or the model an evaluation uses. */
  parentId?: string;
  /** What the job produced (dataset summary, evaluation results, ...). */
  result?: Record<string, unknown>;
  /** Where a training runs ('cpu', 'cuda:0'). */
  device?: string;
  /** The weights a training started from: a .caffemodel under a data root, an uploaded one, or a previous model's snapshot. */
  pretrained?: { source: 'path' | 'upload' | 'previous'; file: string; upload?: string; name?: string; model?: string; snapshot?: number };
  /** A resumed training starts from this .solverstate (file name in the job folder). */
  resumeFrom?: string;
  /** The latest device figures of a running training: kept in memory only, never written to status.json. */
  usage?: DeviceUsage;
}

export const STATUS_FILE = 'status.json';
export const LOG_FILE = 'log.txt';

/** DIGITS' job id form: YYYYMMDD-HHMMSS-xxxx. */
export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/\..*$/, '').replace(/[-:]/g, '').replace('T', '-');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function isJobId(text: string): boolean {
  return /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(text);
}

/** Writes status.json through a temporary file and a rename, so a crash never leaves half a file. */
export async function writeStatus(folder: string, status: JobStatus): Promise<void> {
  const temporary = path.join(folder, `${STATUS_FILE}.${process.pid}.tmp`);
  const { usage: _usage, ...stored } = status;
  await writeFile(temporary, `${JSON.stringify(stored, null, 2)}\n`);
  await rename(temporary, path.join(folder, STATUS_FILE));
}

export async function readStatus(folder: string): Promise<JobStatus> {
  return JSON.parse(await readFile(path.join(folder, STATUS_FILE), 'utf8')) as JobStatus;
}

export async function appendLog(folder: string, line: string): Promise<void> {
  await appendFile(path.join(folder, LOG_FILE), `${new Date().toISOString()} ${line}\n`);
}

/** Seconds from the first RUN to the last state (or now while running). */
export function runSeconds(status: JobStatus, now = Date.now()): number {
  const started = status.history.find((entry) => entry.state === 'RUN');
  if (!started) return 0;
  const running = status.state === 'RUN' || status.state === 'WAIT';
  const end = running ? now : Date.parse(status.history[status.history.length - 1]!.time);
  return Math.max(0, (end - Date.parse(started.time)) / 1000);
}
