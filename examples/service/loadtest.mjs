// loadtest.mjs — drives a running classification service on this machine and prints classifications/s, p50/p99 latency and the server's worst event-loop delay.
//
//   node examples/service/loadtest.mjs --url http://127.0.0.1:8080 --image cat.png --connections 16 --duration 10 --requests 5000
//
// Uses autocannon when it is installed, else a plain keep-alive http.Agent loop. Only loopback
// addresses are accepted, and the run stops at --requests or --duration, whichever comes first.
import { readFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    image: { type: 'string' },
    connections: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    requests: { type: 'string', default: '5000' },
    'no-autocannon': { type: 'boolean', default: false },
  },
});
const base = new URL(flags.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error(`refusing ${base.hostname}: this load test only drives a service on this machine (127.0.0.1)`);
  process.exit(2);
}
const connections = Math.max(1, Number(flags.connections));
const durationS = Math.min(Math.max(1, Number(flags.duration)), 300);
const maxRequests = Math.min(Math.max(1, Number(flags.requests)), 1_000_000);

/** The image to send: the given file, or a 256 x 256 PNG of random pixels. */
async function imageBytes() {
  if (flags.image) return readFile(flags.image);
  const pixels = Buffer.alloc(256 * 256 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  return sharp(pixels, { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
}

function getJson(path) {
  return new Promise((resolve, reject) => {
    httpRequest(new URL(path, base), (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    }).on('error', reject).end();
  });
}

/** One POST /classify; resolves with its latency in ms and status. */
function classifyOnce(agent, body) {
  return new Promise((resolve) => {
    const start = performance.now();
    const request = httpRequest(new URL('/classify', base), {
      method: 'POST', agent, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ ms: performance.now() - start, ok: response.statusCode === 200 }));
    });
    request.on('error', () => resolve({ ms: performance.now() - start, ok: false }));
    request.end(body);
  });
}

/** `connections` loops, each sending one request after another, until the count or the time is used up. */
async function plainLoop(body) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies = [];
  let sent = 0;
  let errors = 0;
  const deadline = performance.now() + durationS * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (sent < maxRequests && performance.now() < deadline) {
      sent++;
      const { ms, ok } = await classifyOnce(agent, body);
      if (ok) latencies.push(ms);
      else errors++;
    }
  }));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { tool: 'http.Agent loop', seconds: (performance.now() - start) / 1000, completed: latencies.length, errors, p50: at(0.5), p99: at(0.99) };
}

async function autocannonRun(autocannon, body) {
  const result = await autocannon({
    url: new URL('/classify', base).href, method: 'POST', body, connections, duration: durationS, amount: maxRequests,
    headers: { 'content-type': 'application/octet-stream' },
  });
  return {
    tool: 'autocannon', seconds: result.duration, completed: result['2xx'], errors: result.non2xx + result.errors,
    p50: result.latency.p50, p99: result.latency.p99,
  };
}

const body = await imageBytes();
const health = await getJson('/health');
await getJson('/stats?reset=1');
const autocannon = flags['no-autocannon'] ? undefined : await import('autocannon').then((m) => m.default, () => undefined);
const result = autocannon ? await autocannonRun(autocannon, body) : await plainLoop(body);
const stats = await getJson('/stats');
console.log(`service: ${base.href} on ${health.device}, batch ${health.batchSize}; ${connections} connections, ${result.tool}`);
console.log(`classifications/s: ${(result.completed / result.seconds).toFixed(1)} (${result.completed} in ${result.seconds.toFixed(2)} s, ${result.errors} errors)`);
console.log(`latency: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
console.log(`server: worst event-loop delay ${stats.eventLoopDelayMs.max.toFixed(2)} ms (p99 ${stats.eventLoopDelayMs.p99.toFixed(2)} ms); ${stats.batches.batches} batches, largest ${stats.batches.largestBatch}`);
