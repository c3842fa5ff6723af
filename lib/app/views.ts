// views.ts — what the API shows of a job: a summary row for lists and events, and the details of one job.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runSeconds, type JobStatus } from './job-files.js';
import { listSnapshots } from './snapshots.js';

/** The row of the home page: status, times, progress. */
export function jobSummary(job: JobStatus) {
  return {
    id: job.id, type: job.type, name: job.name, state: job.state, submitted: job.submitted, progress: job.progress,
    eta: job.eta, seconds: runSeconds(job), error: job.error, parentId: job.parentId, device: job.device,
    history: job.history, result: job.type === 'evaluate' ? undefined : job.result, usage: job.usage,
  };
}

/** metrics.jsonl of a model job: every train and val point so far. */
export async function readMetrics(folder: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path.join(folder, 'metrics.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** What a model started from; the file only when it is the data-root path the form named (the others lie in the jobs folder, which the browser has no use for). */
function pretrainedView(pretrained: JobStatus['pretrained']) {
  if (!pretrained || pretrained.source === 'path') return pretrained;
  const { file: _file, ...shown } = pretrained;
  return shown;
}

export async function modelDetails(job: JobStatus, folder: string) {
  return { ...jobSummary(job), options: job.options, pretrained: pretrainedView(job.pretrained), resumeFrom: job.resumeFrom, snapshots: await listSnapshots(folder), metrics: await readMetrics(folder) };
}
