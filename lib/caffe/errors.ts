// The errors raised while reading Caffe's text and binary formats, and the "did you mean" helper.

/** Where a problem lies in a prototxt file: 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

export type PrototxtErrorCode = 'PROTOTXT_SYNTAX' | 'PROTOTXT_SCHEMA';

/**
 * A prototxt that cannot be read. The message always starts with `file:line:column:` so editors
 * and terminals can jump to the spot; `.reason` is the same message without that prefix.
 */
export class PrototxtError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: PrototxtErrorCode;
  readonly reason: string;

  constructor(code: PrototxtErrorCode, file: string, position: TextPosition, reason: string) {
    super(`${file}:${position.line}:${position.column}: ${reason}`);
    this.name = 'PrototxtError';
    this.code = code;
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
export class CaffeBinaryError extends Error {
  readonly file: string;
  readonly offset: number;
  readonly code: CaffeBinaryErrorCode = 'CAFFE_BINARY_CORRUPT';

  constructor(file: string, offset: number, reason: string) {
    super(`${file}: ${reason} (at byte ${offset})`);
    this.name = 'CaffeBinaryError';
    this.file = file;
    this.offset = offset;
  }
}

/** Levenshtein distance: the fewest single-character edits turning `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidate closest to `word`, if it is close enough to be a plausible typo: at most a third
 * of the word's letters edited (and at least one edit allowed), ignoring case.
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** "; did you mean 'x'?" when a close candidate exists, else the empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const suggestion = closestName(word, candidates);
  return suggestion === undefined ? '' : `; did you mean '${suggestion}'?`;
}
