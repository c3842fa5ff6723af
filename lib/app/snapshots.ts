// snapshots.ts — a model job's snapshots on disk, and the model source (files + preprocessing) that loadModel reads for one of them.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadModelOptions } from '../index.js';
import { AppError } from './errors.js';

export interface SnapshotInfo {
  iter: number;
  epoch: number;
  caffemodel: string;
  solverstate?: string;
}

/** What the worker recorded about the run (plan.json): iterations per epoch, the dataset's image settings. */
export interface RunPlanFile {
  itersPerEpoch: number;
  maxIter: number;
  batchSize: number;
  inputShape: [number, number, number];
  image: { width: number; height: number; channels: number; resizeMode: string };
  mean: 'none' | 'image' | 'pixel';
  meanValues?: number[];
  scale: number;
}

export async function readRunPlan(folder: string): Promise<RunPlanFile | undefined> {
  return readFile(path.join(folder, 'plan.json'), 'utf8').then((text) => JSON.parse(text) as RunPlanFile, () => undefined);
}

/** snapshot_iter_N.caffemodel files, oldest first, with their epochs and solver states. */
export async function listSnapshots(folder: string): Promise<SnapshotInfo[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const plan = await readRunPlan(folder);
  return names
    .map((name) => /^snapshot_iter_(\d+)\.caffemodel$/.exec(name))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => {
      const iter = Number(match[1]);
      const solverstate = `snapshot_iter_${iter}.solverstate`;
      return { iter, epoch: plan ? iter / plan.itersPerEpoch : 0, caffemodel: match[0], ...(names.includes(solverstate) ? { solverstate } : {}) };
    })
    .sort((a, b) => a.iter - b.iter);
}

/** The snapshot at `iter`, or the newest when none is asked for. */
export async function findSnapshot(folder: string, iter?: number): Promise<SnapshotInfo> {
  const snapshots = await listSnapshots(folder);
  const found = iter === undefined ? snapshots[snapshots.length - 1] : snapshots.find((snapshot) => snapshot.iter === iter);
  if (!found) throw new AppError(iter === undefined ? 409 : 404, iter === undefined ? 'The model has no snapshot yet' : `The model has no snapshot at iteration ${iter}`, 'snapshot');
  return found;
}

type ExplicitSource = Exclude<Parameters<typeof import('../index.js').loadModel>[0], string>;

/** deploy.prototxt, the chosen .caffemodel, labels, mean and the preprocessing training used. */
export async function modelSource(folder: string, iter?: number): Promise<ExplicitSource> {
  const snapshot = await findSnapshot(folder, iter);
  const plan = await readRunPlan(folder);
  if (!plan) throw new AppError(409, 'The model has no plan.json (training never started)');
  return {
    deploy: path.join(folder, 'deploy.prototxt'),
    weights: path.join(folder, snapshot.caffemodel),
    labels: path.join(folder, 'labels.txt'),
    ...(plan.mean === 'image' ? { mean: path.join(folder, 'mean.binaryproto') } : {}),
    preprocessing: {
      resizeWidth: plan.image.width, resizeHeight: plan.image.height,
      resizeMode: plan.image.resizeMode as 'squash', mean: plan.mean, scale: plan.scale,
      ...(plan.meanValues ? { meanValues: plan.meanValues } : {}),
    },
  };
}

export type { LoadModelOptions };
