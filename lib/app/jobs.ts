// jobs.ts — JobManager: the jobs of a jobs folder, their persistence, the queue (one training per device) and the child processes that run them.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { device as resolveDevice, type DeviceName } from '../index.js';
import { AppError, notFound } from './errors.js';
import { appendLog, isJobId, newJobId, readStatus, writeStatus, type JobState, type JobStatus, type JobType } from './job-files.js';
import { listSnapshots } from './snapshots.js';
import type { WorkerMessage } from './worker-protocol.js';

export interface JobEvents {
  job: [JobStatus];
  metric: [{ jobId: string; metric: Record<string, unknown> }];
  deleted: [{ jobId: string }];
}

/** Dataset imports and evaluations that may run at once (trainings are limited per device instead). */
const CPU_SLOTS = 2;
/** How long an aborted child gets to write its snapshot before it is killed. */
const ABORT_GRACE_MS = 15000;
/** Ids drawn for one new job before giving up (each second offers 65536). */
const MAX_ID_ATTEMPTS = 1000;

export class JobManager extends EventEmitter<JobEvents> {
  private readonly jobs = new Map<string, JobStatus>();
  private readonly running = new Map<string, ChildProcess>();
  private readonly aborting = new Set<string>();
  private readonly persisted = new Map<string, Promise<void>>();

  /** `dataRoots`: the folders the jobs' workers may read server files from. */
  constructor(readonly jobsDir: string, readonly dataRoots: readonly string[] = []) {
    super();
  }

