// convolution.ts — the Convolution layer: 2-D cross-correlation with groups, padding, stride and dilation.
import type { ConvolutionParameter } from '../../caffe/index.js';
import { conv2dBackwardBias, conv2dBackwardData, conv2dBackwardFilter, conv2dForward, conv2dOutputShape,
  type ConvOptions } from '../../ops/conv.js';
import type { Blob } from '../blob.js';
import { Layer, type BlobCounts } from '../layer.js';

/** Kernel, pad, stride and dilation as [height, width] pairs, from the repeated or the _h/_w fields. */
interface Geometry {
  kernel: [number, number];
  pad: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

/**
 * Convolution: x [N, C, H, W] → y [N, K, outH, outW] with weight [K, C/group, kh, kw] (blob 0)
 * and bias [K] (blob 1, when bias_term). outH = floor((H + 2*padH - (dilationH*(kh-1)+1)) / strideH) + 1.
 * Several bottoms may be given; each gets its own top and all share the weights.
 */
export class ConvolutionLayer extends Layer {
  static readonly type = 'Convolution';
  private options: ConvOptions = {};

  override get blobCounts(): BlobCounts {
    return { minBottoms: 1 };
  }

  private get convolution(): ConvolutionParameter {
    const param = this.param.convolution_param;
    if (!param) throw this.fail('INVALID_LAYER', 'convolution_param is missing');
    return param;
  }

  protected override layerSetUp(bottoms: Blob[], tops: Blob[]): void {
    const param = this.convolution;
    if (tops.length !== bottoms.length)
      throw this.fail('BLOB_COUNT', `Convolution takes as many tops as bottoms (${bottoms.length}) but has ${tops.length}`);
    if (param.num_output === undefined || param.num_output < 1)
      throw this.fail('INVALID_LAYER', 'convolution_param.num_output must be given (a positive integer)');
    if (param.axis !== 1) throw this.fail('INVALID_LAYER', `only axis 1 (NCHW) convolution is supported, not axis ${param.axis}`);
    const geometry = this.geometry(param);
    this.options = { pad: geometry.pad, stride: geometry.stride, dilation: geometry.dilation, group: param.group };
    const input = bottoms[0].shape;
    if (input.length !== 4)
      throw this.fail('SHAPE_MISMATCH', `bottom '${bottoms[0].name}' must be 4-D [N, C, H, W] but is ${input.join('x')}`);
    const channels = input[1];
    if (param.group < 1 || channels % param.group !== 0 || param.num_output % param.group !== 0)
      throw this.fail('INVALID_LAYER',
        `group ${param.group} must divide both the ${channels} input channels and num_output ${param.num_output}`);
    this.createParam(0, [param.num_output, channels / param.group, ...geometry.kernel], param.weight_filler);
    if (param.bias_term) this.createParam(1, [param.num_output], param.bias_filler);
  }

  private geometry(param: ConvolutionParameter): Geometry {
    const pairOf = (name: string, list: number[], h: number | undefined, w: number | undefined, fallback?: number) => {
      if (h !== undefined || w !== undefined) {
        if (list.length > 0) throw this.fail('INVALID_LAYER', `give either ${name} or ${name}_h/${name}_w, not both`);
        if (h === undefined || w === undefined) throw this.fail('INVALID_LAYER', `give both ${name}_h and ${name}_w`);
        return [h, w] as [number, number];
      }
      if (list.length === 0) {
        if (fallback === undefined) throw this.fail('INVALID_LAYER', `convolution_param.${name}_size must be given`);
        return [fallback, fallback] as [number, number];
      }
      if (list.length > 2) throw this.fail('INVALID_LAYER', `${name} has ${list.length} values; 2-D convolution takes 1 or 2`);
      return [list[0], list[list.length - 1]] as [number, number];
    };
    const kernel = pairOf('kernel', param.kernel_size, param.kernel_h, param.kernel_w);
    if (kernel[0] < 1 || kernel[1] < 1) throw this.fail('INVALID_LAYER', 'the kernel size must be positive');
    return {
      kernel,
      pad: pairOf('pad', param.pad, param.pad_h, param.pad_w, 0),
      stride: pairOf('stride', param.stride, param.stride_h, param.stride_w, 1),
      dilation: pairOf('dilation', param.dilation, undefined, undefined, 1),
    };
  }

  override reshape(bottoms: Blob[], tops: Blob[]): void {
    const weight = this.blobs[0].data;
    const channels = weight.shape[1] * this.convolution.group;
    bottoms.forEach((bottom, i) => {
      if (bottom.shape.length !== 4)
        throw this.fail('SHAPE_MISMATCH', `bottom '${bottom.name}' must be 4-D [N, C, H, W] but is ${bottom.shape.join('x')}`);
      if (bottom.shape[1] !== channels)
        throw this.fail('SHAPE_MISMATCH',
          `bottom '${bottom.name}' has ${bottom.shape[1]} channels but the weights were made for ${channels}`);
      tops[i].reshape(conv2dOutputShape(bottom.shape, weight, this.options));
    });
  }

  override forward(bottoms: Blob[], tops: Blob[]): void {
    const weight = this.blobs[0].data;
    const bias = this.blobs[1]?.data ?? null;
    bottoms.forEach((bottom, i) => conv2dForward(bottom.data, weight, bias, this.options, tops[i].data));
  }

  override backward(tops: Blob[], propagateDown: boolean[], bottoms: Blob[]): void {
    const [weight, bias] = this.blobs;
    bottoms.forEach((bottom, i) => {
      const dy = tops[i].diff;
      if (this.paramPropagateDown[0]) conv2dBackwardFilter(bottom.data, dy, weight.diff, this.options);
      if (bias && this.paramPropagateDown[1]) conv2dBackwardBias(dy, bias.diff);
      if (propagateDown[i]) conv2dBackwardData(weight.data, dy, bottom.diff, this.options);
    });
  }
}
