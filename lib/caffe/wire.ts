// A protobuf wire reader and writer over protobufjs, with fast paths for packed float blobs and errors that say what was being read.

import protobuf from 'protobufjs/minimal.js';
import { CaffeBinaryError } from './errors.js';
import { WireType } from './caffe-proto.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const WIRE_TYPE_NAMES: Record<number, string> = {
  0: 'a varint', 1: 'a 64-bit value', 2: 'a length-delimited value', 3: 'a group', 4: 'a group end', 5: 'a 32-bit value',
};

/**
 * Walks the fields of a binary protobuf message. `what` ("caffemodel", ...) and the stack of
 * labels pushed by `nested` ("layer 3 'conv1'", "blob 0") make every error say where it happened.
 */
export class WireReader {
  private readonly reader: protobuf.Reader;
  private readonly labels: string[] = [];

  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly what: string) {
    this.reader = protobuf.Reader.create(bytes);
  }

  get length(): number {
    return this.reader.len;
  }

  /**
   * Runs `read` over the whole buffer, turning protobufjs' RangeErrors (truncated data) and
   * anything else thrown into one CaffeBinaryError.
   */
  decode<T>(read: (end: number) => T): T {
    try {
      return read(this.reader.len);
    } catch (error) {
      if (error instanceof CaffeBinaryError) throw error;
      const detail = error instanceof RangeError ? 'the data ends in the middle of a field' : (error as Error).message;
      throw this.fail(detail);
    }
  }

  /** Calls `visit` for each field up to `end`; `visit` returns false for fields it does not read, which are skipped. */
  fields(end: number, visit: (field: number, wireType: number) => boolean): void {
    while (this.reader.pos < end) {
      const tag = this.reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === 0) throw this.fail('invalid field number 0');
      if (!visit(field, wireType)) this.skip(wireType);
      if (this.reader.pos > end) throw this.fail('a field runs past the end of its enclosing message');
    }
  }

  /** Reads a length-delimited sub-message with `read(end)`, labelled for error messages. */
  nested<T>(label: string, wireType: number, read: (end: number) => T): T {
    this.expect(wireType, WireType.LENGTH_DELIMITED, label);
    const length = this.reader.uint32();
    const end = this.reader.pos + length;
    if (end > this.reader.len) throw this.fail(`${label} claims ${length} bytes but only ${this.reader.len - this.reader.pos} remain`);
    this.labels.push(label);
    const result = read(end);
    this.labels.pop();
    return result;
  }

  /** Replaces the innermost label once more is known (a layer's name, read after its number). */
  relabel(label: string): void {
    this.labels[this.labels.length - 1] = label;
  }

  string(wireType: number, name: string): string {
    this.expect(wireType, WireType.LENGTH_DELIMITED, name);
    return this.reader.string();
  }

  integer(wireType: number, name: string): number {
    this.expect(wireType, WireType.VARINT, name);
    return this.int64();
  }

  /** A repeated int64: packed (one length-delimited run) or one varint per value. */
  integers(wireType: number, name: string, into: number[]): void {
    if (wireType === WireType.VARINT) {
      into.push(this.int64());
      return;
    }
    this.expect(wireType, WireType.LENGTH_DELIMITED, name);
    const length = this.reader.uint32();
    const end = this.reader.pos + length;
    if (end > this.reader.len) throw this.fail(`the packed '${name}' values run past the end of the data`);
    while (this.reader.pos < end) into.push(this.int64());
    if (this.reader.pos !== end) throw this.fail(`the packed '${name}' values do not end on a value boundary`);
  }

  /** A repeated float: packed (copied in one go) or one 32-bit value per field. */
  floats(wireType: number, name: string): Float32Array {
    if (wireType === WireType.FIXED32) return Float32Array.of(this.reader.float());
    this.expect(wireType, WireType.LENGTH_DELIMITED, name);
    const bytes = this.reader.bytes();
    if (bytes.length % 4 !== 0) throw this.fail(`the packed '${name}' floats take ${bytes.length} bytes, not a multiple of 4`);
    return littleEndianToFloat32(bytes);
  }

  /** A repeated double: packed or one 64-bit value per field. */
  doubles(wireType: number, name: string): Float64Array {
    if (wireType === WireType.FIXED64) return Float64Array.of(this.reader.double());
    this.expect(wireType, WireType.LENGTH_DELIMITED, name);
    const bytes = this.reader.bytes();
    if (bytes.length % 8 !== 0) throw this.fail(`the packed '${name}' doubles take ${bytes.length} bytes, not a multiple of 8`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float64Array.from({ length: bytes.length / 8 }, (_, index) => view.getFloat64(index * 8, true));
  }

  /** protobufjs gives int64 as a Long when long.js is installed, else as a number. */
  private int64(): number {
    const value: unknown = this.reader.int64();
    return typeof value === 'number' ? value : (value as { toNumber(): number }).toNumber();
  }

  private skip(wireType: number): void {
    if (wireType === 3 || wireType === 4 || wireType > 5) {
      throw this.fail(`invalid wire type ${wireType}; this is not a protobuf-encoded ${this.what}`);
    }
    this.reader.skipType(wireType);
  }

  private expect(actual: number, expected: number, name: string): void {
    if (actual !== expected) {
      throw this.fail(`expected '${name}' to be ${WIRE_TYPE_NAMES[expected]} but found ${WIRE_TYPE_NAMES[actual] ?? `wire type ${actual}`}`);
    }
  }

  fail(reason: string): CaffeBinaryError {
    const where = this.labels.length > 0 ? ` in ${this.labels.join(', ')}` : '';
    const hint = looksLikeText(this.bytes) ? ' (the file looks like text: is it a .prototxt?)' : '';
    return new CaffeBinaryError(this.file, this.reader.pos, `not a valid ${this.what}: ${reason}${where}${hint}`);
  }
}

