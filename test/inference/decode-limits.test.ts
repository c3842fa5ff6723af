// decode-limits.test.ts — decompression bombs refused from the header, the pixel limit option, and the memory gate of decodes in flight.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import t from 'tap';
import { loadModel } from '../../lib/inference/index.js';
import { MemoryGate } from '../../lib/inference/decode-limits.js';
import { assertThrowsCode } from '../helpers/index.js';
import { blackPng, makeModelFolder, randomPng, removeModelFolders } from './fixture.js';

t.teardown(removeModelFolders);

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const inferenceModule = fileURLToPath(new URL(`../../lib/inference/index${extension}`, import.meta.url));

/** Runs `script` (an ES module body) in a fresh Node process with this test's loader; returns its last stdout line as JSON. */
async function runChild(script: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`child exited with ${String(code)}: ${output}`);
  return JSON.parse(output.trim().split('\n').pop()!) as Record<string, unknown>;
}

t.test('a 249 KB PNG declaring 16000x16000 is refused before decoding; memory stays flat; normal images still classify', async (t) => {
  const folder = await mkdtemp(path.join(tmpdir(), 'cudnet-bomb-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const bomb = await blackPng(16000, 16000);
  t.ok(bomb.length < 300 * 1024, `the file is small (${bomb.length} bytes)`);
  await writeFile(path.join(folder, 'bomb.png'), bomb);
  await writeFile(path.join(folder, 'normal.png'), await randomPng(1, 100, 80));
  const model = await makeModelFolder();
  // RSS is the whole process's: measured in a process of its own, three bomb requests at once.
  const report = await runChild(`
    import { readFileSync } from 'node:fs';
    const { loadModel } = await import(${JSON.stringify(inferenceModule)});
    const model = await loadModel(${JSON.stringify(model)}, { device: 'cpu' });
    const bomb = readFileSync(${JSON.stringify(path.join(folder, 'bomb.png'))});
    const normal = readFileSync(${JSON.stringify(path.join(folder, 'normal.png'))});
    await model.classify(normal);
    globalThis.gc?.();
    const rss = () => process.memoryUsage().rss;
    const base = rss();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 2);
    const started = performance.now();
    const results = await Promise.allSettled([0, 1, 2].map(() => model.classify(bomb)));
    const ms = performance.now() - started;
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    const after = await model.classify(normal);
    console.log(JSON.stringify({
      codes: results.map((result) => result.status === 'rejected' ? result.reason.code : 'classified'),
      messages: results.map((result) => result.status === 'rejected' ? result.reason.message : ''),
      growthMiB: (peak - base) / 2 ** 20, ms, afterLabels: after.length,
    }));
    await model.dispose();
  `);
  t.same(report.codes, ['IMAGE_TOO_LARGE', 'IMAGE_TOO_LARGE', 'IMAGE_TOO_LARGE']);
  t.match((report.messages as string[])[0], /16000x16000 \(256 Mpx\), more than the 40 Mpx this model decodes \(loadModel's maxInputPixels\)/);
  t.ok((report.growthMiB as number) < 64, `RSS grew by ${(report.growthMiB as number).toFixed(1)} MiB (768 MiB per decoded copy)`);
  t.comment(`three refusals took ${(report.ms as number).toFixed(1)} ms`);
  t.equal(report.afterLabels, 3, 'a normal image classifies afterwards');
});

t.test('maxInputPixels: checked, applied to every format (header read in JavaScript or by sharp), small PNGs included', async (t) => {
  const folder = await makeModelFolder();
  await assertThrowsCode(t, () => loadModel(folder, { device: 'cpu', maxInputPixels: 0 }), 'INVALID_ARGUMENT',
    'Expected a positive integer number of pixels for maxInputPixels but received 0');
  await assertThrowsCode(t, () => loadModel(folder, { device: 'cpu', maxInputPixel: 5 } as never), 'UNKNOWN_OPTION', /maxInputPixels/);
  const model = await loadModel(folder, { device: 'cpu', maxInputPixels: 1000 });
  t.teardown(() => model.dispose());
  t.equal(model.maxInputPixels, 1000);
  const solid = () => sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } });
  const inputs: [string, Buffer][] = [
    ['small PNG (decoded on the event loop)', await solid().png().toBuffer()],
    ['PNG with alpha (size read in JavaScript)', await solid().ensureAlpha().png().toBuffer()],
    ['JPEG', await solid().jpeg().toBuffer()],
    ['WebP (size from sharp\'s metadata)', await solid().webp().toBuffer()],
  ];
  for (const [what, bytes] of inputs)
    await assertThrowsCode(t, () => model.classify(bytes), 'IMAGE_TOO_LARGE', /^image is 40x30 \(0\.0012 Mpx\), more than the 0\.001 Mpx/);
  t.equal((await model.classify(await solid().resize(30, 30).png().toBuffer())).length, 3, '900 pixels pass');
});

t.test('MemoryGate: decodes run together while their memory fits, in arrival order; a larger one runs alone', async (t) => {
  const gate = new MemoryGate(100);
  const order: string[] = [];
  const first = await gate.acquire(60);
  const second = gate.acquire(50).then((release) => (order.push('second'), release));
  const third = gate.acquire(10).then((release) => (order.push('third'), release));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, [], 'the second waits for room, and the third, though it fits, does not overtake it');
  t.equal(gate.used, 60);
  first();
  first();
  const releaseSecond = await second;
  const releaseThird = await third;
  t.same(order, ['second', 'third']);
  t.equal(gate.used, 60, 'a second release of the same decode gives nothing back twice');
  const huge = gate.acquire(500).then((release) => (order.push('huge'), release));
  releaseSecond();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, ['second', 'third'], 'the huge one waits for the others');
  releaseThird();
  const releaseHuge = await huge;
  t.equal(gate.used, 100, 'counted as the whole budget');
  releaseHuge();
  t.equal(gate.used, 0);
});
