// errors.ts — AppError: an error the JSON API reports as { error: { message, field? } } with its HTTP status.
export class AppError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
    this.name = 'AppError';
  }
}

export function notFound(what: string): AppError {
  return new AppError(404, `${what} does not exist`);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
