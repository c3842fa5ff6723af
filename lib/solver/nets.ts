// nets.ts — the train and test nets a SolverParameter names (Solver::InitTrainNet / InitTestNets), built through a factory.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseNetPrototxt, type NetParameter, type NetState, type SolverParameter } from '../caffe/index.js';
import type { BatchSource } from '../data/batch-source.js';
import type { Device } from '../device.js';
import { CudnetError } from '../errors.js';
import type { NetLike, NetOptions } from '../net/contract.js';

/** Builds one net (Net.fromParameter by default). */
export type NetFactory = (parameter: NetParameter, options: NetOptions) => NetLike;

export interface NetSources {
  device: Device;
  factory: NetFactory;
  /** Folder that relative net file names are read from. */
  baseDir: string;
  trainSources?: Record<string, BatchSource>;
  testSources?: Record<string, BatchSource>[];
  seed?: number;
}

function readNetFile(file: string, baseDir: string): NetParameter {
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CudnetError('FILE_NOT_FOUND', `Cannot read the net file "${file}" named by the solver (looked at ${path})`, { cause: error });
  }
  return parseNetPrototxt(text, { file: path });
}

/** The train net's parameter: exactly one of net_param, net, train_net_param, train_net (Caffe CHECKs the same). */
export function trainNetParameter(solver: SolverParameter, baseDir: string): NetParameter {
  const given = [solver.train_net_param, solver.train_net, solver.net_param, solver.net].filter((field) => field !== undefined);
  if (given.length !== 1)
    throw new CudnetError(
      'INVALID_SOLVER',
      `The solver must name exactly one train net (net, net_param, train_net or train_net_param) but names ${given.length}`,
    );
  if (solver.train_net_param) return solver.train_net_param;
  if (solver.net_param) return solver.net_param;
  return readNetFile((solver.train_net ?? solver.net)!, baseDir);
}

/**
 * The test nets: each test_net_param, each test_net file, then the generic net (net or net_param)
 * once for every remaining test_iter entry, as Solver::InitTestNets orders them.
 */
export function testNetParameters(solver: SolverParameter, baseDir: string): NetParameter[] {
  const specific = [...solver.test_net_param, ...solver.test_net.map((file) => readNetFile(file, baseDir))];
  const generic = solver.net_param ?? (solver.net !== undefined ? readNetFile(solver.net, baseDir) : undefined);
  const genericCount = generic ? solver.test_iter.length - specific.length : 0;
  const nets = [...specific, ...Array.from({ length: Math.max(0, genericCount) }, () => generic!)];
  if (solver.test_iter.length !== nets.length && (nets.length > 0 || solver.test_iter.length > 0))
    throw new CudnetError('INVALID_SOLVER', `test_iter must be given once per test net: ${nets.length} test nets, ${solver.test_iter.length} test_iter`);
  if (solver.test_interval > 0 && nets.length === 0 && solver.test_iter.length > 0)
    throw new CudnetError('INVALID_SOLVER', 'test_interval is set but the solver names no test net');
  return nets;
}

function stateOptions(state: NetState | undefined): Pick<NetOptions, 'stages' | 'level'> {
  return state ? { stages: [...state.stage], level: state.level } : {};
}

export function buildTrainNet(solver: SolverParameter, sources: NetSources): NetLike {
  return sources.factory(trainNetParameter(solver, sources.baseDir), {
    phase: 'TRAIN', device: sources.device, sources: sources.trainSources, seed: sources.seed,
    ...stateOptions(solver.train_state),
  });
}

/** Test nets share every learnable blob with the train net (Caffe's ShareTrainedLayersWith). */
export function buildTestNets(solver: SolverParameter, trainNet: NetLike, sources: NetSources): NetLike[] {
  return testNetParameters(solver, sources.baseDir).map((parameter, index) =>
    sources.factory(parameter, {
      phase: 'TEST', device: sources.device, sources: sources.testSources?.[index], seed: sources.seed,
      shareWeightsWith: trainNet, ...stateOptions(solver.test_state[index]),
    }),
  );
}
