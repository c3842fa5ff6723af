// errors.ts — the one error class cudnet throws, with a stable `.code`, and the argument-check helpers.

/** Every error cudnet raises: `code` is stable ("SHAPE_MISMATCH", "OUT_OF_MEMORY", "DISPOSED", ...). */
export class CudnetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CudnetError';
    this.code = code;
  }
}

/** Turns an error from the native addon (a plain Error with `.code`) into a CudnetError. */
export function fromNativeError(error: unknown): CudnetError {
  if (error instanceof CudnetError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'NATIVE_ERROR';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return new CudnetError(code, message, { cause: error });
}

/** An error of the operating system (a file that cannot be read or written: EACCES, ENOSPC, ...), with its errno code. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  const candidate = error as NodeJS.ErrnoException | undefined;
  return candidate instanceof Error && typeof candidate.code === 'string' && typeof candidate.syscall === 'string';
}

/** Shows a received value in an error message, short. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/** "Expected <what> for <name> but received <value>" — the one message form for bad arguments. */
export function invalidArgument(what: string, name: string, value: unknown, code = 'INVALID_ARGUMENT'): CudnetError {
  return new CudnetError(code, `Expected ${what} for ${name} but received ${describeValue(value)}`);
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = saved;
    }
  }
  return previous[b.length];
}

/** The closest known name to `name`, if it is close enough to be a misspelling. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
