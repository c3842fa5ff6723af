// server.mjs — a small image-classification HTTP service on node:http: POST /classify, GET /health, GET /stats.
//
//   node examples/service/server.mjs runs/lenet --port 8080 --device auto
//
// Concurrent requests are batched by the model (up to its batch size, waiting at most --max-wait-ms);
// decoding runs on libuv's pool and the network on the device's stream, so the event loop stays free.
// /stats reports the worst event-loop delay measured with perf_hooks.monitorEventLoopDelay.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
// Inside this repository the built sources; an application imports from 'cudnet'.
import { loadModel } from '../../dist/lib/inference/index.js';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    device: { type: 'string', default: 'auto' },
    'batch-size': { type: 'string' },
    'max-wait-ms': { type: 'string', default: '2' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node examples/service/server.mjs <model folder> [--port 8080] [--host 127.0.0.1] [--device auto] [--batch-size N] [--max-wait-ms 2]');
  process.exit(2);
}

const model = await loadModel(positionals[0], {
  device: flags.device,
  maxWaitMs: Number(flags['max-wait-ms']),
  ...(flags['batch-size'] ? { batchSize: Number(flags['batch-size']) } : {}),
});
// Warm up before taking requests: the first batches compile the JavaScript on the request path and
// grow the heap, which would otherwise show as a slow start (a worst event-loop delay of 10-15 ms in
// the first seconds under load, against 5-8 ms after).
{
  const [C, H, W] = model.inputShape.shape;
  const blank = Array.from({ length: model.batchSize }, () => new Float32Array(C * H * W));
  for (let round = 0; round < 20; round++) await model.classifyBatch(blank);
}
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const counts = { requests: 0, classified: 0, badImages: 0, errors: 0 };
const started = Date.now();

/** The request body, refused past MAX_BODY_BYTES. */
function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error(`body larger than ${MAX_BODY_BYTES} bytes`), { status: 413 }));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(response, status, body) {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function classify(request, response, url) {
  const start = performance.now();
  const topK = Number(url.searchParams.get('topK') ?? 5);
  const image = await readBody(request);
  const predictions = await model.classify(image, { topK });
  counts.classified++;
  sendJson(response, 200, { predictions, ms: Number((performance.now() - start).toFixed(3)) });
}

function stats(url) {
  const report = {
    uptimeS: (Date.now() - started) / 1000,
    ...counts,
    batches: model.stats(),
    eventLoopDelayMs: { max: delay.max / 1e6, p99: delay.percentile(99) / 1e6, mean: delay.mean / 1e6 },
  };
  // The load test resets the histogram so the figures cover its run only.
  if (url.searchParams.get('reset') === '1') delay.reset();
  return report;
}

async function route(request, response) {
  counts.requests++;
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'POST' && url.pathname === '/classify') return classify(request, response, url);
  if (request.method === 'GET' && url.pathname === '/health')
    return sendJson(response, 200, { status: 'ok', device: model.device.name, batchSize: model.batchSize, labels: model.labels.length, input: model.inputShape });
  if (request.method === 'GET' && url.pathname === '/stats') return sendJson(response, 200, stats(url));
  sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no route ${request.method} ${url.pathname}` } });
}

const server = createServer((request, response) => {
  route(request, response).catch((error) => {
    const badInput = error.code === 'BAD_IMAGE' || error.code === 'SHAPE_MISMATCH' || error.code === 'INVALID_ARGUMENT';
    if (badInput) counts.badImages++;
    else counts.errors++;
    sendJson(response, error.status ?? (badInput ? 400 : 500), { error: { code: error.code ?? 'ERROR', message: error.message } });
  });
});
server.keepAliveTimeout = 30_000;
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
