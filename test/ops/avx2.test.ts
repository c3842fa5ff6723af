// avx2.test.ts — the AVX2 kernels (SGEMM, im2col, direct convolution) on every convolution and GEMM case,
// on this machine even where it has AVX-512: CUDNET_CPU_ISA=avx2 is set before the addon loads.
import t from 'tap';

process.env.CUDNET_CPU_ISA = 'avx2';
const { device } = await import('../../lib/index.js');
t.match(device('cpu').description, /AVX2$/, 'the CPU backend runs its AVX2 kernels');
await import('./conv.test.js');
await import('./gemm.test.js');
