// errors.test.ts — wrong paths given to the commands are one line with a code, never a stack trace or a hang; a killed run's leftovers are cleaned up.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../../lib/cli/main.js';
import { createDataset } from '../../lib/data/create.js';
import { makeClassFolder } from '../data/helpers.js';
import { captureStreams } from './fixtures/capture.js';

const root = mkdtempSync(join(tmpdir(), 'cudnet-cli-errors-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const file = join(root, 'a-file');
writeFileSync(file, 'not a folder, not a network');
const missing = join(root, 'missing');

/** Runs the command line; asserts it fails with exit code 1 and prints exactly one `Error (<code>): <message>` line. */
async function failsWith(t: Parameters<Parameters<typeof t.test>[1]>[0], argv: string[], code: string, message: string | RegExp): Promise<void> {
  const streams = captureStreams();
  t.equal(await runCli(argv, streams), 1, argv.join(' '));
  const printed = streams.err();
  t.notMatch(printed, /\n\s+at /, 'no stack trace');
  t.match(printed, /^Error \([A-Z_]+\): [^\n]+\n$/, 'one line');
  t.equal(/^Error \(([A-Z_]+)\)/.exec(printed)?.[1], code);
  t.match(printed, message);
}

t.test('a path that is missing, a folder for a file or a file for a folder: one line, before any work', async (t) => {
  const cases: [string[], string, string | RegExp][] = [
    [['train', '--weights', missing], 'FILE_NOT_FOUND', `--weights ${missing}: no such file`],
    [['train', '--resume', missing], 'FILE_NOT_FOUND', `--resume ${missing}: no such file`],
    [['train', '--network', missing], 'FILE_NOT_FOUND', `--network ${missing}: no such file`],
    [['train', '--solver', missing], 'FILE_NOT_FOUND', `--solver ${missing}: no such file`],
    [['train', '--weights', root], 'NOT_A_FILE', `--weights ${root}: expected a file but this is a folder`],
    [['train', '--dataset', file], 'NOT_A_FOLDER', `--dataset ${file}: expected a folder but this is a file`],
    [['time', '--network', missing], 'FILE_NOT_FOUND', `--network ${missing}: no such file`],
    [['time', '--network', root], 'NOT_A_FILE', `--network ${root}: expected a file but this is a folder`],
  ];
  for (const [argv, code, message] of cases) await failsWith(t, argv, code, message);
});

t.test('an output folder that cannot be created: a file in the way, or /proc, where a recursive mkdir never returns', { timeout: 120_000 }, async (t) => {
  await failsWith(t, ['train', '--output', join(file, 'run'), '--device', 'cpu'], 'NOT_A_FOLDER',
    `Output folder "${join(file, 'run')}" cannot be created: "${file}" is a file, not a folder`);
  if (!existsSync('/proc/self')) return;
  await failsWith(t, ['train', '--output', '/proc/cudnet-run', '--device', 'cpu'], 'CANNOT_CREATE_FOLDER',
    'Output folder "/proc/cudnet-run" cannot be created: the file system of "/proc" does not allow new folders');
  await makeClassFolder(join(root, 'images'), { a: 2, b: 2 });
  await failsWith(t, ['dataset', 'create', join(root, 'images'), '/proc/cudnet-dataset'], 'DESTINATION_INVALID',
    'Destination "/proc/cudnet-dataset" cannot be created: the file system of "/proc" does not allow new folders');
  // A folder that exists but takes no files: the system's own error, still one line.
  await failsWith(t, ['train', '--output', '/proc/self', '--device', 'cpu', '--epochs', '1'], 'ENOENT', /train_val\.prototxt/);
});

/** The id of a process that has ended. */
function goneProcessId(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

t.test('cudnet train removes what a killed run left in its output folder, and says so', { timeout: 300_000 }, async (t) => {
  const dataset = join(root, 'digits');
  await makeClassFolder(join(root, 'shapes'), { a: 6, b: 6 });
  await createDataset({ folder: join(root, 'shapes'), dest: dataset, width: 28, height: 28, channels: 1, valPercent: 50 });
  const output = join(root, 'run');
  mkdirSync(output);
  const gone = goneProcessId();
  const running = process.ppid;
  const leftovers = {
    // Killed between the two renames of a snapshot: the .caffemodel is in place, its .solverstate still a temporary.
    'snapshot_iter_7.caffemodel': 'x', [`snapshot_iter_7.solverstate.${gone}.tmp`]: 'x',
    // Killed while writing the temporaries.
    [`snapshot_iter_9.caffemodel.${gone}.tmp`]: 'x',
  };
  const kept = {
    // Another process writing now, weights copied in by hand, a file of the user's.
    [`snapshot_iter_8.caffemodel.${running}.tmp`]: 'x', 'snapshot_iter_5.caffemodel': 'x', 'notes.txt': 'x', [`data.${gone}.tmp`]: 'x',
  };
  for (const [name, text] of Object.entries({ ...leftovers, ...kept })) writeFileSync(join(output, name), text);
  const streams = captureStreams();
  const code = await runCli(['train', '--dataset', dataset, '--output', output, '--epochs', '1', '--batch-size', '3', '--device', 'cpu', '--quiet'], streams);
  t.equal(code, 0, streams.err());
  t.match(streams.out(), `Removed what an interrupted run left in ${output}: ${Object.keys(leftovers).sort().join(', ')}`);
  const names = readdirSync(output);
  for (const name of Object.keys(leftovers)) t.notOk(names.includes(name), `${name} removed`);
  for (const name of Object.keys(kept)) t.ok(names.includes(name), `${name} kept`);
  t.ok(names.includes('snapshot_iter_2.caffemodel') && names.includes('snapshot_iter_2.solverstate'), 'the run wrote its snapshot');
});
