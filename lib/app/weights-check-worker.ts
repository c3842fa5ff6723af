// weights-check-worker.ts — a child process that reads one .caffemodel and says which of its layers carry weights, so a large file's parse never blocks the server.
// (A process rather than a worker thread: a worker thread that loads the library's native addon and ends breaks the addon for the server.)
import { readFile } from 'node:fs/promises';
import { caffe } from '../index.js';
import { messageOf } from './errors.js';

export type WeightsCheckReply = { ok: true; layers: number; withWeights: string[] } | { ok: false; message: string };

const [file, label] = process.argv.slice(2) as [string, string];
let reply: WeightsCheckReply;
try {
  const model = caffe.readCaffemodel(await readFile(file), { file: label });
  reply = { ok: true, layers: model.layers.length, withWeights: model.layers.filter((layer) => layer.blobs.length > 0).map((layer) => layer.name) };
} catch (error) {
  reply = { ok: false, message: messageOf(error) };
}
process.send!(reply, () => process.exit(0));
