// server.mjs — a small image-classification HTTP service on node:http: POST /classify, GET /health, GET /stats.
//
//   node examples/service/server.mjs runs/lenet --port 8080 --device auto
//
// Concurrent requests are batched by the model (up to its batch size, waiting at most --max-wait-ms);
// decoding runs on libuv's pool and the network on the device's stream, so the event loop stays free.
// The routes are in service.mjs.
import { parseArgs } from 'node:util';
// Inside this repository the built sources; an application imports from 'cudnet'.
import { loadModel } from '../../dist/lib/inference/index.js';
import { createClassifyServer } from './service.mjs';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    device: { type: 'string', default: 'auto' },
    'batch-size': { type: 'string' },
    'max-wait-ms': { type: 'string', default: '2' },
    'max-input-pixels': { type: 'string' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node examples/service/server.mjs <model folder> [--port 8080] [--host 127.0.0.1] [--device auto] [--batch-size N] [--max-wait-ms 2] [--max-input-pixels 40000000]');
  process.exit(2);
}

const model = await loadModel(positionals[0], {
  device: flags.device,
  maxWaitMs: Number(flags['max-wait-ms']),
  ...(flags['batch-size'] ? { batchSize: Number(flags['batch-size']) } : {}),
  ...(flags['max-input-pixels'] ? { maxInputPixels: Number(flags['max-input-pixels']) } : {}),
});
// Warm up before taking requests: the first batches compile the JavaScript on the request path and
// grow the heap, which would otherwise show as a slow start (a worst event-loop delay of 10-15 ms in
// the first seconds under load, against 5-8 ms after).
{
  const [C, H, W] = model.inputShape.shape;
  const blank = Array.from({ length: model.batchSize }, () => new Float32Array(C * H * W));
  for (let round = 0; round < 20; round++) await model.classifyBatch(blank);
}

const server = createClassifyServer(model);
server.listen(Number(flags.port), flags.host, () => {
  console.log(`classifying with ${positionals[0]} on ${model.device.name} (batch ${model.batchSize}) at http://${flags.host}:${server.address().port}`);
});

async function shutdown() {
  server.close();
  await model.dispose();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
