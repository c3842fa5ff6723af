// The errors raised while reading Caffe's text and binary formats, and the "did you mean" helper.

import { closestName, CudnetError } from '../errors.js';

/** Where a problem lies in a prototxt file: 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

export type PrototxtErrorCode = 'PROTOTXT_SYNTAX' | 'PROTOTXT_SCHEMA';

/**
 * A prototxt that cannot be read (a CudnetError). The message always starts with `file:line:column:` so editors
 * and terminals can jump to the spot; `.reason` is the same message without that prefix.
 */
export class PrototxtError extends CudnetError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  declare readonly code: PrototxtErrorCode;
  readonly reason: string;

  constructor(code: PrototxtErrorCode, file: string, position: TextPosition, reason: string) {
    super(code, `${file}:${position.line}:${position.column}: ${reason}`);
    this.name = 'PrototxtError';
    this.file = file;
    this.line = position.line;
    this.column = position.column;
    this.reason = reason;
  }
}

export type CaffeBinaryErrorCode = 'CAFFE_BINARY_CORRUPT';

/**
 * A .caffemodel, .solverstate or .binaryproto whose bytes do not decode. The message names the
 * file, what was being read and the byte offset where decoding stopped.
 */
export class CaffeBinaryError extends CudnetError {
  readonly file: string;
  readonly offset: number;
  declare readonly code: CaffeBinaryErrorCode;

  constructor(file: string, offset: number, reason: string) {
    super('CAFFE_BINARY_CORRUPT', `${file}: ${reason} (at byte ${offset})`);
    this.name = 'CaffeBinaryError';
    this.file = file;
    this.offset = offset;
  }
}

/** "; did you mean 'x'?" when a close candidate exists, else the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const suggestion = closestName(word, candidates);
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}
