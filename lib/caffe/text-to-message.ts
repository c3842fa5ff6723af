// Maps a parsed text-format tree onto a typed message by its zod schema, with positioned errors for every mismatch.

import type { z } from 'zod';
import { didYouMean, PrototxtError, type TextPosition } from './errors.js';
import { describeField, fieldNames, fieldSchema, type MessageSchema, type ValueKind } from './schema-fields.js';
import { isIntegerText, type TextField, type TextMessage, type TextScalar } from './text-format.js';

export interface MessageReadOptions {
  /** The file name used in error messages. */
  file: string;
  /** Field names that a message type has in caffe.proto but that are not read: "not supported" instead of "unknown". */
  unsupportedFields?: ReadonlyMap<MessageSchema, readonly string[]>;
}

interface ReadContext extends MessageReadOptions {
  /** Where each object built from the text came from, to position the errors that zod finds. */
  locations: WeakMap<object, TextPosition>;
}

/**
 * Builds the typed message that `tree` describes: unknown fields, wrong value kinds, unknown enum
 * values, repeated singular fields and missing required fields are PrototxtErrors (code
 * PROTOTXT_SCHEMA) at the offending position; defaults are then filled in by the schema.
 */
export function messageFromText<T extends MessageSchema>(
  tree: TextMessage, schema: T, messageName: string, options: MessageReadOptions,
): z.output<T> {
  const context: ReadContext = { ...options, locations: new WeakMap() };
  const raw = readMessage(tree, tree, schema, messageName, context);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String);
  const position = locate(raw, issue.path, context.locations) ?? tree;
  throw new PrototxtError('PROTOTXT_SCHEMA', options.file, position, `${path.join('.')}: ${issue.message}`);
}

function readMessage(
  message: TextMessage, position: TextPosition, schema: MessageSchema, owner: string, context: ReadContext,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const firstSeen = new Map<string, TextField>();
  for (const field of message.fields) {
    const entry = fieldSchema(schema, field.name);
    if (entry === undefined) throw unknownField(field, schema, owner, context);
    const description = describeField(entry);
    const value = readValue(field, description.value, context);
    if (description.repeated) {
      ((result[field.name] ??= []) as unknown[]).push(value);
      continue;
    }
    const earlier = firstSeen.get(field.name);
    if (earlier !== undefined) {
      throw schemaError(context, field,
        `'${field.name}' is given twice in ${owner} (first at ${earlier.line}:${earlier.column}) but it is not a repeated field`);
    }
    firstSeen.set(field.name, field);
    result[field.name] = value;
  }
  requireFields(result, position, schema, owner, context);
  context.locations.set(result, position);
  return result;
}

function requireFields(
  result: Record<string, unknown>, position: TextPosition, schema: MessageSchema, owner: string, context: ReadContext,
): void {
  for (const name of fieldNames(schema)) {
    const description = describeField(fieldSchema(schema, name)!);
    if (description.presence === 'required' && !description.repeated && !(name in result)) {
      throw schemaError(context, position, `missing required field '${name}' in ${owner}`);
    }
  }
}

function unknownField(field: TextField, schema: MessageSchema, owner: string, context: ReadContext): PrototxtError {
  const unsupported = context.unsupportedFields?.get(schema) ?? [];
  if (unsupported.includes(field.name)) {
    return schemaError(context, field, `'${field.name}' in ${owner} is a Caffe field that cudnet does not support yet`);
  }
  return schemaError(context, field, `unknown field '${field.name}' in ${owner}${didYouMean(field.name, fieldNames(schema))}`);
}

function readValue(field: TextField, kind: ValueKind, context: ReadContext): unknown {
  const value = field.value;
  if (kind.kind === 'message') {
    if (value.kind !== 'message') {
      throw schemaError(context, value, `expected a message { ... } for '${field.name}' but found ${describeScalar(value)}`);
    }
    return readMessage(value, field, kind.schema, field.name, context);
  }
  if (value.kind === 'message') {
    throw schemaError(context, value, `expected ${expectedScalar(kind)} for '${field.name}' but found a message { ... }`);
  }
  switch (kind.kind) {
    case 'number': return readNumber(field.name, value, kind, context);
    case 'bool': return readBool(field.name, value, context);
    case 'enum': return readEnum(field.name, value, kind.values, context);
    case 'string': return readString(field.name, value, context);
  }
}

