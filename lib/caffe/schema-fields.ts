// Reads a zod message schema back as protobuf field descriptions (scalar kind, repeated, default), shared by the text reader and the printer.

import { z } from 'zod';

export type MessageSchema = z.ZodObject<z.ZodRawShape>;

export type ValueKind =
  | { kind: 'message'; schema: MessageSchema }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'string' }
  | { kind: 'bool' }
  | { kind: 'number'; integer: boolean; minimum: number | undefined };

export interface FieldDescription {
  value: ValueKind;
  repeated: boolean;
  /** 'required': must be written; 'optional': may be absent (undefined); 'default': absent means `defaultValue`. */
  presence: 'required' | 'optional' | 'default';
  defaultValue?: unknown;
}

const descriptions = new WeakMap<z.ZodType, FieldDescription>();

/** Describes one entry of a message schema's shape. */
export function describeField(schema: z.ZodType): FieldDescription {
  let description = descriptions.get(schema);
  if (description === undefined) {
    description = describeUncached(schema);
    descriptions.set(schema, description);
  }
  return description;
}

function describeUncached(schema: z.ZodType): FieldDescription {
  let inner: z.ZodType = schema;
  let presence: FieldDescription['presence'] = 'required';
  let defaultValue: unknown;
  if (inner instanceof z.ZodDefault) {
    presence = 'default';
    defaultValue = inner.def.defaultValue;
    inner = inner.unwrap() as z.ZodType;
  }
  if (inner instanceof z.ZodOptional) {
    presence = 'optional';
    inner = inner.unwrap() as z.ZodType;
  }
  const repeated = inner instanceof z.ZodArray;
  if (inner instanceof z.ZodArray) inner = inner.element as z.ZodType;
  return { value: describeValue(inner), repeated, presence, defaultValue };
}

function describeValue(schema: z.ZodType): ValueKind {
  if (schema instanceof z.ZodObject) return { kind: 'message', schema: schema as MessageSchema };
  if (schema instanceof z.ZodEnum) return { kind: 'enum', values: schema.options as string[] };
  if (schema instanceof z.ZodString) return { kind: 'string' };
  if (schema instanceof z.ZodBoolean) return { kind: 'bool' };
  if (schema instanceof z.ZodNumber) {
    const minimum = schema.minValue;
    return { kind: 'number', integer: schema.isInt, minimum: minimum === null || minimum === -Infinity || minimum <= -Number.MAX_SAFE_INTEGER ? undefined : minimum };
  }
  throw new Error(`schema-fields: unsupported zod type ${schema.def.type}`);
}

/** The field names of a message schema, in the order they are declared (caffe.proto's field-number order). */
export function fieldNames(schema: MessageSchema): string[] {
  return Object.keys(schema.shape);
}

export function fieldSchema(schema: MessageSchema, name: string): z.ZodType | undefined {
  return Object.hasOwn(schema.shape, name) ? (schema.shape[name] as z.ZodType) : undefined;
}
