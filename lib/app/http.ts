// http.ts — small node:http helpers: JSON replies, error replies, size-limited bodies, static files.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { z } from 'zod';
import { AppError, messageOf } from './errors.js';

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

export function sendBytes(response: ServerResponse, type: string, bytes: Uint8Array, extra: Record<string, string> = {}): void {
  response.writeHead(200, { 'content-type': type, 'content-length': bytes.byteLength, 'cache-control': 'no-store', ...extra });
  response.end(bytes);
}

/** Every failure becomes { error: { message, field? } }; unexpected ones are 500 and logged. */
export function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof AppError) {
    sendJson(response, error.status, { error: { message: error.message, ...(error.field ? { field: error.field } : {}) } });
    return;
  }
  console.error(error);
  sendJson(response, 500, { error: { message: messageOf(error) } });
}

/** Reads the body up to `limit` bytes; a longer one is refused with 413 without reading the rest. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): AppError {
  return new AppError(413, `The request body is larger than the ${Math.round(limit / 1024)} KiB this endpoint accepts`);
}

/** Parses a JSON body and validates it; the first issue becomes a 400 naming its field. */
export async function readJson<T extends z.ZodType>(request: IncomingMessage, schema: T, limit = 1 << 20): Promise<z.infer<T>> {
  const text = (await readBody(request, limit)).toString('utf8');
  let value: unknown;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new AppError(400, 'The request body is not valid JSON');
  }
  return validate(schema, value);
}

export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.');
  throw new AppError(400, field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

/** Serves a file of `folder`; the name must not leave it. Returns false when there is no such file. */
export async function serveStatic(response: ServerResponse, folder: string, name: string): Promise<boolean> {
  const file = path.resolve(folder, `.${path.posix.normalize(`/${name}`)}`);
  if (!file.startsWith(folder + path.sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': info.size, 'cache-control': 'no-cache' });
  createReadStream(file).pipe(response);
  return true;
}