const SPECIAL_FLOATS: Record<string, number> = {
  inf: Infinity, infinity: Infinity, '-inf': -Infinity, '-infinity': -Infinity, nan: NaN, '-nan': NaN,
};

function readNumber(name: string, scalar: TextScalar, kind: ValueKind & { kind: 'number' }, context: ReadContext): number {
  const special = scalar.kind === 'identifier' && !kind.integer ? SPECIAL_FLOATS[scalar.text.toLowerCase()] : undefined;
  if (special !== undefined) return special;
  if (scalar.kind !== 'number') {
    throw schemaError(context, scalar, `expected a number for '${name}' but found ${describeScalar(scalar)}`);
  }
  const value = scalar.value as number;
  const integerMissing = kind.integer && !isIntegerText(scalar.text);
  if (integerMissing || (kind.minimum !== undefined && value < kind.minimum)) {
    throw schemaError(context, scalar, `expected ${expectedScalar(kind)} for '${name}' but found ${scalar.text}`);
  }
  if (kind.integer && !Number.isSafeInteger(value)) {
    throw schemaError(context, scalar, `the integer ${scalar.text} for '${name}' is too large`);
  }
  return value;
}

const TRUE_WORDS = new Set(['true', 'True', 't', '1']);
const FALSE_WORDS = new Set(['false', 'False', 'f', '0']);

function readBool(name: string, scalar: TextScalar, context: ReadContext): boolean {
  if (scalar.kind !== 'string' && TRUE_WORDS.has(scalar.text)) return true;
  if (scalar.kind !== 'string' && FALSE_WORDS.has(scalar.text)) return false;
  throw schemaError(context, scalar, `expected true or false for '${name}' but found ${describeScalar(scalar)}`);
}

function readEnum(name: string, scalar: TextScalar, values: readonly string[], context: ReadContext): string {
  const allowed = values.join(', ');
  if (scalar.kind === 'identifier') {
    if (values.includes(scalar.text)) return scalar.text;
    throw schemaError(context, scalar,
      `unknown value '${scalar.text}' for '${name}'; expected one of ${allowed}${didYouMean(scalar.text, values)}`);
  }
  if (scalar.kind === 'number' && isIntegerText(scalar.text)) {
    const byNumber = values[scalar.value as number];
    if (byNumber !== undefined) return byNumber;
    throw schemaError(context, scalar, `unknown value ${scalar.text} for '${name}'; expected one of ${allowed}`);
  }
  const unquoted = scalar.kind === 'string' && values.includes(scalar.text) ? '; write it without quotes' : '';
  throw schemaError(context, scalar, `expected one of ${allowed} for '${name}' but found ${describeScalar(scalar)}${unquoted}`);
}

function readString(name: string, scalar: TextScalar, context: ReadContext): string {
  if (scalar.kind === 'string') return scalar.text;
  throw schemaError(context, scalar, `expected a quoted string for '${name}' but found ${describeScalar(scalar)}`);
}

function expectedScalar(kind: ValueKind): string {
  switch (kind.kind) {
    case 'number':
      if (!kind.integer) return 'a number';
      return kind.minimum === 0 ? 'a non-negative integer' : 'an integer';
    case 'bool': return 'true or false';
    case 'enum': return `one of ${kind.values.join(', ')}`;
    case 'string': return 'a quoted string';
    case 'message': return 'a message { ... }';
  }
}

function describeScalar(scalar: TextScalar): string {
  return scalar.kind === 'string' ? JSON.stringify(scalar.text) : scalar.text;
}

function schemaError(context: ReadContext, position: TextPosition, reason: string): PrototxtError {
  return new PrototxtError('PROTOTXT_SCHEMA', context.file, { line: position.line, column: position.column }, reason);
}

/** The position of the deepest object along `path` that came from the text. */
function locate(raw: unknown, path: readonly PropertyKey[], locations: WeakMap<object, TextPosition>): TextPosition | undefined {
  let node = raw;
  let found: TextPosition | undefined;
  for (const key of [undefined, ...path]) {
    if (key !== undefined) node = (node as Record<PropertyKey, unknown> | undefined)?.[key];
    if (typeof node === 'object' && node !== null) found = locations.get(node) ?? found;
  }
  return found;
}
