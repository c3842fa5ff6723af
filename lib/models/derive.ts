// derive.ts — nets derived from a train_val net as DIGITS derives them: its Data layers, and its deploy form.
import type { LayerParameter, NetParameter } from '../caffe/index.js';

/** The Data layer of a phase: the one whose include rule names it, else the only one. */
export function dataLayerOf(network: NetParameter, phase: 'TRAIN' | 'TEST'): LayerParameter | undefined {
  const dataLayers = network.layer.filter((layer) => layer.type === 'Data');
  return dataLayers.find((layer) => layer.include.some((rule) => rule.phase === phase)) ??
    dataLayers.find((layer) => layer.include.length === 0);
}

/**
 * A deploy net from a train_val net, as DIGITS derives one: the Data layers become one Input
 * "data" of batch 1 (of the TEST crop size when the net crops, else the stored image size
 * [C, H, W]), TRAIN-only layers, losses and accuracies go, and a Softmax "prob" follows the scores
 * the loss read.
 */
export function deployFromTrainVal(network: NetParameter, imageShape: readonly [number, number, number]): NetParameter {
  const crop = dataLayerOf(network, 'TEST')?.transform_param?.crop_size ?? 0;
  const [channels, height, width] = imageShape;
  const shape = crop > 0 ? [1, channels, crop, crop] : [1, channels, height, width];
  const loss = network.layer.find((layer) => layer.type === 'SoftmaxWithLoss');
  const keep = (layer: LayerParameter) =>
    !['Data', 'SoftmaxWithLoss', 'Accuracy'].includes(layer.type) && !layer.include.some((rule) => rule.phase === 'TRAIN');
  const input = { ...network.layer[0]!, name: 'data', type: 'Input', bottom: [], top: ['data'], include: [], exclude: [],
    transform_param: undefined, data_param: undefined, input_param: { shape: [{ dim: shape }] } } as LayerParameter;
  const body = network.layer.filter(keep);
  const prob = loss ? [{ ...loss, name: 'prob', type: 'Softmax', bottom: [loss.bottom[0]!], top: ['prob'], loss_weight: [], loss_param: undefined, include: [], exclude: [] } as LayerParameter] : [];
  return { ...network, layer: [input, ...body, ...prob] };
}
