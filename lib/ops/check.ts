// check.ts — argument checks every op runs in TypeScript before the native call, with one message form.
import { z } from 'zod';
import { CudnetError, closestName, describeValue } from '../errors.js';
import { Tensor, formatShape, type Shape } from '../tensor.js';

/** Throws unless `value` is a live Tensor. */
export function requireTensor(op: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor))
    throw new CudnetError('INVALID_ARGUMENT', `${op}: Expected a Tensor for ${name} but received ${describeValue(value)}`);
  value.assertAlive(op, name);
  return value;
}

/** Throws SHAPE_MISMATCH naming the op, the argument and both shapes. */
export function requireShape(op: string, name: string, tensor: Tensor, expected: Shape): void {
  const same = tensor.shape.length === expected.length && tensor.shape.every((d, i) => d === expected[i]);
  if (!same)
    throw new CudnetError(
      'SHAPE_MISMATCH',
      `${op}: ${name} has shape ${formatShape(tensor.shape)} but ${formatShape(expected)} was expected`,
    );
}

/** Throws SHAPE_MISMATCH unless the tensor has `rank` dimensions. */
export function requireRank(op: string, name: string, tensor: Tensor, rank: number, layout: string): void {
  if (tensor.shape.length !== rank)
    throw new CudnetError(
      'SHAPE_MISMATCH',
      `${op}: ${name} must be ${rank}-D (${layout}) but has shape ${formatShape(tensor.shape)}`,
    );
}

/** Throws SHAPE_MISMATCH unless the tensor has exactly `count` elements. */
export function requireSize(op: string, name: string, tensor: Tensor, count: number): void {
  if (tensor.size !== count)
    throw new CudnetError(
      'SHAPE_MISMATCH',
      `${op}: ${name} has shape ${formatShape(tensor.shape)} (${tensor.size} elements) but ${count} elements were expected`,
    );
}

/** Throws DEVICE_MISMATCH unless every given tensor is on the same device. */
export function requireSameDevice(op: string, tensors: Record<string, Tensor | null | undefined>): void {
  let first: [string, Tensor] | undefined;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!tensor) continue;
    if (!first) first = [name, tensor];
    else if (tensor.device !== first[1].device)
      throw new CudnetError(
        'DEVICE_MISMATCH',
        `${op}: ${name} is on ${tensor.device} but ${first[0]} is on ${first[1].device}`,
      );
  }
}

/** Reusable option fields; each description is the "what" of the error message. */
export const field = {
  positiveInt: () => z.number().int().positive().describe('a positive integer'),
  nonNegativeInt: () => z.number().int().nonnegative().describe('a non-negative integer'),
  finite: () => z.number().finite().describe('a finite number'),
  probability: () => z.number().min(0).lt(1).describe('a number in [0, 1)'),
};

function expectationOf(schema: z.ZodObject, path: PropertyKey[], issue: z.core.$ZodIssue): string {
  const key = path[0];
  const fieldSchema = typeof key === 'string' ? (schema.shape as Record<string, z.ZodType>)[key] : undefined;
  const description = fieldSchema?.description ?? (fieldSchema as { unwrap?: () => z.ZodType })?.unwrap?.()?.description;
  if (description) return description;
  if (issue.code === 'invalid_type') return `a ${issue.expected}`;
  return issue.message.replace(/^Invalid input: /, '').toLowerCase();
}

// Layers pass the same options object on every call, and a zod parse costs tens of microseconds,
// more than many ops take to queue: a parse is kept per (options object, schema) and reused while
// the object's contents (compared as JSON) are unchanged.
const strictSchemas = new WeakMap<z.ZodObject, z.ZodObject>();
const parsedOptions = new WeakMap<object, Map<z.ZodObject, { text: string; value: unknown }>>();
const parsedDefaults = new WeakMap<z.ZodObject, unknown>();

function strictSchema(schema: z.ZodObject): z.ZodObject {
  let strict = strictSchemas.get(schema);
  if (!strict) strictSchemas.set(schema, (strict = schema.strict()));
  return strict;
}

function cachedOptions(schema: z.ZodObject, options: unknown): unknown {
  if (options === undefined || options === null) return parsedDefaults.get(schema);
  if (typeof options !== 'object') return undefined;
  const entry = parsedOptions.get(options)?.get(schema);
  return entry !== undefined && entry.text === JSON.stringify(options) ? entry.value : undefined;
}

function rememberOptions(schema: z.ZodObject, options: unknown, value: unknown): void {
  if (options === undefined || options === null) {
    parsedDefaults.set(schema, value);
    return;
  }
  if (typeof options !== 'object') return;
  let bySchema = parsedOptions.get(options);
  if (!bySchema) parsedOptions.set(options, (bySchema = new Map()));
  bySchema.set(schema, { text: JSON.stringify(options), value });
}

/**
 * Validates an options object against a strict zod schema. Unknown keys get "did you mean";
 * bad values get "<op>: Expected <what> for <option> but received <value>".
 */
export function parseOptions<S extends z.ZodObject>(op: string, schema: S, options: unknown): z.infer<S> {
  const cached = cachedOptions(schema, options);
  if (cached !== undefined) return cached as z.infer<S>;
  const result = strictSchema(schema).safeParse(options ?? {});
  if (result.success) {
    rememberOptions(schema, options, result.data);
    return result.data as z.infer<S>;
  }
  // A misspelled key also leaves its required field missing: name the misspelling first.
  const issues = result.error.issues;
  const issue = issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? issues[0];
  if (issue.code === 'unrecognized_keys') {
    const unknown = issue.keys[0];
    const suggestion = closestName(unknown, Object.keys(schema.shape));
    throw new CudnetError(
      'INVALID_ARGUMENT',
      `${op}: unknown option '${unknown}'${suggestion ? `; did you mean '${suggestion}'?` : ''}`,
    );
  }
  const path = issue.path;
  let received: unknown = options;
  for (const key of path) received = (received as Record<PropertyKey, unknown>)?.[key as PropertyKey];
  const name = path.length ? path.map(String).join('.') : 'options';
  throw new CudnetError(
    'INVALID_ARGUMENT',
    `${op}: Expected ${expectationOf(schema, path, issue)} for ${name} but received ${describeValue(received)}`,
  );
}
