// algorithms.ts — `--algorithms`: every cuDNN algorithm of each convolution with its time and workspace, and cudnet's pick.
import type { Device } from '../device.js';
import { fromNativeError } from '../errors.js';
import type { Conv2dParams } from '../native.js';
import { native } from '../native.js';
import type { Net } from '../net/index.js';

/** The entry of native/binding/ops/cuda_algorithms.cpp. */
interface AlgorithmEntries {
  convolutionAlgorithms(device: string, params: Conv2dParams): Promise<string>;
}

/** One timed cuDNN algorithm (cudnnFind*AlgorithmEx's result). */
export interface AlgorithmTiming {
  algorithm: number;
  name: string;
  status: string;
  milliseconds: number | null;
  workspaceBytes: number;
  /** cudnnMathType_t: 0 default, 1 tensor op, 2 tensor op allowing conversion, 3 FMA. */
  mathType: number;
  deterministic: boolean;
  /** Whether cudnet runs this one. */
  picked: boolean;
}

export interface ConvolutionAlgorithms {
  layer: string;
  shape: string;
  tf32: boolean;
  /** Whether only deterministic algorithms may be picked (Device.setDeterministic). */
  deterministic: boolean;
  workspaceLimitBytes: number;
  forward: AlgorithmTiming[];
  backwardData: AlgorithmTiming[];
  backwardFilter: AlgorithmTiming[];
}

/** What --algorithms reports for a device: the GPU's lists, or the CPU's single algorithm. */
export type AlgorithmReport =
  | { kind: 'cuda'; convolutions: ConvolutionAlgorithms[] }
  | { kind: 'cpu'; note: string };

export const CPU_ALGORITHM_NOTE = 'the CPU has one convolution algorithm: im2col fused into the GEMM packing, then GEMM';

type RawTiming = Omit<AlgorithmTiming, 'picked'>;

const TENSOR_OP = 1, TENSOR_OP_ALLOW_CONVERSION = 2;

/**
 * Marks the algorithm cudnet runs, by the rule of native/cuda/ops/conv_choice.h's pickAlgorithm() applied
 * to the same list (sorted fastest first): the first that ran, fits the workspace limit, never converts
 * to FP16, uses tensor-core math only in TF32 mode, and is deterministic when only those may run.
 */
export function markPicked(list: readonly RawTiming[], workspaceLimitBytes: number, tf32: boolean,
  deterministic = false): AlgorithmTiming[] {
  const chosen = list.findIndex((entry) => entry.status === 'CUDNN_STATUS_SUCCESS' &&
    entry.workspaceBytes <= workspaceLimitBytes && entry.mathType !== TENSOR_OP_ALLOW_CONVERSION &&
    (tf32 || entry.mathType !== TENSOR_OP) && (!deterministic || entry.deterministic));
  return list.map((entry, i) => ({ ...entry, picked: i === chosen }));
}

/** The native convolution parameters of a Convolution layer from its bottom, weight and convolution_param. */
export function convolutionParams(net: Net, index: number): Conv2dParams {
  const layer = net.layerObjects[index];
  const [N, C, H, W] = net.blobs.get(net.layers[index].bottoms[0])!.shape;
  const [K, , kernelH, kernelW] = layer.blobs[0].shape;
  const param = layer.param.convolution_param!;
  const pair = (list: number[], h: number | undefined, w: number | undefined, fallback: number) =>
    [h ?? list[0] ?? fallback, w ?? list[1] ?? list[0] ?? fallback];
  const [padH, padW] = pair(param.pad, param.pad_h, param.pad_w, 0);
  const [strideH, strideW] = pair(param.stride, param.stride_h, param.stride_w, 1);
  const [dilationH, dilationW] = pair(param.dilation, undefined, undefined, 1);
  return { N, C, H, W, K, kernelH, kernelW, padH, padW, strideH, strideW, dilationH, dilationW, group: param.group };
}

/** Times every algorithm of every convolution of the net (GPU), or says the CPU has one. */
export async function convolutionAlgorithms(net: Net, device: Device): Promise<AlgorithmReport> {
  if (device.kind === 'cpu') return { kind: 'cpu', note: CPU_ALGORITHM_NOTE };
  const entries = native as unknown as AlgorithmEntries;
  const convolutions: ConvolutionAlgorithms[] = [];
  for (const [index, layer] of net.layers.entries()) {
    if (layer.type !== 'Convolution') continue;
    let text: string;
    try {
      text = await entries.convolutionAlgorithms(device.name, convolutionParams(net, index));
    } catch (error) {
      throw fromNativeError(error);
    }
    const raw = JSON.parse(text) as { shape: string; tf32: boolean; deterministic: boolean; workspaceLimitBytes: number } &
      Record<'forward' | 'backwardData' | 'backwardFilter', RawTiming[]>;
    const mark = (list: RawTiming[]) => markPicked(list, raw.workspaceLimitBytes, raw.tf32, raw.deterministic);
    convolutions.push({
      layer: layer.name, shape: raw.shape, tf32: raw.tf32, deterministic: raw.deterministic,
      workspaceLimitBytes: raw.workspaceLimitBytes,
      forward: mark(raw.forward), backwardData: mark(raw.backwardData), backwardFilter: mark(raw.backwardFilter),
    });
  }
  return { kind: 'cuda', convolutions };
}