/** Copies little-endian float32 bytes into a new, aligned Float32Array. */
function littleEndianToFloat32(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(values.buffer).set(bytes);
    return values;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let index = 0; index < values.length; index++) values[index] = view.getFloat32(index * 4, true);
  return values;
}

/** The bytes of a Float32Array in little-endian order, without a copy on little-endian hosts. */
export function float32ToLittleEndian(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return bytes;
}

/** Whether the first bytes are all printable ASCII, as in a prototxt given where a binary file was expected. */
function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 64);
  return head.length > 0 && head.every((byte) => (byte >= 0x20 && byte < 0x7f) || byte === 0x0a || byte === 0x0d || byte === 0x09);
}

/** A protobufjs Writer with helpers for the shapes Caffe's messages take. */
export class WireWriter {
  readonly writer = protobuf.Writer.create();

  tag(field: number, wireType: number): this {
    this.writer.uint32((field << 3) | wireType);
    return this;
  }

  string(field: number, value: string): this {
    this.tag(field, WireType.LENGTH_DELIMITED).writer.string(value);
    return this;
  }

  integer(field: number, value: number): this {
    this.tag(field, WireType.VARINT).writer.int64(value);
    return this;
  }

  /** A packed repeated float field, its bytes copied straight from the array. */
  packedFloats(field: number, values: Float32Array): this {
    this.tag(field, WireType.LENGTH_DELIMITED).writer.bytes(float32ToLittleEndian(values));
    return this;
  }

  /** A packed repeated int64 field. */
  packedIntegers(field: number, values: readonly number[]): this {
    return this.message(field, () => {
      for (const value of values) this.writer.int64(value);
    });
  }

  /** A length-delimited sub-message whose content `write` produces. */
  message(field: number, write: () => void): this {
    this.tag(field, WireType.LENGTH_DELIMITED).writer.fork();
    write();
    this.writer.ldelim();
    return this;
  }

  finish(): Uint8Array {
    return this.writer.finish();
  }
}
