// DatasetError: the error lib/data throws, a CudnetError with a stable `.code` callers can switch on.
import { CudnetError, closestName } from '../errors.js';

export type DatasetErrorCode =
  | 'INVALID_OPTION'
  | 'UNKNOWN_OPTION'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_NOT_DIRECTORY'
  | 'TOO_FEW_CLASSES'
  | 'DESTINATION_EXISTS'
  | 'DESTINATION_INVALID'
  | 'SOURCE_NOT_READABLE'
  | 'NO_IMAGES'
  | 'DATABASE_INVALID'
  | 'MEAN_FILE_INVALID'
  | 'SOURCE_CLOSED'
  | 'TOOL_MISSING';

export class DatasetError extends CudnetError {
  declare readonly code: DatasetErrorCode;

  constructor(code: DatasetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DatasetError';
  }
}

/** Throws UNKNOWN_OPTION for the first key not in `known`, suggesting the closest known name. */
export function rejectUnknownKeys(object: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const best = closestName(key, known);
    const hint = best !== undefined ? ` (did you mean "${best}"?)` : '';
    throw new DatasetError('UNKNOWN_OPTION', `Unknown ${what} option "${key}"${hint}`);
  }
}
