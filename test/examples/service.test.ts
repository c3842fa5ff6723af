// service.test.ts — the example HTTP service: classification, 413 for bodies over 32 MiB (the client reads the answer), images too large to decode.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createClassifyServer, MAX_BODY_BYTES } from '../../examples/service/service.mjs';
import { loadModel } from '../../lib/inference/index.js';
import { blackPng, makeModelFolder, randomPng, removeModelFolders } from '../inference/fixture.js';

t.teardown(removeModelFolders);

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; predictions?: unknown[] };
}

/** POSTs `body` to /classify, with a Content-Length or chunked (none), in 1 MiB writes; resolves with the answer. */
function post(port: number, body: Buffer, withLength: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = request({
      host: '127.0.0.1', port, method: 'POST', path: '/classify',
      headers: withLength ? { 'content-length': body.length } : { 'transfer-encoding': 'chunked' },
    }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) as Answer['body'] }));
    });
    call.on('error', reject);
    const step = 1 << 20;
    const write = (offset: number): void => {
      if (offset >= body.length) {
        call.end();
        return;
      }
      if (call.write(body.subarray(offset, offset + step))) setImmediate(() => write(offset + step));
      else call.once('drain', () => write(offset + step));
    };
    write(0);
  });
}

t.test('bodies over 32 MiB are answered 413, with or without a Content-Length; the service keeps serving', async (t) => {
  const model = await loadModel(await makeModelFolder(), { device: 'cpu' });
  const server = createClassifyServer(model);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await model.dispose();
  });
  const { port } = server.address() as AddressInfo;
  t.equal(MAX_BODY_BYTES, 32 * 1024 * 1024);
  const oversized = Buffer.alloc(MAX_BODY_BYTES + 8 * 1024 * 1024, 7);
  for (const withLength of [true, false]) {
    const answer = await post(port, oversized, withLength);
    t.equal(answer.status, 413, `${withLength ? 'Content-Length' : 'chunked'}: 413`);
    t.same(answer.body.error, { code: 'BODY_TOO_LARGE', message: `the body is larger than ${MAX_BODY_BYTES} bytes` });
  }
  const image = await post(port, await randomPng(1, 50, 40), true);
  t.equal(image.status, 200);
  t.equal(image.body.predictions?.length, 3);
  const bomb = await post(port, await blackPng(16000, 16000), true);
  t.equal(bomb.status, 413, 'an image declaring 256 Mpx: 413 too');
  t.equal(bomb.body.error?.code, 'IMAGE_TOO_LARGE');
  const corrupt = await post(port, Buffer.from('not an image'), true);
  t.equal(corrupt.status, 400);
  t.equal(corrupt.body.error?.code, 'BAD_IMAGE');
});
