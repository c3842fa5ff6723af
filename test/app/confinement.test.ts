// confinement.test.ts — a dataset import reads nothing outside the data roots (symlinked class folders and files, list lines naming outside files), and no endpoint tells whether a path outside them exists.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { call, temporaryFolder, waitFor } from './helpers.js';

/** Outside images are magenta; the dataset's own are red, green or blue. */
const OUTSIDE = { r: 255, g: 0, b: 255 };
const COLOURS: Record<string, { r: number; g: number; b: number }> = { red: { r: 255, g: 0, b: 0 }, green: { r: 0, g: 255, b: 0 }, blue: { r: 0, g: 0, b: 255 } };

async function image(file: string, colour: { r: number; g: number; b: number }): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toFile(file);
}

t.test('an import reads only inside the data roots', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const outside = await temporaryFolder('cudnet-app-outside-');
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  await image(path.join(outside, 'secret.png'), OUTSIDE);
  for (let i = 0; i < 4; i++) await image(path.join(outside, 'loot', `${i}.png`), OUTSIDE);
  const folder = path.join(root, 'classes');
  for (let i = 0; i < 4; i++) {
    await image(path.join(folder, 'red', `${i}.png`), COLOURS.red!);
    await image(path.join(folder, 'green', `${i}.png`), COLOURS.green!);
    await image(path.join(root, 'elsewhere', 'blue', `${i}.png`), COLOURS.blue!);
  }
  await symlink(path.join(outside, 'secret.png'), path.join(folder, 'green', 'linked.png'));
  await symlink(path.join(outside, 'missing.png'), path.join(folder, 'green', 'dangling.png'));
  await symlink(path.join(outside, 'loot'), path.join(folder, 'stolen'));
  await symlink(path.join(root, 'elsewhere', 'blue'), path.join(folder, 'blue'));
  const server = await startServer({ port: 0, jobsDir, dataRoots: [root] });
  t.teardown(() => server.close());

  const made = await call(server, 'POST', '/api/datasets', { name: 'folders', folder, width: 8, height: 8, valPercent: 25, minPerClass: 1 });
  t.equal(made.status, 201, 'a folder with links out of the roots is accepted');
  const done = await waitFor(server, made.body.id, ['DONE', 'ERROR']);
  t.equal(done.state, 'DONE', `and imported (${done.error ?? ''})`);
  t.same(done.result.labels, ['blue', 'green', 'red'], 'a class folder linked from outside is no class; one linked from inside the roots is');
  t.same([done.result.splits.train.perClass, done.result.splits.val.perClass], [[3, 3, 3], [1, 1, 1]], 'a file linked from outside is not imported');
  const colours = await galleryColours(server, made.body.id, ['train', 'val']);
  t.equal(colours.length, 12, 'the gallery shows the 12 images inside the roots');
  t.notOk(colours.some((colour) => colour === 'outside'), 'and none from outside');

  const details = (await call(server, 'GET', `/api/datasets/${made.body.id}`)).body;
  t.notMatch(JSON.stringify(details), jobsDir, 'the dataset\'s details do not give the jobs folder');
  t.same(details.manifest.labels, ['blue', 'green', 'red'], 'its manifest is still shown');

  // Lists: absolute paths out, `..` out, a link out and an outside file that does not exist read as a missing file does.
  const lists = path.join(root, 'lists');
  await mkdir(lists);
  await writeFile(path.join(lists, 'labels.txt'), 'red\ngreen\n');
  const inside = [0, 1, 2, 3].flatMap((i) => [`classes/red/${i}.png 0`, `classes/green/${i}.png 1`]);
  const escapes = [
    `${outside}/secret.png 1`, `${outside}/missing.png 1`, `../${path.basename(outside)}/secret.png 0`, 'classes/green/linked.png 1',
    'classes/green/dangling.png 1', 'classes/red/missing.png 0',
  ];
  await writeFile(path.join(lists, 'train.txt'), `${[...inside, ...escapes].join('\n')}\n`);
  const listed = await call(server, 'POST', '/api/datasets', {
    name: 'lists', labelsFile: path.join(lists, 'labels.txt'), trainList: path.join(lists, 'train.txt'), prefix: root, width: 8, height: 8, valPercent: 0, minPerClass: 1,
  });
  t.equal(listed.status, 201, 'a list naming files outside is accepted');
  const listDone = await waitFor(server, listed.body.id, ['DONE', 'ERROR']);
  t.equal(listDone.state, 'DONE', `and imported (${listDone.error ?? ''})`);
  t.same(listDone.result.splits.train.perClass, [4, 4], 'only the images inside the roots');
  t.notOk((await galleryColours(server, listed.body.id, ['train'])).some((colour) => colour === 'outside'), 'none from outside in the gallery');
  const skipped = (await call(server, 'GET', `/api/datasets/${listed.body.id}`)).body.manifest.skipped as { path: string; reason: string; message: string }[];
  t.equal(skipped.length, escapes.length, 'every line out of the roots is skipped');
  t.same(new Set(skipped.map((entry) => `${entry.reason}: ${entry.message}`)), new Set(['missing: file not found (removed during import?)']),
    'each as a missing file, in the same words whether the outside file exists or not');
});

