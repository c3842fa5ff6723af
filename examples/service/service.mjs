// service.mjs — the HTTP side of the classification service: POST /classify, GET /health, GET /stats for one loaded model.
//
// server.mjs loads the model and listens; this file takes any model with classify(), batchSize,
// labels, inputShape, device and stats() (cudnet's Model), so it can be tried with a model loaded
// however the application likes.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Bodies larger than this are answered 413 without being kept. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The client's mistakes and their statuses; anything else is the server's (500). */
const CLIENT_ERRORS = { BAD_IMAGE: 400, SHAPE_MISMATCH: 400, INVALID_ARGUMENT: 400, IMAGE_TOO_LARGE: 413, BODY_TOO_LARGE: 413 };

/**
 * The request body, refused past `maxBytes` (by its Content-Length, or once that many bytes have
 * come): the 413 answer goes out at once, and the rest of the body is read and dropped rather than
 * the connection cut, so the client gets to read the answer (node:http's requestTimeout still ends
 * a body that never stops).
 */
function readBody(request, maxBytes) {
  return new Promise((resolve, reject) => {
    const tooLarge = () => Object.assign(new Error(`the body is larger than ${maxBytes} bytes`), { code: 'BODY_TOO_LARGE' });
    const chunks = [];
    let size = 0;
    let refused = Number(request.headers['content-length']) > maxBytes;
    if (refused) reject(tooLarge());
    request.on('data', (chunk) => {
      if (refused) return;
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else {
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
      }
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

/**
 * An http.Server (not yet listening) that classifies with `model`. /stats reports the worst
 * event-loop delay measured with perf_hooks.monitorEventLoopDelay; `GET /stats?reset=1` restarts it.
 */
export function createClassifyServer(model, { maxBodyBytes = MAX_BODY_BYTES } = {}) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const counts = { requests: 0, classified: 0, badImages: 0, errors: 0 };
  const started = Date.now();

  async function classify(request, response, url) {
    const start = performance.now();
    const topK = Number(url.searchParams.get('topK') ?? 5);
    const image = await readBody(request, maxBodyBytes);
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
      const status = CLIENT_ERRORS[error.code];
      if (status !== undefined) counts.badImages++;
      else counts.errors++;
      sendJson(response, status ?? 500, { error: { code: error.code ?? 'ERROR', message: error.message } });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('close', () => delay.disable());
  return server;
}
