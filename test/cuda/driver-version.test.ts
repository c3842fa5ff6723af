// driver-version.test.ts — cudnet's kernels are CUDA 13 images, so a driver for an older CUDA makes CUDA
// unavailable with a message saying which driver is needed, before any kernel is loaded. Tested with a
// fake libcuda.so.1 (beside fake cuDNN and cuBLAS, so the driver is the only thing wrong) and, the
// other way, a fake driver for CUDA 13.0 whose GPU opens.
import t from 'tap';
import { buildGpuFolder, compilerMissing, runChild } from '../helpers/fake-cuda-libraries.js';

const skip = compilerMissing() || false;

/** devices(), and what device('cuda') gives: its description or its error. */
const openCuda = `
  const devices = cudnet.devices();
  try {
    return { devices, description: cudnet.device('cuda').description };
  } catch (error) {
    return { devices, error: { code: error.code, message: error.message } };
  }`;

t.test('a driver for CUDA 12.4: CUDA is unavailable, and the message names the driver needed', { skip }, async (t) => {
  const folder = buildGpuFolder('driver-12', { version: 12040 });
  const result = runChild(openCuda, { CUDNET_CUDA_PATH: folder }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { devices, error } = JSON.parse(result.stdout || '{}');
  t.same(devices, ['cpu'], 'devices() lists only the CPU');
  t.equal(error?.code, 'CUDA_UNAVAILABLE');
  t.match(error?.message, "the NVIDIA driver supports CUDA 12.4; cudnet's kernels need a driver for CUDA 13.0 or " +
    'newer (R580+)');
  t.notMatch(error?.message, /no cuDNN|no cuBLAS|no NVIDIA driver/, 'the fake cuDNN and cuBLAS are usable');
});

t.test('a driver for CUDA 13.0: the GPU is listed and opens', { skip }, async (t) => {
  const folder = buildGpuFolder('driver-13', { version: 13000 });
  const result = runChild(openCuda, { CUDNET_CUDA_PATH: folder }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { devices, description, error } = JSON.parse(result.stdout || '{}');
  t.equal(error, undefined, error?.message);
  t.same(devices, ['cpu', 'cuda:0']);
  t.equal(description, 'Fake GPU (sm_00, 0 SMs), 8192 MiB, driver CUDA 13.0, cuDNN 9.1.0, cuBLAS 13.0.0');
});

t.test("a driver that cannot report the GPU's memory: the open fails, naming the call", { skip }, async (t) => {
  const folder = buildGpuFolder('memory-info', { version: 13000, memoryInfoStatus: 999 });
  const result = runChild(openCuda, { CUDNET_CUDA_PATH: folder }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { error } = JSON.parse(result.stdout || '{}');
  t.equal(error?.code, 'CUDA_ERROR_999');
  t.match(error?.message, "asking cuda:0's memory size failed (CUDA_ERROR_999)");
});
