// tensor.ts — Tensor: float32, NCHW, contiguous, up to 5 dimensions, living on one device.
import { Device, device as resolveDevice, type DeviceName } from './device.js';
import { CudnetError, fromNativeError, invalidArgument } from './errors.js';
import { native, type NativeBuffer } from './native.js';

export type Shape = readonly number[];
export const MAX_DIMENSIONS = 5;
/**
 * The most elements `data()` reads back: the longest Float32Array every supported Node (20 and later)
 * can make (2^32; asking V8 for a longer one is a fatal error, not an exception).
 */
export const MAX_READ_ELEMENTS = 2 ** 32;

/** Number of elements of a shape. */
export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const dimension of shape) size *= dimension;
  return size;
}

/** "16x96x55x55" */
export function formatShape(shape: Shape): string {
  return shape.length === 0 ? 'scalar' : shape.join('x');
}

/** Throws unless `shape` is 0..5 positive integers. */
export function checkShape(shape: unknown, name = 'shape'): asserts shape is Shape {
  const ok =
    Array.isArray(shape) &&
    shape.length <= MAX_DIMENSIONS &&
    shape.every((dimension) => Number.isInteger(dimension) && dimension > 0);
  if (!ok) throw invalidArgument(`up to ${MAX_DIMENSIONS} positive integers`, name, shape);
}

/**
 * A float32 tensor on a device. Ops queue work and return at once; `await tensor.data()` waits for
 * the values. `dispose()` frees the memory at once (queued ops that use it keep it until they run);
 * a finalizer frees what was forgotten.
 */
export class Tensor {
  /** @internal */
  readonly buffer: NativeBuffer;

  private constructor(
    readonly shape: Shape,
    readonly device: Device,
    buffer: NativeBuffer,
  ) {
    this.buffer = buffer;
  }

  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  get disposed(): boolean {
    return this.buffer.disposed;
  }

  /** A tensor whose values are not set (NaN-poison them or write them before reading). */
  static empty(shape: Shape, on: DeviceName | Device = 'cpu'): Tensor {
    checkShape(shape);
    if (!Number.isSafeInteger(shapeSize(shape)))
      throw new CudnetError('TOO_LARGE', `Tensor.empty: shape ${formatShape(shape)} has more than 2^53 elements`);
    const target = resolveDevice(on);
    try {
      return new Tensor([...shape], target, new native.NativeBuffer(target.name, shapeSize(shape)));
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** A tensor filled with `value` (0 by default). */
  static zeros(shape: Shape, on: DeviceName | Device = 'cpu', value = 0): Tensor {
    const tensor = Tensor.empty(shape, on);
    tensor.fill(value);
    return tensor;
  }

  /** A tensor holding a copy of `values` (a Float32Array or numbers) with the given shape. */
  static from(values: Float32Array | ArrayLike<number>, shape: Shape, on: DeviceName | Device = 'cpu'): Tensor {
    checkShape(shape);
    if (values.length !== shapeSize(shape))
      throw new CudnetError(
        'SHAPE_MISMATCH',
        `Tensor.from: ${values.length} values do not fill shape ${formatShape(shape)} (${shapeSize(shape)} elements)`,
      );
    const tensor = Tensor.empty(shape, on);
    tensor.write(values instanceof Float32Array ? values : Float32Array.from(values));
    return tensor;
  }

  /**
   * Copies the values out once every op before this call has run. Rejects with the error of a failed
   * op that wrote them (see ops); a tensor of more than MAX_READ_ELEMENTS elements, which no
   * Float32Array can hold, is refused with TOO_LARGE before anything is queued.
   */
  async data(): Promise<Float32Array> {
    this.assertAlive('data');
    if (this.size > MAX_READ_ELEMENTS)
      throw new CudnetError(
        'TOO_LARGE',
        `data: a tensor of shape ${formatShape(this.shape)} (${this.size} elements) cannot be read back: ` +
          `a Float32Array holds at most ${MAX_READ_ELEMENTS} elements`,
      );
    try {
      return await this.buffer.read(0, this.size);
    } catch (error) {
      throw fromNativeError(error);
    }
  }

  /** Nested arrays, for printing small tensors. */
  async toArray(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** Stores values (copied now, written in order with the queued ops). */
  write(values: Float32Array, offset = 0): this {
    this.assertAlive('write');
    if (!(values instanceof Float32Array)) throw invalidArgument('a Float32Array', 'values', values);
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalidArgument('a non-negative integer', 'offset', offset);
    if (offset + values.length > this.size)
      throw new CudnetError(
        'SHAPE_MISMATCH',
        `write: ${values.length} values at offset ${offset} do not fit a tensor of shape ${formatShape(this.shape)}`,
      );
    this.buffer.write(values, offset);
    return this;
  }

  /** Sets every element to `value`. */
  fill(value: number): this {
    this.assertAlive('fill');
    if (!Number.isFinite(value) && !Number.isNaN(value)) throw invalidArgument('a number', 'value', value);
    native.fill(this.buffer, this.size, value);
    return this;
  }

  /** Copies all values of `source` (same number of elements, same device) into this tensor. */
  copyFrom(source: Tensor): this {
    this.assertAlive('copyFrom');
    source.assertAlive('copyFrom');
    if (source.size !== this.size)
      throw new CudnetError(
        'SHAPE_MISMATCH',
        `copyFrom: source shape ${formatShape(source.shape)} does not match ${formatShape(this.shape)}`,
      );
    if (source.device !== this.device)
      throw new CudnetError('DEVICE_MISMATCH', `copyFrom: source is on ${source.device}, this tensor on ${this.device}`);
    this.buffer.copyFrom(source.buffer, 0, 0, this.size);
    return this;
  }

  /** A new tensor with the same values. */
  clone(): Tensor {
    return Tensor.empty(this.shape, this.device).copyFrom(this);
  }

  /** A copy on another device. */
  async to(target: DeviceName | Device): Promise<Tensor> {
    return Tensor.from(await this.data(), this.shape, target);
  }

  /** A view with another shape of the same number of elements, sharing the storage. */
  reshape(shape: Shape): Tensor {
    this.assertAlive('reshape');
    checkShape(shape);
    if (shapeSize(shape) !== this.size)
      throw new CudnetError(
        'SHAPE_MISMATCH',
        `reshape: cannot view ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)}`,
      );
    return new Tensor([...shape], this.device, this.buffer);
  }

  /**
   * A view of the first shapeSize(shape) elements with another shape, sharing the storage; the shape
   * may cover fewer elements than the storage holds (blobs that shrink keep their memory this way).
   */
  view(shape: Shape): Tensor {
    this.assertAlive('view');
    checkShape(shape);
    if (shapeSize(shape) > this.buffer.count)
      throw new CudnetError(
        'SHAPE_MISMATCH',
        `view: ${formatShape(shape)} needs ${shapeSize(shape)} elements but the storage holds ${this.buffer.count}`,
      );
    return new Tensor([...shape], this.device, this.buffer);
  }

  /** Frees the storage now (views of it too). Safe while ops that use it are still queued. */
  dispose(): void {
    this.buffer.dispose();
  }

  /** @internal Throws DISPOSED if the storage was freed. */
  assertAlive(op: string, name = 'tensor'): void {
    if (this.buffer.disposed)
      throw new CudnetError('DISPOSED', `${op}: ${name} (shape ${formatShape(this.shape)}) was disposed and cannot be used`);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.device})`;
  }
}
