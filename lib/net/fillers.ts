// fillers.ts — Caffe's weight fillers (constant, uniform, gaussian, xavier, msra, bilinear, positive_unitball), filled on the host.
import { FillerParameterSchema, type FillerParameter } from '../caffe/index.js';
import { CudnetError, closestName } from '../errors.js';
import { Tensor, shapeSize, type Shape } from '../tensor.js';
import type { Random } from './random.js';

/** A filler description with every field optional; absent fields take caffe.proto's defaults. */
export type FillerSpec = Partial<FillerParameter>;

type FillFunction = (values: Float32Array, shape: Shape, filler: FillerParameter, random: Random) => void;

/** Filler types by name, each filling `values` (laid out as `shape`) in place. */
const FILLERS: Record<string, FillFunction> = {
  constant: (values, _shape, filler) => values.fill(filler.value),
  uniform: (values, _shape, filler, random) => fillUniform(values, filler.min, filler.max, random),
  gaussian: fillGaussian,
  positive_unitball: fillPositiveUnitball,
  xavier: (values, shape, filler, random) => {
    // U(-a, a) with a = sqrt(3/n): the variance a^2/3 equals 1/n.
    const scale = Math.sqrt(3 / fanSize(shape, filler));
    fillUniform(values, -scale, scale, random);
  },
  msra: (values, shape, filler, random) => {
    // N(0, sqrt(2/n)), He et al.'s rule for ReLU nets.
    const std = Math.sqrt(2 / fanSize(shape, filler));
    for (let i = 0; i < values.length; i++) values[i] = random.gaussian(0, std);
  },
  bilinear: fillBilinear,
};

/** The names of the filler types, for messages. */
export const FILLER_TYPES: readonly string[] = Object.keys(FILLERS);

/** A filler with caffe.proto's defaults filled in; an absent filler is constant 0 (Caffe's default). */
export function resolveFiller(filler: FillerSpec | undefined): FillerParameter {
  return FillerParameterSchema.parse(filler ?? {});
}

/**
 * Values for a blob of `shape` drawn by `filler` (constant 0 when absent) from `random`.
 * Throws INVALID_ARGUMENT for an unknown type (with "did you mean") or an unusable shape.
 */
export function fillValues(filler: FillerSpec | undefined, shape: Shape, random: Random): Float32Array {
  const resolved = resolveFiller(filler);
  const fill = FILLERS[resolved.type];
  if (!fill) {
    const suggestion = closestName(resolved.type, FILLER_TYPES);
    throw new CudnetError('INVALID_ARGUMENT',
      `unknown filler type '${resolved.type}'${suggestion ? `; did you mean '${suggestion}'?` : ''} ` +
      `(known: ${FILLER_TYPES.join(', ')})`);
  }
  if (resolved.sparse !== -1 && resolved.type !== 'gaussian')
    throw new CudnetError('INVALID_ARGUMENT', `filler '${resolved.type}' does not take 'sparse' (only gaussian does)`);
  const values = new Float32Array(shapeSize(shape));
  fill(values, shape, resolved, random);
  return values;
}

/** Fills a tensor on its device: the values are drawn on the host and written in one copy. */
export function fillTensor(tensor: Tensor, filler: FillerSpec | undefined, random: Random): Tensor {
  const resolved = resolveFiller(filler);
  if (resolved.type === 'constant' && resolved.sparse === -1) return tensor.fill(resolved.value);
  return tensor.write(fillValues(resolved, tensor.shape, random));
}

function fillUniform(values: Float32Array, low: number, high: number, random: Random): void {
  for (let i = 0; i < values.length; i++) values[i] = random.uniformIn(low, high);
}

/**
 * N(mean, std). With sparse = s >= 0, each value is kept with probability s / shape[0] and zeroed
 * otherwise, so every column of an InnerProduct weight has about s non-zero inputs on average.
 */
function fillGaussian(values: Float32Array, shape: Shape, filler: FillerParameter, random: Random): void {
  for (let i = 0; i < values.length; i++) values[i] = random.gaussian(filler.mean, filler.std);
  if (filler.sparse < 0) return;
  if (shape.length < 1) throw new CudnetError('INVALID_ARGUMENT', 'a sparse gaussian filler needs at least one axis');
  const keepProbability = filler.sparse / shape[0];
  for (let i = 0; i < values.length; i++) if (random.uniform() >= keepProbability) values[i] = 0;
}

/** U[0, 1) then each of the shape[0] rows scaled to sum 1 (positive values on the unit simplex). */
function fillPositiveUnitball(values: Float32Array, shape: Shape, _filler: FillerParameter, random: Random): void {
  fillUniform(values, 0, 1, random);
  const rows = shape[0] ?? 1;
  const rowLength = values.length / rows;
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let j = 0; j < rowLength; j++) sum += values[row * rowLength + j];
    for (let j = 0; j < rowLength; j++) values[row * rowLength + j] /= sum;
  }
}

/**
 * Caffe's fan for xavier and msra: fan_in = count / shape[0] (C_in/group * kh * kw for a
 * convolution, K for an InnerProduct), fan_out = count / shape[1]; variance_norm picks fan_in,
 * fan_out or their average.
 */
export function fanSize(shape: Shape, filler: Pick<FillerParameter, 'variance_norm'>): number {
  const count = shapeSize(shape);
  const fanIn = count / (shape[0] ?? 1);
  const fanOut = shape.length > 1 ? count / shape[1] : count;
  if (filler.variance_norm === 'FAN_OUT') return fanOut;
  if (filler.variance_norm === 'AVERAGE') return (fanIn + fanOut) / 2;
  return fanIn;
}

/**
 * The bilinear upsampling kernel for a Deconvolution of factor f (kernel 2f - f%2), the same for
 * every channel: w[y, x] = (1 - |x/f - c|) * (1 - |y/f - c|) with f = ceil(k/2), c = (2f - 1 - f%2) / 2f.
 */
function fillBilinear(values: Float32Array, shape: Shape): void {
  if (shape.length !== 4 || shape[2] !== shape[3])
    throw new CudnetError('INVALID_ARGUMENT', `the bilinear filler needs a 4-D blob with square kernels, not ${shape.join('x')}`);
  const width = shape[3];
  const height = shape[2];
  const factor = Math.ceil(width / 2);
  const center = (2 * factor - 1 - (factor % 2)) / (2 * factor);
  for (let i = 0; i < values.length; i++) {
    const x = i % width;
    const y = Math.floor(i / width) % height;
    values[i] = (1 - Math.abs(x / factor - center)) * (1 - Math.abs(y / factor - center));
  }
}
