// dummy-data.ts — the DummyData layer: tops filled by fillers, refilled every forward unless constant.
import type { FillerParameter } from '../../caffe/index.js';
import type { Blob } from '../blob.js';
import { fillTensor, resolveFiller } from '../fillers.js';
import { Layer, type BlobCounts } from '../layer.js';

/**
 * DummyData: top i has shape[i] (or the legacy num/channels/height/width) and data_filler[i]
 * (one filler for all tops, or none = constant 0). As in Caffe, constant tops are filled once
 * and the others are redrawn at every forward.
 */
export class DummyDataLayer extends Layer {
  static readonly type = 'DummyData';
  private shapes: number[][] = [];
  private fillers: FillerParameter[] = [];

  override get blobCounts(): BlobCounts {
    return { exactBottoms: 0, minTops: 1 };
  }

  override get hasBackward(): boolean {
    return false;
  }

  protected override layerSetUp(_bottoms: Blob[], tops: Blob[]): void {
    const param = this.param.dummy_data_param;
    const count = tops.length;
    this.shapes = this.readShapes(count);
    const fillers = param?.data_filler ?? [];
    if (fillers.length !== 0 && fillers.length !== 1 && fillers.length !== count)
      throw this.fail('INVALID_LAYER', `dummy_data_param needs 0, 1 or ${count} data_filler, not ${fillers.length}`);
    this.fillers = tops.map((_, i) => resolveFiller(fillers.length === 0 ? undefined : fillers[fillers.length === 1 ? 0 : i]));
    tops.forEach((top, i) => {
      top.reshape(this.shapes[i]);
      fillTensor(top.data, this.fillers[i], this.random);
    });
  }

  private readShapes(count: number): number[][] {
    const param = this.param.dummy_data_param;
    const shapes = param?.shape ?? [];
    const pick = <T>(list: readonly T[], i: number) => list[list.length === 1 ? 0 : i];
    if (shapes.length > 0) {
      if (shapes.length !== 1 && shapes.length !== count)
        throw this.fail('INVALID_LAYER', `dummy_data_param needs 1 or ${count} shape, not ${shapes.length}`);
      return Array.from({ length: count }, (_, i) => [...pick(shapes, i).dim]);
    }
    const legacy = [param?.num ?? [], param?.channels ?? [], param?.height ?? [], param?.width ?? []];
    if (legacy.some((list) => list.length !== 1 && list.length !== count))
      throw this.fail('INVALID_LAYER', `dummy_data_param needs a shape (or num, channels, height and width) for each of the ${count} tops`);
    return Array.from({ length: count }, (_, i) => legacy.map((list) => pick(list, i)));
  }

  override reshape(_bottoms: Blob[], tops: Blob[]): void {
    tops.forEach((top, i) => {
      // A grown top lost its values; a constant filler must write them again.
      if (top.reshape(this.shapes[i]) && this.fillers[i].type === 'constant') fillTensor(top.data, this.fillers[i], this.random);
    });
  }

  override forward(_bottoms: Blob[], tops: Blob[]): void {
    tops.forEach((top, i) => {
      if (this.fillers[i].type !== 'constant') fillTensor(top.data, this.fillers[i], this.random);
    });
  }

  /** Sets the first axis of every top (the batch size). */
  setBatchSize(batchSize: number): void {
    for (const shape of this.shapes) if (shape.length > 0) shape[0] = batchSize;
  }
}
