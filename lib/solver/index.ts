// lib/solver's public surface: the Solver, its events and options, the lr policies and the solver types.
export {
  Solver, type SolverOptions, type SolverEvents, type IterationEvent, type TestEvent, type SnapshotEvent,
} from './solver.js';
export { learningRate, checkLrPolicy, LR_POLICIES, type LrPolicy, type LrPolicyParameters } from './lr-policy.js';
export { SOLVER_TYPES, type SolverType } from './update.js';
export { snapshotPaths, completeSnapshots, removeSnapshotLeftovers } from './snapshot.js';
export type { NetFactory } from './nets.js';