  /** Loads every job folder; jobs that were running when the server stopped become ABORT (resumable from their snapshot). */
  async load(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true });
    for (const id of (await readdir(this.jobsDir)).filter(isJobId).sort()) {
      const status = await readStatus(path.join(this.jobsDir, id)).catch(() => undefined);
      if (!status) continue;
      this.jobs.set(id, status);
      if (status.state === 'RUN') this.setState(status, 'ABORT', { error: 'The server stopped while the job ran' });
    }
    this.schedule();
  }

  list(type?: JobType): JobStatus[] {
    return [...this.jobs.values()].filter((job) => type === undefined || job.type === type);
  }

  get(id: string): JobStatus {
    const job = this.jobs.get(id);
    if (!job) throw notFound(`Job ${id}`);
    return job;
  }

  folder(id: string): string {
    return path.join(this.jobsDir, id);
  }

  /** Creates a WAIT job, with `files` written into its folder before it is queued. */
  async create(type: JobType, name: string, options: Record<string, unknown>, extra: Partial<JobStatus> = {}, files: Record<string, string> = {}): Promise<JobStatus> {
    const id = await this.newFolder();
    const now = new Date().toISOString();
    const status: JobStatus = { id, type, name, state: 'WAIT', history: [{ state: 'WAIT', time: now }], submitted: now, options, progress: 0, ...extra };
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(this.folder(id), file), text);
    this.jobs.set(id, status);
    await this.persist(status);
    this.emit('job', status);
    this.schedule();
    return status;
  }

  /**
   * A fresh job id with its folder made. The folder is made exclusively (mkdir fails when it exists), so
   * two jobs, of this server or of another on the same folder, never share one: a taken id is drawn again.
   */
  private async newFolder(): Promise<string> {
    await mkdir(this.jobsDir, { recursive: true });
    for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      const id = newJobId();
      if (this.jobs.has(id)) continue;
      try {
        await mkdir(this.folder(id));
        return id;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new AppError(503, 'No free job id could be drawn; try again in a second');
  }

  abort(id: string): JobStatus {
    const job = this.get(id);
    if (job.state === 'WAIT') this.setState(job, 'ABORT');
    else if (job.state === 'RUN') this.stopChild(id);
    else throw new AppError(409, `Job ${id} is ${job.state}, so it cannot be aborted`);
    return job;
  }

  /** A stopped training goes back to the queue, to continue from its newest solver state. */
  async resume(id: string): Promise<JobStatus> {
    const job = this.get(id);
    if (job.type !== 'model') throw new AppError(409, 'Only trainings can be resumed');
    if (job.state !== 'ABORT' && job.state !== 'ERROR') throw new AppError(409, `Job ${id} is ${job.state}; only aborted or failed trainings can be resumed`);
    const latest = (await listSnapshots(this.folder(id))).filter((snapshot) => snapshot.solverstate).pop();
    job.resumeFrom = latest?.solverstate;
    delete job.error;
    this.setState(job, 'WAIT');
    this.schedule();
    return job;
  }

  /** Models that have not yet loaded their starting weights (waiting, or started without an iteration done) whose options match. */
  startingFrom(matches: (options: Record<string, unknown>) => boolean): JobStatus[] {
    return this.list('model').filter((job) => matches(job.options) && job.resumeFrom === undefined &&
      (job.state === 'WAIT' || (job.state === 'RUN' && job.progress === 0)));
  }

  /**
   * Removes a finished job's folder with its evaluations'. Everything is checked before anything is
   * deleted: a dataset that models use, a model a training will start from, or a job (or one of its
   * evaluations) still running is a 409 that leaves every job as it was.
   */
  async delete(id: string): Promise<void> {
    const doomed = this.deletable(id);
    // Out of the list at once, so that nothing is scheduled or deleted twice while the folders go.
    for (const job of doomed) this.jobs.delete(job.id);
    for (const job of doomed) {
      await this.persisted.get(job.id);
      await rm(this.folder(job.id), { recursive: true, force: true });
      this.emit('deleted', { jobId: job.id });
    }
  }

  /** The job and every job below it (children first), or a 409 naming why one of them cannot be deleted (`top`: the job asked for). */
  private deletable(id: string, top = id): JobStatus[] {
    const job = this.get(id);
    const users = this.list().filter((other) => other.parentId === id && other.type === 'model');
    if (users.length > 0) throw new AppError(409, `The dataset is used by model(s) ${users.map((user) => `"${user.name}"`).join(', ')}; delete them first`);
    // A training that starts from this model's snapshot reads it before its first iteration.
    const waiting = this.startingFrom((options) => options.previousNetwork === id && options.previousSnapshot !== undefined);
    if (waiting.length > 0) throw new AppError(409, `Model(s) ${waiting.map((user) => `"${user.name}"`).join(', ')} will start from this model's weights; abort them first`);
    if (job.state === 'RUN' || this.running.has(id)) {
      throw new AppError(409, id === top ? 'Abort the job before deleting it' : `"${job.name}" (${id}) still runs; abort it before deleting this job`);
    }
    return [...this.list().filter((other) => other.parentId === id).flatMap((child) => this.deletable(child.id, top)), job];
  }

  /** Stops every child (server shutdown); their jobs are reloaded as ABORT on the next start. */
  async close(): Promise<void> {
    const exits = [...this.running.values()].map((child) => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }));
    await Promise.all(exits);
    await Promise.all(this.persisted.values());
  }

  private setState(job: JobStatus, state: JobState, extra: Partial<JobStatus> = {}): void {
    Object.assign(job, extra, { state });
    job.history.push({ state, time: new Date().toISOString() });
    if (state !== 'RUN') {
      delete job.eta;
      delete job.usage;
    }
    if (state === 'DONE') job.progress = 1;
    void this.persist(job);
    this.emit('job', job);
  }

  /** Writes are chained per job so an older status never lands after a newer one. */
  private persist(job: JobStatus): Promise<void> {
    const previous = this.persisted.get(job.id) ?? Promise.resolve();
    const next = previous.then(() => (this.jobs.has(job.id) ? writeStatus(this.folder(job.id), job) : undefined)).catch((error: unknown) => console.error(error));
    this.persisted.set(job.id, next);
    return next;
  }

  /** Starts what may start: jobs in submission order, one training per device, CPU_SLOTS other jobs. */
  private schedule(): void {
    for (const job of this.list().filter((entry) => entry.state === 'WAIT')) {
      const blocker = this.parentBlocker(job);
      if (blocker === 'wait') continue;
      if (blocker) {
        this.setState(job, 'ERROR', { error: blocker });
        continue;
      }
      if (!this.hasSlot(job)) continue;
      this.start(job);
    }
  }

  /** 'wait' while the parent runs, a message when it failed, undefined when it is done (or there is none). */
  private parentBlocker(job: JobStatus): string | 'wait' | undefined {
    // An evaluation needs only a snapshot of its model, which exists before the training ends.
    if (!job.parentId || job.type !== 'model') return undefined;
    const parent = this.jobs.get(job.parentId);
    if (!parent) return `Job ${job.parentId} this job needs was deleted`;
    if (parent.state === 'DONE') return undefined;
    if (parent.state === 'WAIT' || parent.state === 'RUN') return 'wait';
    return `${parent.type === 'dataset' ? 'The dataset' : 'The model'} "${parent.name}" ended ${parent.state}`;
  }

  private hasSlot(job: JobStatus): boolean {
    const runningJobs = [...this.running.keys()].map((id) => this.jobs.get(id)).filter((entry): entry is JobStatus => entry !== undefined);
    if (job.type !== 'model') return runningJobs.filter((entry) => entry.type !== 'model').length < CPU_SLOTS;
    const wanted = this.deviceOf(job);
    return !runningJobs.some((entry) => entry.type === 'model' && entry.device === wanted);
  }

  private deviceOf(job: JobStatus): string {
    try {
      return resolveDevice(String(job.options.device ?? 'auto') as DeviceName).name;
    } catch {
      return String(job.options.device);
    }
  }

  private start(job: JobStatus): void {
    if (job.type === 'model') job.device = this.deviceOf(job);
    const child = fork(workerScript(), [this.folder(job.id), JSON.stringify(this.dataRoots)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.running.set(job.id, child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    let failure: string | undefined;
    child.on('message', (message: WorkerMessage) => {
      if (message.kind === 'error') failure = message.message;
      else this.onWorkerMessage(job, message);
    });
    child.on('exit', (code, signal) => this.onExit(job, code, signal, failure ?? lastLine(stderr)));
    this.setState(job, 'RUN', { progress: job.resumeFrom ? job.progress : 0 });
    void appendLog(this.folder(job.id), `Started (pid ${child.pid})`);
  }

  private onWorkerMessage(job: JobStatus, message: WorkerMessage): void {
    if (message.kind === 'progress') {
      job.progress = message.progress;
      job.eta = message.eta;
      this.emit('job', job);
    } else if (message.kind === 'usage') {
      job.usage = message.usage;
      this.emit('job', job);
    } else if (message.kind === 'metric') this.emit('metric', { jobId: job.id, metric: message.metric });
    else if (message.kind === 'snapshot') this.emit('job', job);
    else if (message.kind === 'result') job.result = { ...job.result, ...message.result };
  }

  private onExit(job: JobStatus, code: number | null, signal: NodeJS.Signals | null, failure: string | undefined): void {
    this.running.delete(job.id);
    const aborted = this.aborting.delete(job.id);
    if (!this.jobs.has(job.id)) return;
    if (aborted || code === 3) this.setState(job, 'ABORT');
    else if (code === 0) this.setState(job, 'DONE');
    else this.setState(job, 'ERROR', { error: failure || `The job's process ended with ${signal ?? `code ${code}`}` });
    void appendLog(this.folder(job.id), `Ended ${job.state}${job.error ? `: ${job.error}` : ''}`);
    this.schedule();
  }

  /** Asks the child to stop (a training writes its snapshot first); kills it if it does not end in time. */
  private stopChild(id: string): void {
    const child = this.running.get(id)!;
    this.aborting.add(id);
    child.send({ kind: 'abort' });
    setTimeout(() => {
      if (this.running.get(id) === child) child.kill('SIGKILL');
    }, ABORT_GRACE_MS).unref();
  }
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').pop() || undefined;
}

/** worker.js beside this file once compiled; worker.ts when run from the sources (the TypeScript loader is inherited through execArgv). */
function workerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = path.join(here, 'worker.js');
  return existsSync(compiled) ? compiled : path.join(here, 'worker.ts');
}
