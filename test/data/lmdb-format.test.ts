// The LMDB data format of the databases an import writes, whether LMDB 0.9 (what Caffe, DIGITS and py-lmdb link) reads them, and the LMDB 0.9 copies export-caffe writes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { copyFromLmdb09, copyToLmdb09, exportCaffeLmdb } from '../../lib/data/caffe-lmdb.js';
import { createDataset } from '../../lib/data/create.js';
import { runCli } from '../../lib/cli/main.js';
import { DatasetError } from '../../lib/data/errors.js';
import { lmdbBuildFormat, lmdbDataFormat, openRecords, RecordWriter } from '../../lib/data/store.js';
import { makeClassFolder, tempFolder } from './helpers.js';

/** Dumps every record as "key-hex value-hex" lines through py-lmdb, the reader Caffe's and DIGITS' Python tools use. */
const PYTHON_DUMP = `
import sys, lmdb
env = lmdb.open(sys.argv[1], readonly=True, subdir=True)
print("version", ".".join(map(str, lmdb.version())))
with env.begin() as txn:
    for key, value in txn.cursor():
        print(key.hex(), value.hex())
`;

/** A python3 that has py-lmdb (python3-lmdb), or the reason none was found. */
function pythonWithLmdb(): { python?: string; reason: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import lmdb'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, reason: '' };
  }
  return { reason: 'no python3 with the lmdb module (apt-get install python3-lmdb)' };
}

