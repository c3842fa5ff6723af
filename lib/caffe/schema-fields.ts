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
const floatSchemas = new WeakSet<z.ZodType>();

/**
 * A protobuf float or double: any number, including inf and nan, which prototxt may spell out
 * and which z.number() refuses.
 */
export function floatSchema(): z.ZodType<number> {
  const schema = z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' });
  floatSchemas.add(schema);
  return schema;
}

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
  if (floatSchemas.has(schema)) return { kind: 'number', integer: false, minimum: undefined };
  if (schema instanceof z.ZodNumber) return { kind: 'number', integer: schema.isInt, minimum: integerMinimum(schema) };
  throw new Error(`schema-fields: unsupported zod type ${schema.def.type}`);
}

/** The lower bound of an integer schema, unless it is only the safe-integer bound that .int() sets. */
function integerMinimum(schema: z.ZodNumber): number | undefined {
  const minimum = schema.minValue;
  return minimum === null || minimum <= Number.MIN_SAFE_INTEGER ? undefined : minimum;
}

/** The field names of a message schema, in the order they are declared (caffe.proto's field-number order). */
export function fieldNames(schema: MessageSchema): string[] {
  return Object.keys(schema.shape);
}

export function fieldSchema(schema: MessageSchema, name: string): z.ZodType | undefined {
  return Object.hasOwn(schema.shape, name) ? (schema.shape[name] as z.ZodType) : undefined;
}
