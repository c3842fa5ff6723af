// blob.ts — Blob: a named pair of data and diff tensors of one shape (Caffe's Blob), grown only when the count grows.
import type { Device } from '../device.js';
import { Tensor, formatShape, shapeSize, type Shape } from '../tensor.js';
import type { BlobView } from './contract.js';

/**
 * One buffer that blobs view with their own shape. Several blobs may share one (Flatten's top and
 * its bottom, shared weights); it grows when any of them needs more elements and never shrinks.
 */
class Storage {
  tensor: Tensor | undefined;
  constructor(
    readonly device: Device,
    /** Zero-filled on allocation: a diff nobody writes must read as 0 (Split sums all its tops). */
    readonly zeroed: boolean,
    readonly owned = true,
  ) {}

  /** The tensor, at least `count` elements long (allocated or grown now if needed). */
  ensure(count: number): Tensor {
    if (this.tensor && this.tensor.size >= count) return this.tensor;
    if (!this.owned) throw new Error(`a borrowed tensor of ${this.tensor?.size ?? 0} elements cannot hold ${count}`);
    this.tensor?.dispose();
    this.tensor = this.zeroed ? Tensor.zeros([count], this.device) : Tensor.empty([count], this.device);
    return this.tensor;
  }

  dispose(): void {
    if (this.owned) this.tensor?.dispose();
    this.tensor = undefined;
  }
}

/** A view of `storage` with `shape`; the storage may hold more elements than the shape needs. */
function viewOf(storage: Tensor, shape: Shape): Tensor {
  return storage.view(shape);
}

/** A cached view, rebuilt when the storage was reallocated or the blob reshaped. */
interface CachedView {
  storage: Tensor;
  shape: Shape;
  view: Tensor;
}

/**
 * Caffe's Blob: data and diff of one shape on one device. The data is allocated at the first
 * reshape, the diff on first use (zero-filled). Reshaping to a smaller or equal count keeps the
 * storage; a larger count reallocates it (the values are then lost, as in Caffe).
 */
export class Blob implements BlobView {
  private currentShape: number[] = [];
  private dataStorage: Storage;
  private diffStorage: Storage;
  private dataView: CachedView | undefined;
  private diffView: CachedView | undefined;
  /** False once the data (diff) views another blob's storage: that blob frees it. */
  private ownsData = true;
  private ownsDiff = true;

  constructor(
    readonly name: string,
    readonly device: Device,
    shape?: Shape,
  ) {
    this.dataStorage = new Storage(device, true);
    this.diffStorage = new Storage(device, true);
    if (shape) this.reshape(shape);
  }

  /** A blob over tensors owned elsewhere (another net's parameters); it cannot grow. */
  static borrow(view: BlobView, device: Device): Blob {
    const blob = new Blob(view.name, device);
    blob.dataStorage = new Storage(device, true, false);
    blob.dataStorage.tensor = view.data;
    blob.diffStorage = new Storage(device, true, false);
    blob.diffStorage.tensor = view.diff;
    blob.currentShape = [...view.shape];
    return blob;
  }

  get shape(): readonly number[] {
    return this.currentShape;
  }

  /** Number of elements. */
  get count(): number {
    return shapeSize(this.currentShape);
  }

  get data(): Tensor {
    this.dataView = this.view(this.dataStorage, this.dataView);
    return this.dataView.view;
  }

  get diff(): Tensor {
    this.diffView = this.view(this.diffStorage, this.diffView);
    return this.diffView.view;
  }

  /** Whether a diff has been allocated (a blob nobody back-propagates into never gets one). */
  get hasDiff(): boolean {
    return this.diffStorage.tensor !== undefined;
  }

  /** Sets the shape; returns true when it changed. Storage grows only when the count grows. */
  reshape(shape: Shape): boolean {
    if (shape.length === this.currentShape.length && shape.every((d, i) => d === this.currentShape[i])) return false;
    this.currentShape = [...shape];
    this.dataStorage.ensure(this.count);
    if (this.diffStorage.tensor) this.diffStorage.ensure(this.count);
    return true;
  }

  /** Makes this blob view `other`'s data with its own shape (Caffe's ShareData: Split's tops, Flatten). */
  shareData(other: Blob): void {
    this.requireSameCount(other);
    if (this.dataStorage === other.dataStorage) return;
    if (this.ownsData) this.dataStorage.dispose();
    this.ownsData = false;
    this.dataStorage = other.dataStorage;
    this.dataView = undefined;
  }

  /** Makes this blob view `other`'s diff with its own shape (Caffe's ShareDiff: Flatten). */
  shareDiff(other: Blob): void {
    this.requireSameCount(other);
    if (this.diffStorage === other.diffStorage) return;
    if (this.ownsDiff) this.diffStorage.dispose();
    this.ownsDiff = false;
    this.diffStorage = other.diffStorage;
    this.diffView = undefined;
  }

  private requireSameCount(other: Blob): void {
    if (other.count !== this.count)
      throw new Error(`blob '${this.name}' (${formatShape(this.shape)}) cannot share the storage of '${other.name}' ` +
        `(${formatShape(other.shape)}): the counts differ`);
  }

  /** Frees the storage this blob owns (storage shared from another blob stays with it); disposing twice is safe. */
  dispose(): void {
    if (this.ownsData) this.dataStorage.dispose();
    if (this.ownsDiff) this.diffStorage.dispose();
    this.dataView = this.diffView = undefined;
  }

  private view(storage: Storage, cached: CachedView | undefined): CachedView {
    const tensor = storage.ensure(this.count);
    if (cached && cached.storage === tensor && cached.shape === this.currentShape) return cached;
    return { storage: tensor, shape: this.currentShape, view: viewOf(tensor, this.currentShape) };
  }

  toString(): string {
    return `Blob(${this.name}, ${formatShape(this.shape)})`;
  }
}