t.test('no answer tells whether a path outside the data roots exists', async (t) => {
  const root = await temporaryFolder('cudnet-app-root-');
  const outside = await temporaryFolder('cudnet-app-outside-');
  await image(path.join(outside, 'folder', 'a', 'x.png'), OUTSIDE);
  await writeFile(path.join(outside, 'x.caffemodel'), 'weights');
  await symlink(path.join(outside, 'folder'), path.join(root, 'out'));
  await symlink(path.join(outside, 'nothing'), path.join(root, 'nowhere'));
  await symlink(path.join(outside, 'x.caffemodel'), path.join(root, 'weights.caffemodel'));
  await symlink(path.join(outside, 'none.caffemodel'), path.join(root, 'none.caffemodel'));
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-jobs-'), dataRoots: [root] });
  t.teardown(() => server.close());
  const answer = async (route: string, body: Record<string, unknown>, given: string) => {
    const reply = await call(server, 'POST', route, body);
    return `${reply.status} ${reply.body.error?.field}: ${String(reply.body.error?.message).replace(given, '<path>')}`;
  };
  const pairs: [string, string, (given: string) => Record<string, unknown>, string, string][] = [
    ['a dataset folder written outside', '/api/datasets', (folder) => ({ name: 'x', folder }), path.join(outside, 'folder'), path.join(outside, 'nothing')],
    ['a dataset folder linked outside', '/api/datasets', (folder) => ({ name: 'x', folder }), path.join(root, 'out'), path.join(root, 'nowhere')],
    ['a folder linked outside, or missing inside', '/api/datasets', (folder) => ({ name: 'x', folder }), path.join(root, 'out'), path.join(root, 'missing')],
    ['a preview folder written outside', '/api/datasets/preview', (folder) => ({ folder }), path.join(outside, 'folder'), path.join(outside, 'nothing')],
    ['a preview folder linked outside', '/api/datasets/preview', (folder) => ({ folder }), path.join(root, 'out'), path.join(root, 'nowhere')],
    ['pretrained weights written outside', '/api/models', (file) => ({ name: 'm', datasetId: '20200101-000000-abcd', pretrainedModel: file }), path.join(outside, 'x.caffemodel'), path.join(outside, 'none.caffemodel')],
    ['pretrained weights linked outside', '/api/models', (file) => ({ name: 'm', datasetId: '20200101-000000-abcd', pretrainedModel: file }), path.join(root, 'weights.caffemodel'), path.join(root, 'none.caffemodel')],
  ];
  for (const [what, route, body, existing, missing] of pairs) {
    const [there, notThere] = [await answer(route, body(existing), existing), await answer(route, body(missing), missing)];
    t.equal(there, notThere, `${what}: the same answer whether it exists or not (${there})`);
    t.match(there, /^(403 \w+: <path> is outside the data folders|400 \w+: <path> does not exist inside the data folders)/, 'refused');
  }
});

/** The colour name of every gallery image of the splits ('outside' for magenta). */
async function galleryColours(server: Awaited<ReturnType<typeof startServer>>, id: string, splits: string[]): Promise<string[]> {
  const names: string[] = [];
  for (const split of splits) {
    const page = (await call(server, 'GET', `/api/datasets/${id}/images/${split}?size=100`)).body;
    for (const item of page.items as { url: string }[]) {
      const { data } = await sharp((await call(server, 'GET', item.url)).body).raw().toBuffer({ resolveWithObject: true });
      const [r, g, b] = [data[0]!, data[1]!, data[2]!];
      const match = Object.entries({ ...COLOURS, outside: OUTSIDE }).find(([, colour]) => Math.abs(colour.r - r) + Math.abs(colour.g - g) + Math.abs(colour.b - b) < 30);
      names.push(match?.[0] ?? `rgb(${r},${g},${b})`);
    }
  }
  return names;
}
