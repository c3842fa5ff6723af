// snapshot.ts — snapshot file names and atomic writes (a temporary file, then a rename), and solverstate packing.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CaffeBlob, SolverState } from '../caffe/index.js';
import { CudnetError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Caffe's names: "<prefix>_iter_<iter>.caffemodel" and ".solverstate". */
export function snapshotPaths(prefix: string, iter: number): { caffemodel: string; solverstate: string } {
  const stem = `${prefix}_iter_${iter}`;
  return { caffemodel: `${stem}.caffemodel`, solverstate: `${stem}.solverstate` };
}

/**
 * Writes `bytes` so that a reader never sees a half-written file: into "<path>.<pid>.tmp" in the
 * same folder, then renamed over `path` (rename is atomic within a file system).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
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