/** Every record of `db` as hex key -> hex value, read by LMDB 0.9's mdb_dump (its bytevalue format: a header, then a key line and a value line per record, each " <hex>"). */
function mdbDumpRecords(db: string): Map<string, string> {
  const dump = execFileSync('mdb_dump', [db], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const body = dump.slice(dump.indexOf('HEADER=END\n') + 'HEADER=END\n'.length).split('\n').filter((line) => line.startsWith(' '));
  const read = new Map<string, string>();
  for (let i = 0; i + 1 < body.length; i += 2) read.set(body[i]!.trim(), body[i + 1]!.trim());
  return read;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/**
 * LMDB 0.9 reads data format 1 only. lmdb-js' prebuilt binaries write format 2; its format-1 build
 * (use_data_v1) cannot read one environment from several worker threads, which the batch source does
 * (lib/data/README.md). So with the prebuilt lmdb the LMDB 0.9 read-back is a known failure (todo).
 */
function incompatible(format: number | undefined): string | false {
  return format === 1 ? false : `the lmdb package writes LMDB data format ${format}, which LMDB 0.9 cannot open (lib/data/README.md)`;
}

async function writeDataset(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<{ db: string; format: number | undefined; records: Map<string, string> }> {
  const root = tempFolder(t);
  await makeClassFolder(path.join(root, 'src'), { cats: 6, dogs: 6 }, 'jpg');
  const report = await createDataset({ folder: path.join(root, 'src'), dest: path.join(root, 'out'), width: 24, height: 20, valPercent: 25 });
  const db = path.join(root, 'out', 'train_db');
  const format = lmdbDataFormat(db);
  t.ok(format === 1 || format === 2, `data.mdb is in data format 1 or 2 (${format})`);
  t.equal(report.manifest.record.lmdbDataFormat, format, 'dataset.json records the format');
  const records = new Map<string, string>();
  const database = openRecords(db);
  for (const { key, value } of database.getRange()) records.set(Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex'));
  await database.close();
  t.equal(records.size, report.splits.train!.count, 'every training record read back');
  t.ok(records.size > 0);
  return { db, format, records };
}

t.test('the data format is read from data.mdb and recorded in dataset.json', async (t) => {
  const { format } = await writeDataset(t);
  t.equal(format, lmdbBuildFormat(), 'the format the lmdb build reports (from its LMDB version)');
  t.comment(`this build of lmdb writes LMDB data format ${format}`);
});

t.test('py-lmdb (LMDB 0.9) reads every record, byte for byte', async (t) => {
  const { python, reason } = pythonWithLmdb();
  if (python === undefined) {
    t.comment(`skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const { db, format, records } = await writeDataset(t);
  const todo = incompatible(format);
  if (todo) {
    const failure = spawnSync(python, ['-c', PYTHON_DUMP, db], { encoding: 'utf8' });
    t.not(failure.status, 0, `todo: ${todo}`, { todo });
    t.comment(`py-lmdb says: ${failure.stderr.trim().split('\n').pop()}`);
    return;
  }
  const lines = execFileSync(python, ['-c', PYTHON_DUMP, db], { encoding: 'utf8' }).trim().split('\n');
  t.comment(`py-lmdb with LMDB ${lines[0]!.split(' ')[1]}`);
  const read = new Map(lines.slice(1).map((line) => line.split(' ') as [string, string]));
  t.same([...read.keys()], [...records.keys()], 'same keys, same order');
  t.ok([...records].every(([key, value]) => read.get(key) === value), 'same values');
});

t.test('mdb_stat and mdb_dump (lmdb-utils, LMDB 0.9) open the database', async (t) => {
  if (!hasCommand('mdb_dump') || !hasCommand('mdb_stat')) {
    t.comment('skipped: mdb_stat / mdb_dump not installed (apt-get install lmdb-utils)');
    t.skip('lmdb-utils not installed');
    return;
  }
  const { db, format, records } = await writeDataset(t);
  const todo = incompatible(format);
  if (todo) {
    const failure = spawnSync('mdb_stat', [db], { encoding: 'utf8' });
    t.not(failure.status, 0, `todo: ${todo}`, { todo });
    t.comment(`mdb_stat says: ${failure.stderr.trim()}`);
    return;
  }
  t.match(execFileSync('mdb_stat', [db], { encoding: 'utf8' }), new RegExp(`Entries: ${records.size}\\b`));
  const read = mdbDumpRecords(db);
  t.same([...read.keys()], [...records.keys()], 'same keys, same order');
  t.ok([...records].every(([key, value]) => read.get(key) === value), 'same values');
});

t.test('a database in the other data format is refused with a message naming the format', async (t) => {
  const { format } = await writeDataset(t);
  const other = format === 1 ? 2 : 1;
  const root = tempFolder(t);
  const db = path.join(root, 'other_db');
  mkdirSync(db);
  // The start of a meta page of the other format: the page header (16 bytes in format 1, 24 in
  // format 2), the magic and the version; the rest of the file does not matter.
  const page = Buffer.alloc(8192);
  const header = other === 1 ? 16 : 24;
  page.writeUInt16LE(0x08, header - 6); // P_META
  page.writeUInt32LE(0xbeefc0de, header);
  page.writeUInt32LE(other, header + 4);
  writeFileSync(path.join(db, 'data.mdb'), page);
  t.equal(lmdbDataFormat(db), other);
  let failure: unknown;
  try {
    openRecords(db);
  } catch (error) {
    failure = error;
  }
  t.ok(failure instanceof DatasetError, 'a DatasetError');
  t.match((failure as Error).message, new RegExp(`LMDB data format ${other}, which this build of lmdb \\(LMDB [0-9.]+, data format ${format}\\) cannot open`));
});

t.test('export-caffe: LMDB 0.9 copies that mdb_dump and py-lmdb read byte for byte, and the way back', async (t) => {
  if (!hasCommand('mdb_load') || !hasCommand('mdb_dump')) {
    t.comment('skipped: mdb_load / mdb_dump not installed (apt-get install lmdb-utils)');
    t.skip('lmdb-utils not installed');
    return;
  }
  const { db, records } = await writeDataset(t);
  const folder = path.dirname(db);
  const result = await exportCaffeLmdb(folder);
  t.equal(result.dest, path.join(folder, 'caffe'));
  t.same(result.splits.map((split) => [split.split, split.count]), [['train', records.size], ['val', JSON.parse(readFileSync(path.join(folder, 'dataset.json'), 'utf8')).splits.val.count]]);
  t.equal(result.meanFile, path.join(folder, 'mean.binaryproto'));
  const copy = path.join(folder, 'caffe', 'train_db');
  t.equal(lmdbDataFormat(copy), 1, 'the copy is in data format 1');
  t.match(execFileSync('mdb_stat', [copy], { encoding: 'utf8' }), new RegExp(`Entries: ${records.size}\\b`));
  const read = mdbDumpRecords(copy);
  t.same([...read.keys()], [...records.keys()], 'mdb_dump: same keys, same order');
  t.ok([...records].every(([key, value]) => read.get(key) === value), 'mdb_dump: same values');
  const { python } = pythonWithLmdb();
  if (python !== undefined) {
    const lines = execFileSync(python, ['-c', PYTHON_DUMP, copy], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
    const fromPython = new Map(lines.slice(1).map((line) => line.split(' ') as [string, string]));
    t.same([...fromPython.keys()], [...records.keys()], 'py-lmdb: same keys, same order');
    t.ok([...records].every(([key, value]) => fromPython.get(key) === value), 'py-lmdb: same values');
  } else t.comment('py-lmdb not installed: its read-back is not checked');
  // Back from format 1 into a database of ours.
  const back = path.join(folder, 'back_db');
  t.equal(await copyFromLmdb09(copy, back), records.size);
  const database = openRecords(back);
  const again = new Map<string, string>();
  for (const { key, value } of database.getRange()) again.set(Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex'));
  await database.close();
  t.same([...again], [...records], 'mdb_dump -> our database: every record, in order');
  // An existing destination is kept unless overwrite is given.
  await t.rejects(exportCaffeLmdb(folder), { code: 'DESTINATION_EXISTS' });
  const replaced = await exportCaffeLmdb(folder, { overwrite: true });
  t.equal(lmdbDataFormat(path.join(replaced.dest, 'val_db')), 1, 'overwrite writes the copies again');
  // The CLI prints where the copies went and the lines for a Caffe prototxt.
  const out: string[] = [];
  const streams = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => out.push(text) } } as never;
  t.equal(await runCli(['dataset', 'export-caffe', folder, '--dest', path.join(folder, 'elsewhere')], streams), 0, out.join(''));
  t.match(out.join(''), /train: \d+ records -> .*elsewhere\/train_db\n[^]*data_param \{ source: ".*elsewhere\/train_db" backend: LMDB \}/);
  t.equal(lmdbDataFormat(path.join(folder, 'elsewhere', 'train_db')), 1);
  // import-caffe: the LMDB 0.9 copy back into a database of ours, from the command line.
  out.length = 0;
  const imported = path.join(folder, 'imported_db');
  t.equal(await runCli(['dataset', 'import-caffe', copy, imported], streams), 0, out.join(''));
  t.match(out.join(''), new RegExp(`^${records.size} records -> .*imported_db\n$`));
  t.equal(lmdbDataFormat(imported), lmdbBuildFormat(), 'written in the format this build reads');
  out.length = 0;
  t.equal(await runCli(['dataset', 'import-caffe', copy, imported], streams), 1, 'an existing destination is refused');
  t.match(out.join(''), /DESTINATION_EXISTS/);
  out.length = 0;
  t.equal(await runCli(['dataset', 'import-caffe', db, path.join(folder, 'x_db')], streams), 1, 'a database of ours is not LMDB 0.9');
  t.match(out.join(''), /is not an LMDB 0\.9 database/);
  t.equal(await runCli(['dataset', 'import-caffe', copy], streams), 2, 'one argument is a usage error');
  // Opening the LMDB 0.9 copy directly (with a format-2 build) is refused with a message that names the command.
  if (lmdbBuildFormat() === 2) t.throws(() => openRecords(copy), /an LMDB 0\.9 database, as Caffe and DIGITS write: `cudnet dataset import-caffe` copies it/);
});

t.test('export-caffe: a missing mdb_load, a failing one, and a database of ours given as LMDB 0.9 are clear errors', async (t) => {
  const { db } = await writeDataset(t);
  const folder = path.dirname(db);
  await t.rejects(exportCaffeLmdb(folder, { mdbLoad: path.join(folder, 'no-such-mdb_load') }), { code: 'TOOL_MISSING', message: /needs .*no-such-mdb_load \(LMDB 0\.9's command-line tools: apt-get install lmdb-utils\)/ });
  t.notOk(existsSync(path.join(folder, 'caffe')), 'nothing written');
  // A loader that answers -V but dies after reading part of the records: the export fails with its message and leaves nothing behind.
  const broken = path.join(folder, 'broken-mdb_load');
  writeFileSync(broken, '#!/bin/sh\nif [ "$1" = -V ]; then echo "LMDB 0.9.24"; exit 0; fi\nhead -c 1000 >/dev/null\necho "mdb_load: MDB_MAP_FULL: Environment mapsize limit reached" >&2\nexit 1\n', { mode: 0o755 });
  await t.rejects(exportCaffeLmdb(folder, { mdbLoad: broken }), { code: 'DATABASE_INVALID', message: /mdb_load into .*train_db failed \(exit 1\): mdb_load: MDB_MAP_FULL/ });
  t.same(readdirSync(folder).filter((name) => name.startsWith('caffe')), [], 'no destination and no partial folder');
  await t.rejects(copyFromLmdb09(db, path.join(folder, 'x_db')), { code: 'DATABASE_INVALID', message: /is not an LMDB 0\.9 database .*format 2/ });
  // A dump that fails midway leaves no database behind.
  const fakeSource = path.join(folder, 'format1_db');
  mkdirSync(fakeSource);
  const page = Buffer.alloc(8192);
  page.writeUInt16LE(0x08, 10); // P_META in a 16-byte page header
  page.writeUInt32LE(0xbeefc0de, 16);
  page.writeUInt32LE(1, 20);
  writeFileSync(path.join(fakeSource, 'data.mdb'), page);
  const failingDump = path.join(folder, 'failing-mdb_dump');
  writeFileSync(failingDump, '#!/bin/sh\nif [ "$1" = -V ]; then echo "LMDB 0.9.24"; exit 0; fi\nprintf "VERSION=3\\nformat=bytevalue\\ntype=btree\\nHEADER=END\\n 3030\\n 6162\\n 3031\\n"\necho "mdb_dump: MDB_CORRUPTED: Located page was wrong type" >&2\nexit 1\n', { mode: 0o755 });
  const target = path.join(folder, 'half_db');
  await t.rejects(copyFromLmdb09(fakeSource, target, failingDump), { code: 'DATABASE_INVALID', message: /mdb_dump of .*format1_db failed \(exit 1\): mdb_dump: MDB_CORRUPTED/ });
  t.same(readdirSync(folder).filter((name) => name.startsWith('half_db')), [], 'no database and no partial folder');
  const cutDump = path.join(folder, 'cut-mdb_dump');
  writeFileSync(cutDump, '#!/bin/sh\nif [ "$1" = -V ]; then echo "LMDB 0.9.24"; exit 0; fi\nprintf "VERSION=3\\nformat=bytevalue\\ntype=btree\\nHEADER=END\\n 3030\\n 6162\\n"\n', { mode: 0o755 });
  await t.rejects(copyFromLmdb09(fakeSource, target, cutDump), { code: 'DATABASE_INVALID', message: /ended before its last record/ }, 'a dump that stops without DATA=END, though the tool succeeds');
  t.same(readdirSync(folder).filter((name) => name.startsWith('half_db')), [], 'no database and no partial folder either');
  await t.rejects(exportCaffeLmdb(path.join(folder, 'missing')), { code: 'DATABASE_INVALID', message: /is not a complete dataset/ });
});

t.test('copyToLmdb09: a loader that stops reading a large database midway is an error, with its message when it gives one', async (t) => {
  const root = tempFolder(t);
  const source = path.join(root, 'big_db');
  const writer = new RecordWriter(source);
  for (let i = 0; i < 24; i++) await writer.put(Buffer.from(`${String(i).padStart(8, '0')}_0`), Buffer.alloc(100_000, i));
  await writer.close();
  // 4.8 MB of hex: far more than a pipe holds, so the writes wait for the loader to read.
  const loader = (status: number, message: string) => {
    const file = path.join(root, `loader-${status}`);
    writeFileSync(file, `#!/bin/sh\nif [ "$1" = -V ]; then echo "LMDB 0.9.24"; exit 0; fi\nhead -c 300000 >/dev/null\n${message ? `echo "${message}" >&2\n` : ''}exit ${status}\n`, { mode: 0o755 });
    return file;
  };
  await t.rejects(copyToLmdb09(source, path.join(root, 'a_db'), loader(1, 'mdb_load: MDB_MAP_FULL: Environment mapsize limit reached')),
    { code: 'DATABASE_INVALID', message: /mdb_load into .*a_db failed \(exit 1\): mdb_load: MDB_MAP_FULL/ });
  await t.rejects(copyToLmdb09(source, path.join(root, 'b_db'), loader(0, '')),
    { code: 'DATABASE_INVALID', message: /mdb_load into .*b_db stopped reading before the last record/ });
  if (hasCommand('mdb_load')) {
    t.equal(await copyToLmdb09(source, path.join(root, 'c_db')), 24, 'the real mdb_load takes all of it');
    t.match(execFileSync('mdb_stat', [path.join(root, 'c_db')], { encoding: 'utf8' }), /Entries: 24\b/);
  }
});
