// index.ts — every typed op, one module per op group (each file documents its formulas and shapes).
export * from './elementwise.js';
