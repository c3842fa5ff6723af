// loader.test.ts — finding CUDA: without a GPU only the CPU is listed and asking for 'cuda' throws one
// error that says what is missing and every path tried; with one, the GPU is listed and opens.
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { cudaUnavailableReason, device, devices } from '../../lib/index.js';

const gpus = devices().filter((name) => name.startsWith('cuda:'));

if (gpus.length === 0) {
  t.test('devices() lists only the CPU', async (t) => {
    t.same(devices(), ['cpu']);
  });

  t.test("asking for 'cuda' throws one error saying what is missing and where the loader looked", async (t) => {
    let caught: (Error & { code?: string }) | undefined;
    try {
      device('cuda');
    } catch (error) {
      caught = error as Error & { code?: string };
    }
    t.ok(caught, 'device("cuda") throws');
    t.equal(caught?.code, 'CUDA_UNAVAILABLE');
    const message = caught?.message ?? '';
    t.match(message, /device cuda:0 is not available: CUDA is unavailable: /);
    t.equal(message.includes(cudaUnavailableReason()), true, 'the message carries the whole reason');
    t.match(message, /CUDNET_CUDA_PATH/, 'it says how to point at libraries installed elsewhere');
    if (message.includes('no NVIDIA driver')) {
      t.match(message, /CUDA driver \(libcuda\.so\.1\): not found\. Tried:/);
      t.match(message, /libcuda\.so\.1 \(default loader path\) — /, 'the default loader path was tried');
      t.match(message, /\/usr\/lib\/x86_64-linux-gnu\/libcuda\.so\.1 — /, 'the distribution folder was tried');
      t.notMatch(message, /stubs\/libcuda/, 'the toolkit stub is never tried');
    }
    if (message.includes('no cuDNN 9')) {
      t.match(message, /cuDNN 9 \(libcudnn\.so\.9\): not found\. Tried:/);
      t.match(message, /\/usr\/local\/cuda\/lib64\/libcudnn\.so\.9 — /);
    }
    if (message.includes('no cuBLAS')) {
      t.match(message, /libcublas\.so\.13 \(default loader path\) — /);
      t.match(message, /libcublas\.so\.12 \(default loader path\) — /, 'CUDA 12 cuBLAS is the fallback');
    }
  });

  t.test('CUDNET_CUDA_PATH folders are searched first, in order', async (t) => {
    // The loader runs once per process, so a child process sees the variable from the start.
    const script = `import('${new URL('../../lib/index.js', import.meta.url).href}')
      .then((m) => process.stdout.write(m.cudaUnavailableReason()))`;
    const output = execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
      env: { ...process.env, CUDNET_CUDA_PATH: '/nonexistent/first:/nonexistent/second' },
      encoding: 'utf8',
    });
    const first = output.indexOf('/nonexistent/first/libcuda.so.1');
    const second = output.indexOf('/nonexistent/second/libcuda.so.1');
    const system = output.indexOf('libcuda.so.1 (default loader path)');
    t.ok(first >= 0 && second > first, 'both folders are tried, in the given order');
    t.ok(system > second, 'before the default loader path');
  });
} else {
  t.test('a usable GPU is listed after the CPU and opens', async (t) => {
    t.equal(devices()[0], 'cpu');
    t.equal(cudaUnavailableReason(), '');
    const gpu = device('cuda');
    t.equal(gpu.name, 'cuda:0');
    t.match(gpu.description, /sm_\d+.*cuDNN 9\.\d+\.\d+.*cuBLAS/);
  });
}
