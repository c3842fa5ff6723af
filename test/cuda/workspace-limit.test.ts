// workspace-limit.test.ts — CUDNET_CUDNN_WORKSPACE_MB takes a number of MiB or a size with its unit
// ("1G" is 1 GiB, not the 1 MiB a plain number reader would make of it); anything else is refused
// with INVALID_ARGUMENT when the GPU opens. The accepted values are read as cudaDiagnostics() reports
// them (the same reader the GPU uses); the refusal is seen opening a fake GPU.
import t from 'tap';
import { native } from '../../lib/native.js';
import { buildGpuFolder, compilerMissing, runChild } from '../helpers/fake-cuda-libraries.js';

const variable = 'CUDNET_CUDNN_WORKSPACE_MB';
const MiB = 2 ** 20;

/** The limit cudaDiagnostics() reports with the variable set to `value` (unset for undefined). */
function limitFor(value: string | undefined): { bytes: number | null; problem: string } {
  const saved = process.env[variable];
  if (value === undefined) delete process.env[variable];
  else process.env[variable] = value;
  try {
    return JSON.parse((native.cudaDiagnostics as () => string)()).cudnnWorkspaceLimit;
  } finally {
    if (saved === undefined) delete process.env[variable];
    else process.env[variable] = saved;
  }
}

const refusal = (value: string) => `${variable}="${value}" is not a size: give a number of MiB (512) or a number ` +
  'with a unit (K, M, G or T, as 256M, 1.5G or 2GiB)';

t.test('accepted: a number of MiB, or a number with a unit in powers of 1024', async (t) => {
  const accepted: Array<[string | undefined, number]> = [
    [undefined, 1024 * MiB], ['', 1024 * MiB], ['512', 512 * MiB], ['0', 0], [' 64 ', 64 * MiB], ['1.5', 1.5 * MiB],
    ['1G', 2 ** 30], ['1g', 2 ** 30], ['1.5G', 1.5 * 2 ** 30], ['2GiB', 2 ** 31], ['2gib', 2 ** 31], ['2GB', 2 ** 31],
    ['256M', 256 * MiB], ['256 mb', 256 * MiB], ['256MiB', 256 * MiB], ['100K', 102400], ['100kib', 102400],
    ['100KB', 102400], ['1T', 2 ** 40], ['1TiB', 2 ** 40], ['.5G', 2 ** 29],
  ];
  for (const [value, bytes] of accepted) {
    t.same(limitFor(value), { bytes, problem: '' }, `${JSON.stringify(value)} is ${bytes} bytes`);
  }
});

t.test('refused: anything else, with a message naming the variable and the value', async (t) => {
  for (const value of ['1X', '-5', '+5', '1e3', 'G', 'MB', '1.2.3', '12 34', '1GB2', '0x10', '1 GiBs', 'abc', '1Gi',
    '99999999999T', ' ']) {
    t.same(limitFor(value), { bytes: null, problem: refusal(value) }, JSON.stringify(value));
  }
});

t.test('opening a GPU: a refused value throws INVALID_ARGUMENT; an accepted one opens',
  { skip: compilerMissing() || false }, async (t) => {
    const folder = buildGpuFolder('workspace', { version: 13000 });
    const result = runChild(`
      process.env.${variable} = '1X';
      let refused;
      try {
        cudnet.device('cuda');
      } catch (error) {
        refused = { code: error.code, message: error.message };
      }
      process.env.${variable} = '1G';
      return { refused, opened: cudnet.device('cuda').name };`, { CUDNET_CUDA_PATH: folder }, { library: true });
    t.equal(result.status, 0, result.stderr);
    const { refused, opened } = JSON.parse(result.stdout || '{}');
    t.equal(refused?.code, 'INVALID_ARGUMENT');
    t.match(refused?.message, refusal('1X'));
    t.equal(opened, 'cuda:0');
  });
