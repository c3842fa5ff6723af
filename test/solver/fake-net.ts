// fake-net.ts — a NetLike with a quadratic loss over its parameters, so solver updates can be computed by hand.
import { Tensor, device as resolveDevice, ops } from '../../lib/index.js';
import { readCaffemodel, writeCaffemodel } from '../../lib/caffe/index.js';
import type { BlobView, LearnableParam, NetLike } from '../../lib/net/contract.js';

export interface FakeParamSpec {
  name: string;
  initial: number[];
  target: number[];
  lrMult?: number;
  decayMult?: number;
}

/**
 * loss = sum over params of 0.5 * |w - target|^2, so each backward adds (w - target) to the diff
 * (accumulating, as Caffe's layers do). `lossOverride` makes forward return another loss (NaN tests).
 */
export class FakeNet implements NetLike {
  readonly name = 'fake';
  readonly phase = 'TRAIN' as const;
  readonly device = resolveDevice('cpu');
  readonly blobs = new Map<string, BlobView>();
  readonly params = new Map<string, BlobView[]>();
  readonly learnableParams: LearnableParam[];
  readonly outputNames = ['loss'];
  readonly layers: { name: string; type: string; bottoms: string[]; tops: string[] }[];
  lossOverride: number | undefined;
  forwardCount = 0;
  private readonly targets: Tensor[];
  private lastLoss = 0;

  constructor(specs: FakeParamSpec[], readonly batch = 4) {
    const data = Tensor.zeros([batch, 1], this.device);
    this.blobs.set('data', view('data', data));
    this.layers = [{ name: 'data', type: 'Input', bottoms: [], tops: ['data'] }];
    this.learnableParams = specs.map((spec) => {
      const blob = view(spec.name, Tensor.from(spec.initial, [spec.initial.length], this.device));
      this.params.set(spec.name, [blob]);
      this.layers.push({ name: spec.name, type: 'Quadratic', bottoms: [], tops: [] });
      return { name: `${spec.name}/0`, layerName: spec.name, index: 0, blob, lrMult: spec.lrMult ?? 1, decayMult: spec.decayMult ?? 1 };
    });
    this.targets = specs.map((spec) => Tensor.from(spec.target, [spec.target.length], this.device));
  }

  async forward(): Promise<number> {
    this.forwardCount++;
    let loss = 0;
    for (const [index, param] of this.learnableParams.entries()) {
      const weights = await param.blob.data.data();
      const target = await this.targets[index]!.data();
      weights.forEach((w, i) => (loss += 0.5 * (w - target[i]!) ** 2));
    }
    this.lastLoss = this.lossOverride ?? loss;
    return this.lastLoss;
  }

  backward(): void {
    this.learnableParams.forEach((param, index) => {
      ops.axpy(1, param.blob.data, param.blob.diff);
      ops.axpy(-1, this.targets[index]!, param.blob.diff);
    });
  }

  async forwardLayer(): Promise<void> {}
  backwardLayer(): void {}

  clearParamDiffs(): void {
    for (const param of this.learnableParams) param.blob.diff.fill(0);
  }

  async readOutputs(): Promise<Record<string, Float32Array>> {
    return { loss: Float32Array.of(this.lastLoss) };
  }

  loadCaffemodel(bytes: Uint8Array): string[] {
    const model = readCaffemodel(bytes);
    for (const layer of model.layers) this.params.get(layer.name)?.[0]!.data.write(layer.blobs[0]!.data);
    return model.layers.map((layer) => layer.name);
  }

  async toCaffemodel(): Promise<Uint8Array> {
    const layers = [];
    for (const param of this.learnableParams)
      layers.push({ name: param.layerName, type: 'Quadratic', blobs: [{ shape: [...param.blob.shape], data: await param.blob.data.data() }] });
    return writeCaffemodel({ name: this.name, layers });
  }

  async weights(): Promise<number[][]> {
    return Promise.all(this.learnableParams.map(async (param) => Array.from(await param.blob.data.data())));
  }

  dispose(): void {}
}

function view(name: string, data: Tensor): BlobView {
  return { name, shape: data.shape, data, diff: Tensor.zeros(data.shape, data.device) };
}
