// scan.test.ts — what a folder import leaves out and says so: named pipes, broken and looping links, names that are not UTF-8, folders it may not list.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createDataset } from '../../lib/data/create.js';
import type { SkippedFile } from '../../lib/data/plan.js';
import { makeClassFolder, shapeImage, tempFolder } from './helpers.js';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const createModule = fileURLToPath(new URL(`../../lib/data/create${extension}`, import.meta.url));

/** A named pipe at `file`; false where mkfifo is not available. */
function makeFifo(file: string): boolean {
  try {
    execFileSync('mkfifo', [file]);
    return true;
  } catch {
    return false;
  }
}

const byPath = (skipped: SkippedFile[], root: string) =>
  Object.fromEntries(skipped.map((entry) => [path.relative(root, entry.path), [entry.reason, entry.message]]));

t.test('a folder import skips and reports pipes, broken links, link loops and names that are not UTF-8', { timeout: 60_000 }, async (t) => {
  const root = tempFolder(t);
  const images = path.join(root, 'images');
  await makeClassFolder(images, { a: 3, b: 3 });
  if (!makeFifo(path.join(images, 'a', 'pipe.png'))) t.skip('mkfifo is not available');
  symlinkSync('nowhere.png', path.join(images, 'a', 'gone.png'));
  symlinkSync('self.png', path.join(images, 'a', 'self.png'));
  symlinkSync('.', path.join(images, 'a', 'here'));
  symlinkSync('/nonexistent-class', path.join(images, 'broken-class'));
  const png = await shapeImage(20, 20, [10, 10, 10], [200, 200, 200]).png().toBuffer();
  writeFileSync(Buffer.concat([Buffer.from(path.join(images, 'b', 'bad')), Buffer.from([0xff, 0xfe]), Buffer.from('.png')]), png);
  const messages: string[] = [];
  const report = await createDataset({ folder: images, dest: path.join(root, 'out'), width: 8, height: 8 }, { onMessage: (message) => messages.push(message) });
  t.same(report.splits.train!.count + report.splits.val!.count, 6, 'the six images are imported');
  t.same(byPath(report.skipped, images), {
    'a/pipe.png': ['not-a-file', 'a named pipe (FIFO), not a regular file'],
    'a/gone.png': ['missing', 'a symbolic link to "nowhere.png", which does not exist'],
    'a/self.png': ['symlink-loop', 'a symbolic link that leads back to itself'],
    'a/here': ['symlink-loop', `a link to the folder "${path.join(images, 'a')}", which this class already includes`],
    'broken-class': ['missing', 'a symbolic link to "/nonexistent-class", which does not exist'],
    'b/bad\ufffd\ufffd.png': ['bad-filename', 'the name is not valid UTF-8 (bytes 626164fffe2e706e67)'],
  });
  t.ok(messages.includes(`Skipped ${path.join(images, 'a', 'pipe.png')} (not-a-file): a named pipe (FIFO), not a regular file`), 'each is a message too');
});

t.test('a list import refuses a pipe or a folder listed as an image, without blocking', { timeout: 60_000 }, async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 2, b: 2 });
  if (!makeFifo(path.join(root, 'images', 'pipe.png'))) t.skip('mkfifo is not available');
  writeFileSync(path.join(root, 'labels.txt'), 'a\nb\n');
  writeFileSync(path.join(root, 'train.txt'), 'a/image_0.png 0\na/image_1.png 0\nb/image_0.png 1\nb/image_1.png 1\npipe.png 1\na 0\n');
  const report = await createDataset({
    dest: path.join(root, 'out'), labelsFile: path.join(root, 'labels.txt'), trainList: path.join(root, 'train.txt'),
    prefix: path.join(root, 'images'), width: 8, height: 8, valPercent: 0,
  });
  t.equal(report.splits.train!.count, 4);
  t.same(byPath(report.skipped, path.join(root, 'images')), {
    'pipe.png': ['not-a-file', 'a named pipe (FIFO), not a regular file'],
    a: ['not-a-file', 'a folder, not an image file'],
  });
});

/** Runs createDataset as the user nobody (uid 65534) in a child process; its report or error as JSON. */
async function importAsNobody(options: object): Promise<{ skipped?: SkippedFile[]; error?: { code: string; message: string } }> {
  const script = `
    const { createDataset } = await import(${JSON.stringify(createModule)});
    try {
      const report = await createDataset(${JSON.stringify(options)});
      console.log(JSON.stringify({ skipped: report.skipped }));
    } catch (error) {
      console.log(JSON.stringify({ error: { code: error.code, message: error.message } }));
    }
  `;
  // The test runner records every Node process it sees start in the repository, which nobody may not
  // write: its hook (added to spawned Node commands through NODE_OPTIONS) is left out by starting
  // Node through env, which drops NODE_OPTIONS.
  const execArgv = process.execArgv.filter((option) => !option.includes('processinfo'));
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, ...execArgv, '--input-type=module', '-e', script], {
    uid: 65534, gid: 65534, cwd: '/', stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve, reject) => child.on('close', resolve).on('error', reject));
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as { skipped?: SkippedFile[]; error?: { code: string; message: string } };
}

t.test('a folder the user may not list is reported, not fatal (the import runs as nobody)', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('dropping privileges to nobody needs root; the permission case cannot be set up otherwise');
  const root = tempFolder(t);
  const images = path.join(root, 'images');
  await makeClassFolder(images, { a: 3, b: 3 });
  mkdirSync(path.join(images, 'a', 'locked'));
  writeFileSync(path.join(images, 'a', 'locked', 'hidden.png'), await shapeImage(20, 20, [1, 2, 3], [4, 5, 6]).png().toBuffer());
  chmodSync(path.join(images, 'a', 'locked'), 0o000);
  chmodSync(root, 0o777);
  const result = await importAsNobody({ folder: images, dest: path.join(root, 'out'), width: 8, height: 8 });
  t.same(result.error, undefined, 'the import completes');
  t.same(byPath(result.skipped ?? [], images), { 'a/locked': ['permission-denied', 'permission denied: the folder cannot be listed'] });
  chmodSync(images, 0o000);
  const unreadable = await importAsNobody({ folder: images, dest: path.join(root, 'out2'), width: 8, height: 8 });
  t.same(unreadable.error, { code: 'SOURCE_NOT_READABLE', message: `Image folder "${images}" cannot be read: permission denied: the folder cannot be listed` },
    'the source folder itself must be readable');
  chmodSync(images, 0o755);
  chmodSync(path.join(images, 'a', 'locked'), 0o755);
});
