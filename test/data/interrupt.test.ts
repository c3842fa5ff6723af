// An import that is killed or cannot publish its result leaves nothing that looks like a complete dataset.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createDataset } from '../../lib/data/create.js';
import { makeClassFolder, tempFolder } from './helpers.js';

const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const createModule = fileURLToPath(new URL(`../../lib/data/create${extension}`, import.meta.url));

t.test('killing the importing process mid-import leaves only a .partial folder', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 60, b: 60 });
  const dest = path.join(root, 'dataset');
  const script = `
    const { createDataset } = await import(${JSON.stringify(createModule)});
    await createDataset({ folder: ${JSON.stringify(path.join(root, 'images'))}, dest: ${JSON.stringify(dest)}, width: 256, height: 256, concurrency: 1 },
      { onProgress: (p) => { if (p.phase === 'train' && p.done >= 5) console.log('writing'); } });
  `;
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('writing')) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => resolve());
    child.on('error', reject);
  });
  await new Promise((resolve) => child.once('exit', resolve).once('close', resolve));
  t.notOk(existsSync(dest), 'no dataset folder');
  const left = readdirSync(root).filter((name) => name !== 'images');
  t.equal(left.length, 1);
  t.match(left[0], /^dataset\.partial-\d+$/);
  t.notOk(existsSync(path.join(root, left[0]!, 'dataset.json')), 'the partial folder has no manifest');
  // The next import into the same place removes it: its process is gone.
  const messages: string[] = [];
  await createDataset({ folder: path.join(root, 'images'), dest, width: 8, height: 8 }, { onMessage: (message) => messages.push(message) });
  t.same(readdirSync(root).sort(), ['dataset', 'images']);
  t.ok(messages.includes(`Removed ${left[0]}, left by an import that was interrupted`));
});

/** The id of a process that has ended. */
function goneProcessId(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

t.test('leftovers of killed imports: partial folders of ended processes removed, an old dataset put back, running ones untouched', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 2, b: 2 });
  const dest = path.join(root, 'dataset');
  const gone = goneProcessId();
  const running = process.ppid;
  for (const name of [`dataset.partial-${gone}`, `dataset.partial-${running}`, `dataset.old-${gone}`, `datasets.partial-${gone}`]) {
    mkdirSync(path.join(root, name));
    writeFileSync(path.join(root, name, 'marker'), name);
  }
  // An overwrite killed between its two renames: the previous dataset is only in dataset.old-<pid>.
  const options = { folder: path.join(root, 'images'), dest, width: 8, height: 8 };
  await t.rejects(createDataset(options), { code: 'DESTINATION_EXISTS' }, 'the previous dataset is back, so it is not replaced unasked');
  t.equal(readFileSync(path.join(dest, 'marker'), 'utf8'), `dataset.old-${gone}`);
  t.same(readdirSync(root).sort(), ['dataset', `dataset.partial-${running}`, `datasets.partial-${gone}`, 'images'],
    'a running process\'s folder and another destination\'s are left alone');
  await createDataset({ ...options, overwrite: true });
  t.ok(existsSync(path.join(dest, 'dataset.json')));
});

t.test('a failed final rename removes the partial folder and keeps what is at the destination', async (t) => {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'images'), { a: 4, b: 4 });
  const dest = path.join(root, 'dataset');
  await t.rejects(createDataset({ folder: path.join(root, 'images'), dest, width: 8, height: 8 }, {
    onProgress: (progress) => {
      // Someone else creates the destination while we work: publishing must not clobber it.
      if (progress.phase === 'finish') {
        mkdirSync(dest);
        writeFileSync(path.join(dest, 'theirs.txt'), 'x');
      }
    },
  }), { code: 'DESTINATION_EXISTS', message: /appeared during the import/ });
  t.same(readdirSync(dest), ['theirs.txt']);
  t.same(readdirSync(root).sort(), ['dataset', 'images'], 'partial folder removed');
});
