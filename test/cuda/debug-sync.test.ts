// debug-sync.test.ts — CUDNET_CUDA_SYNC=1 makes an asynchronous kernel fault the error of the op and the
// kernel that caused it; without it, the fault is found by the next wait, which cannot say where it arose.
// The GPU is a fake libcuda.so.1 whose every kernel launch leaves an illegal-address fault behind.
import t from 'tap';
import { buildGpuFolder, compilerMissing, runChild } from '../helpers/fake-cuda-libraries.js';

const skip = compilerMissing() || false;

/** An axpby (one kernel, cudnetAxpby) on the fake GPU, then a wait for the device: the wait's error. */
/** The child's last lines: wait for the GPU, and return the error the wait raised, if any. */
const waitForError = `
  try {
    await gpu.synchronize();
    return {};
  } catch (error) {
    return { error: { code: error.code, message: error.message } };
  }`;

const faultThenWait = `
  const gpu = cudnet.device('cuda');
  const x = cudnet.Tensor.zeros([5], gpu, 1);
  const y = cudnet.Tensor.zeros([5], gpu);
  cudnet.ops.axpby(2, x, 1, y);
${waitForError}`;

const folder = skip ? '' : buildGpuFolder('faulting', { version: 13000, faultingKernels: true });

t.test('CUDNET_CUDA_SYNC=1: the fault is reported by the kernel that caused it', { skip }, async (t) => {
  const result = runChild(faultThenWait, { CUDNET_CUDA_PATH: folder, CUDNET_CUDA_SYNC: '1' }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { error } = JSON.parse(result.stdout || '{}');
  t.equal(error?.code, 'CUDA_ERROR_ILLEGAL_ADDRESS');
  t.equal(error?.message, 'axpby(n=5): kernel cudnetAxpby with 1 blocks (waited for at launch, CUDNET_CUDA_SYNC=1) ' +
    'failed (CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered)', 'the op and its kernel are named');
});

t.test('without CUDNET_CUDA_SYNC: the same fault surfaces at the next wait', { skip }, async (t) => {
  const result = runChild(faultThenWait, { CUDNET_CUDA_PATH: folder, CUDNET_CUDA_SYNC: '0' }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { error } = JSON.parse(result.stdout || '{}');
  t.equal(error?.code, 'CUDA_ERROR_ILLEGAL_ADDRESS');
  t.match(error?.message, /^synchronize: waiting for cuda:0 failed \(CUDA_ERROR_ILLEGAL_ADDRESS/);
  t.notMatch(error?.message, /cudnetAxpby/, 'the kernel is not known');
});

t.test('CUDNET_CUDA_SYNC=1: a fault inside cuBLAS is reported by its op', { skip }, async (t) => {
  const gemmFolder = buildGpuFolder('faulting-gemm', { version: 13000, faultingGemm: true });
  const gemmThenWait = `
    const gpu = cudnet.device('cuda');
    const a = cudnet.Tensor.zeros([2, 3], gpu, 1);
    const b = cudnet.Tensor.zeros([3, 4], gpu, 1);
    const c = cudnet.Tensor.zeros([2, 4], gpu);
    cudnet.ops.gemm(a, b, c);
    cudnet.ops.axpby(1, c, 0, c);  // a later, unrelated op
${waitForError}`;
  const result = runChild(gemmThenWait, { CUDNET_CUDA_PATH: gemmFolder, CUDNET_CUDA_SYNC: '1' }, { library: true });
  t.equal(result.status, 0, result.stderr);
  const { error } = JSON.parse(result.stdout || '{}');
  t.equal(error?.code, 'CUDA_ERROR_ILLEGAL_ADDRESS');
  t.equal(error?.message, 'gemm(NN, M=2, N=4, K=3): waiting for cuda:0 failed (CUDA_ERROR_ILLEGAL_ADDRESS: an illegal ' +
    'memory access was encountered)', 'the GEMM is named, not the op after it');
});
