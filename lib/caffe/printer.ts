// Prints typed Caffe messages as prototxt in Caffe's own style: 2-space indent, `name {` blocks, bare enums, quoted strings, defaults left out.

import { describeField, fieldNames, fieldSchema, type FieldDescription, type MessageSchema } from './schema-fields.js';
import { NetParameterSchema, SolverParameterSchema, type NetParameter, type SolverParameter } from './schema.js';

const INDENT = '  ';

/**
 * Prints `message` by its schema. Fields come in caffe.proto's field-number order (the schema's
 * order, as Caffe prints them); a field equal to its default, an empty repeated field and an
 * absent optional field are left out, so parsing the result gives back an equal message.
 */
export function printMessage(message: Record<string, unknown>, schema: MessageSchema): string {
  const lines: string[] = [];
  appendFields(lines, message, schema, '');
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A network as prototxt, e.g. to save a train_val.prototxt. */
export function printNetPrototxt(net: NetParameter): string {
  return printMessage(net, NetParameterSchema);
}

/** A solver as prototxt, e.g. to save a solver.prototxt. */
export function printSolverPrototxt(solver: SolverParameter): string {
  return printMessage(solver, SolverParameterSchema);
}

function appendFields(lines: string[], message: Record<string, unknown>, schema: MessageSchema, indent: string): void {
  for (const name of fieldNames(schema)) {
    const description = describeField(fieldSchema(schema, name)!);
    const value = message[name];
    if (value === undefined || isDefault(value, description)) continue;
    const values = description.repeated ? (value as unknown[]) : [value];
    for (const item of values) appendField(lines, name, item, description, indent);
  }
}

function appendField(lines: string[], name: string, value: unknown, description: FieldDescription, indent: string): void {
  const kind = description.value;
  if (kind.kind === 'message') {
    lines.push(`${indent}${name} {`);
    appendFields(lines, value as Record<string, unknown>, kind.schema, indent + INDENT);
    lines.push(`${indent}}`);
    return;
  }
  lines.push(`${indent}${name}: ${formatScalar(value, kind.kind)}`);
}

function isDefault(value: unknown, description: FieldDescription): boolean {
  if (description.repeated) return Array.isArray(value) && value.length === 0;
  return description.presence === 'default' && Object.is(value, description.defaultValue);
}

function formatScalar(value: unknown, kind: 'enum' | 'string' | 'bool' | 'number'): string {
  switch (kind) {
    case 'enum': return String(value);
    case 'bool': return value ? 'true' : 'false';
    case 'string': return quoteString(String(value));
    case 'number': return formatNumber(value as number);
  }
}

/** Numbers as JavaScript writes them (shortest form that reads back exactly); inf and nan as protobuf spells them. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** A double-quoted string with the C escapes that the text format reader understands. */
export function quoteString(text: string): string {
  let quoted = '"';
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (character === '"' || character === '\\') quoted += `\\${character}`;
    else if (character === '\n') quoted += '\\n';
    else if (character === '\r') quoted += '\\r';
    else if (character === '\t') quoted += '\\t';
    else if (code < 0x20 || code === 0x7f) quoted += `\\${code.toString(8).padStart(3, '0')}`;
    else quoted += character;
  }
  return `${quoted}"`;
}
