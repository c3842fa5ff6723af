// optional-deps.test.ts — the library loads and computes without sharp and lmdb (they are loaded on
// first use of images or datasets), and that first use says which package is missing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const libraryUrl = new URL('../lib/index.js', import.meta.url).href;

/** Runs `body` in a child process where neither `import` nor `require` can find sharp or lmdb. */
function withoutImagePackages(body: string): string {
  const hook = `export async function resolve(specifier, context, next) {
    if (/^(sharp|lmdb)(\\/|$)/.test(specifier)) throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
    return next(specifier, context);
  }`;
  const script = `
    import Module, { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (/^(sharp|lmdb)(\\/|$)/.test(request)) throw Object.assign(new Error("Cannot find module '" + request + "'"), { code: 'MODULE_NOT_FOUND' });
      return resolveFilename.call(this, request, ...rest);
    };
    const cudnet = await import(${JSON.stringify(libraryUrl)});
    ${body}`;
  return execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' });
}

t.test('tensors, ops and nets work without sharp and lmdb installed', async (t) => {
  const output = withoutImagePackages(`
    const x = cudnet.Tensor.from(new Float32Array([1, -2, 3, -4]), [4], 'cpu');
    const y = cudnet.ops.reluForward(x, cudnet.Tensor.zeros([4], 'cpu'));
    const net = cudnet.Net.fromParameter(cudnet.lenet({ batchSize: 2, variant: 'deploy' }), { phase: 'TEST', device: 'cpu' });
    process.stdout.write(JSON.stringify({ relu: Array.from(await y.data()), layers: net.layers.length }));`);
  const result = JSON.parse(output) as { relu: number[]; layers: number };
  t.same(result.relu, [1, 0, 3, 0]);
  t.ok(result.layers > 5, 'LeNet builds');
});

t.test('the first use of images or LMDB names the missing package', async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'cudnet-optional-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(join(folder, 'one.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
  const output = withoutImagePackages(`
    const outcome = async (work) => { try { await work(); return 'resolved'; } catch (error) { return { code: error.code, message: error.message }; } };
    const lmdb = await outcome(() => cudnet.data.openRecords(${JSON.stringify(folder)}));
    const sharp = await outcome(() => cudnet.data.previewResize(${JSON.stringify(join(folder, 'one.png'))}, { width: 2, height: 2, channels: 3, resizeMode: 'squash' }));
    process.stdout.write(JSON.stringify({ lmdb, sharp }));`);
  const { lmdb, sharp } = JSON.parse(output) as Record<string, { code: string; message: string }>;
  t.equal(lmdb.code, 'DEPENDENCY_MISSING');
  t.match(lmdb.message, /reading or writing an LMDB dataset needs the package 'lmdb', which cannot be loaded: Cannot find module 'lmdb'/);
  t.match(lmdb.message, /npm install lmdb/);
  t.equal(sharp.code, 'DEPENDENCY_MISSING');
  t.match(sharp.message, /needs the package 'sharp'/);
});
