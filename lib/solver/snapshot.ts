// snapshot.ts — snapshot file names, atomic writes (temporary files, then renames), leftovers of killed runs, and solverstate packing.
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CaffeBlob, SolverState } from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import { makeFolder, processIsGone } from '../files.js';
import type { Tensor } from '../tensor.js';

/** Caffe's names: "<prefix>_iter_<iter>.caffemodel" and ".solverstate". */
export function snapshotPaths(prefix: string, iter: number): { caffemodel: string; solverstate: string } {
  const stem = `${prefix}_iter_${iter}`;
  return { caffemodel: `${stem}.caffemodel`, solverstate: `${stem}.solverstate` };
}

/** The temporary name a file is written under before its rename: "<path>.<pid>.tmp". */
const temporaryName = (path: string): string => `${path}.${process.pid}.tmp`;

/**
 * Writes files so that a reader never sees a half-written one: each into "<path>.<pid>.tmp" in the
 * same folder, then renamed over its path (rename is atomic within a file system). No file is
 * renamed into place before every file is completely written; the renames follow in order. A snapshot writes its .caffemodel then its .solverstate this way: while the process
 * lives, a .caffemodel without its .solverstate always has the solverstate's "<pid>.tmp" beside it.
 */
export async function writeFilesAtomic(files: readonly (readonly [string, Uint8Array | string])[]): Promise<void> {
  for (const [path] of files) await makeFolder(dirname(path), `Snapshot folder "${dirname(path)}"`);
  try {
    for (const [path, bytes] of files) await writeFile(temporaryName(path), bytes);
    for (const [path] of files) await rename(temporaryName(path), path);
  } catch (error) {
    // The write's own error is the one to report; a temporary that cannot be removed is left for the next run to clean.
    await Promise.allSettled(files.map(([path]) => rm(temporaryName(path), { force: true })));
    throw error;
  }
}

/** The iterations of `<prefix>_iter_N` snapshots in `names` whose .caffemodel and .solverstate are both in place. */
export function completeSnapshots(names: readonly string[], prefix: string): number[] {
  const present = new Set(names);
  const iterations: number[] = [];
  for (const name of names) {
    const iteration = snapshotIteration(name, prefix);
    if (iteration !== undefined && present.has(snapshotPaths(prefix, iteration).solverstate)) iterations.push(iteration);
  }
  return iterations.sort((a, b) => a - b);
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function snapshotIteration(name: string, prefix: string): number | undefined {
  if (!name.startsWith(`${prefix}_iter_`) || !name.endsWith('.caffemodel')) return undefined;
  const text = name.slice(prefix.length + 6, -'.caffemodel'.length);
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Removes what a killed run left in `folder`: the "<pid>.tmp" files of `<prefix>_iter_N` snapshots
 * whose process is gone, and the .caffemodel of a snapshot cut short (no .solverstate, and a
 * temporary solverstate of a process that is gone beside it). A .caffemodel alone with no such sign (weights
 * copied in, solverstates deleted to save space) is left alone; completeSnapshots never lists it.
 * Returns the names removed.
 */
export async function removeSnapshotLeftovers(folder: string, prefix: string): Promise<string[]> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const abandoned = new Set<string>();
  const temporary = new RegExp(`^${escapeRegExp(prefix)}_iter_\\d+\\.(?:caffemodel|solverstate)\\.(\\d+)\\.tmp$`);
  for (const name of names) {
    const match = temporary.exec(name);
    if (match !== null && processIsGone(Number(match[1]))) abandoned.add(name);
  }
  const cutShort = names.filter((name) => {
    const iteration = snapshotIteration(name, prefix);
    if (iteration === undefined) return false;
    const { solverstate } = snapshotPaths(prefix, iteration);
    return !names.includes(solverstate) && [...abandoned].some((temporary) => temporary.startsWith(`${solverstate}.`));
  });
  const removed = [...abandoned, ...cutShort].sort();
  await Promise.all(removed.map((name) => rm(join(folder, name), { force: true })));
  return removed;
}

/** The solverstate of the histories (SGDSolver::SnapshotSolverStateToBinaryProto). */
export async function packSolverState(iter: number, learnedNet: string, histories: readonly Tensor[], currentStep: number): Promise<SolverState> {
  const history: CaffeBlob[] = [];
  for (const tensor of histories) history.push({ shape: [...tensor.shape], data: await tensor.data() });
  return { iter, learnedNet, history, currentStep };
}

/** Copies a solverstate's history blobs into the histories (SGDSolver::RestoreSolverStateFromBinaryProto). */
export function unpackHistories(state: SolverState, histories: readonly Tensor[]): void {
  if (state.history.length !== histories.length)
    throw new CudnetError(
      'SOLVERSTATE_MISMATCH',
      `Incorrect length of history blobs: the solverstate holds ${state.history.length}, this solver and net need ${histories.length}` +
        ' (was it written for another net or solver type?)',
    );
  state.history.forEach((blob, index) => {
    const tensor = histories[index]!;
    if (blob.data.length !== tensor.size)
      throw new CudnetError(
        'SOLVERSTATE_MISMATCH',
        `History blob ${index} holds ${blob.data.length} values but its parameter has shape ${tensor.shape.join('x')} (${tensor.size})`,
      );
    tensor.write(blob.data);
  });
}
