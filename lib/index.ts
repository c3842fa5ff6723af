// index.ts — cudnet's public API: tensors, devices, ops; the engine, datasets and models build on these.
export { CudnetError } from './errors.js';
export { Device, device, devices, memory, cudaUnavailableReason, type DeviceName } from './device.js';
export { Tensor, shapeSize, formatShape, type Shape } from './tensor.js';
export * as ops from './ops/index.js';
