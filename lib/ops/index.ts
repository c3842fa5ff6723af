// index.ts — every typed op, one module per op group (each file documents its formulas and shapes).
export * from './elementwise.js';
export * from './gemm.js';
export * from './conv.js';
export * from './pool.js';
export * from './lrn.js';
export * from './activation.js';
export * from './softmax.js';
export * from './solver.js';
export { conv2dForward as conv2d } from './conv.js';
