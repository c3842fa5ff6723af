// package-exports.test.ts — cudnet as other projects load it: `import` and `require` from a project that
// depends on it (a CommonJS one here), through the package's "exports", on the Node versions "engines"
// names (require of an ES module works from Node 20.19 and 22.12 on).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const root = new URL('..', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };

/** A project folder depending on cudnet (linked, as npm links a local dependency). */
function consumer(type: 'commonjs' | 'module'): string {
  const folder = mkdtempSync(join(tmpdir(), 'cudnet-consumer-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
  mkdirSync(join(folder, 'node_modules'));
  symlinkSync(root, join(folder, 'node_modules/cudnet'));
  return folder;
}

t.test("engines names the Node versions that can require an ES module", async (t) => {
  t.equal(manifest.engines.node, '^20.19.0 || >=22.12.0');
  const [major, minor] = process.versions.node.split('.').map(Number);
  t.ok((major === 20 && minor >= 19) || major > 22 || (major === 22 && minor >= 12), `this Node (${process.version}) is one of them`);
});

t.test("require('cudnet') from a CommonJS project", async (t) => {
  const folder = consumer('commonjs');
  writeFileSync(join(folder, 'index.js'), `const cudnet = require('cudnet');
const x = cudnet.Tensor.from(new Float32Array([1, 2, 3]), [3], 'cpu');
x.data().then((values) => console.log(JSON.stringify({ devices: cudnet.devices(), values: Array.from(values), error: typeof cudnet.CudnetError })));`);
  const output = execFileSync(process.execPath, ['index.js'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.same(JSON.parse(output), { devices: ['cpu', ...JSON.parse(output).devices.slice(1)], values: [1, 2, 3], error: 'function' });
});

t.test("import 'cudnet' from an ES module project", async (t) => {
  const folder = consumer('module');
  writeFileSync(join(folder, 'index.js'), `import { devices, ops } from 'cudnet';
console.log(JSON.stringify({ cpu: devices()[0], relu: typeof ops.reluForward }));`);
  const output = execFileSync(process.execPath, ['index.js'], { cwd: folder, encoding: 'utf8' });
  t.same(JSON.parse(output), { cpu: 'cpu', relu: 'function' });
});
