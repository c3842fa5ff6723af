// The errors inference raises: a model whose files are missing or disagree, a bad image, a closed model.
import { CudnetError } from '../errors.js';

/**
 * MODEL_FILE_MISSING: a file the model needs is absent. MODEL_MISMATCH: two files disagree (labels
 * vs outputs, mean vs input). MODEL_INVALID: a file cannot be read. BAD_IMAGE: one request's image
 * cannot be decoded or has the wrong size. IMAGE_TOO_LARGE: one request's image declares more pixels
 * than loadModel's maxInputPixels (refused before decoding). DISPOSED: the model was disposed.
 */
export type InferenceErrorCode = 'MODEL_FILE_MISSING' | 'MODEL_MISMATCH' | 'MODEL_INVALID' | 'BAD_IMAGE' | 'IMAGE_TOO_LARGE' | 'DISPOSED';

export function inferenceError(code: InferenceErrorCode, message: string, cause?: unknown): CudnetError {
  return new CudnetError(code, message, cause === undefined ? undefined : { cause });
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
