// conformance.test.ts — tools/conformance/check.sh compares our declarations of the CUDA APIs with the real
// headers. Where the CUDA toolkit's cuda.h is present (CI has it) the driver part is compiled on every
// commit, and a copy of our declarations with one value changed must fail, naming it: a check that could
// not fail would prove nothing. cuDNN's and cuBLAS' headers are compared on GPU machines (npm run gpu:check).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const root = new URL('../..', import.meta.url).pathname;
const script = join(root, 'tools/conformance/check.sh');
const cudaInclude = '/usr/local/cuda/include';
const check = (native: string) =>
  spawnSync('bash', [script, cudaInclude], { encoding: 'utf8', env: { ...process.env, CUDNET_NATIVE: native } });

const skip = existsSync(join(cudaInclude, 'cuda.h')) ? false : `no CUDA toolkit headers in ${cudaInclude}`;

t.test('our driver declarations match cuda.h', { skip }, async (t) => {
  const result = check(join(root, 'native'));
  t.equal(result.status, 0, result.stdout + result.stderr);
  t.match(result.stdout, /^PASS checked: driver CUDA \d+\.\d+, cuDNN absent, cuBLAS absent \(folders: \/usr\/local\/cuda\/include\)$/m);
});

t.test('a declaration that differs from the real header fails the check, by name', { skip }, async (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'cudnet-conformance-'));
  t.teardown(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(join(root, 'native/cuda/api'), join(copy, 'cuda/api'), { recursive: true });
  const header = join(copy, 'cuda/api/driver.h');
  const text = readFileSync(header, 'utf8');
  const changed = text.replace('CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;', 'CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 17;');
  t.not(changed, text, 'the value was changed in the copy');
  writeFileSync(header, changed);
  const result = check(copy);
  t.equal(result.status, 1);
  t.match(result.stdout, /^FAIL checked: driver CUDA/m);
  t.match(result.stdout + result.stderr, /CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT/);
});
