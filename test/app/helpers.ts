// helpers.ts — a server on a temporary jobs folder, JSON calls, waiting for job states, reading server-sent events, list-file datasets, and playwright for the browser tests.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../lib/app/index.js';

export type Server = Awaited<ReturnType<typeof startServer>>;

export async function temporaryFolder(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** One API call; a JSON body, or none on a state-changing method, goes as application/json (as the pages send it), raw bytes with the content-type `headers` give. */
export async function call(server: Server, method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const raw = body instanceof Uint8Array;
  const json = raw ? false : body !== undefined || (method !== 'GET' && method !== 'HEAD');
  const response = await fetch(server.url + route, {
    method,
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer()) };
}

/** Polls a job until its state is one of `states` (or `timeoutMs` passes). */
export async function waitFor(server: Server, id: string, states: string[], timeoutMs = 120000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call(server, 'GET', `/api/jobs/${id}`);
    if (states.includes(body.state)) return body;
    if (Date.now() > end) throw new Error(`job ${id} still ${body.state} after ${timeoutMs} ms (wanted ${states.join('/')}): ${body.error ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Collects the server-sent events of /api/events until stop() is called. */
export function collectEvents(server: Server): { events: { type: string; data: any }[]; stop(): void } {
  const events: { type: string; data: any }[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(`${server.url}/api/events`, { signal: controller.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data) });
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => controller.abort() };
}

/**
 * A list-file dataset under `root`: `perClass` generated PNGs of each class (a colour per class) in
 * `<root>/<name>/pictures`, a labels file and train/val lists with paths relative to `<root>/<name>`.
 * Returns the POST /api/datasets body (16 x 16 images, the val list as the val split).
 */
export async function listDataset(root: string, name: string, labels: string[], perClass = 4, valPerClass = 2): Promise<Record<string, unknown>> {
  const { default: sharp } = await import('sharp');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const folder = path.join(root, name);
  await mkdir(path.join(folder, 'pictures'), { recursive: true });
  const train: string[] = [];
  const val: string[] = [];
  for (let label = 0; label < labels.length; label++) {
    for (let i = 0; i < perClass + valPerClass; i++) {
      const file = `pictures/${label}-${i}.png`;
      await sharp({ create: { width: 20, height: 16, channels: 3, background: { r: (80 * label) % 256, g: 255 - 60 * label, b: 10 * i } } }).png().toFile(path.join(folder, file));
      (i < perClass ? train : val).push(`${file} ${label}`);
    }
  }
  await writeFile(path.join(folder, 'labels.txt'), `${labels.join('\n')}\n`);
  await writeFile(path.join(folder, 'train.txt'), `${train.join('\n')}\n`);
  await writeFile(path.join(folder, 'val.txt'), `${val.join('\n')}\n`);
  return {
    name, labelsFile: path.join(folder, 'labels.txt'), trainList: path.join(folder, 'train.txt'), valList: path.join(folder, 'val.txt'),
    prefix: folder, width: 16, height: 16, valPercent: 0, minPerClass: 1,
  };
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** playwright-core, or why the browser tests are skipped (no Chromium, or the package is missing). */
export async function loadPlaywright(): Promise<any | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  try {
    return await import('playwright-core' as string);
  } catch {
    return 'playwright-core is not installed (npm install --save-dev playwright-core)';
  }
}

/** A request through node:http, which (unlike fetch) sends any Host, Origin or Sec-Fetch-Site header it is given; 10 s at most. */
export async function rawRequest(server: Server, method: string, route: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: any }> {
  const { request } = await import('node:http');
  const url = new URL(server.url + route);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: url.pathname + url.search, method, headers, setHost: !('host' in headers) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode!, body: String(response.headers['content-type']).includes('json') ? JSON.parse(text) : text });
      });
    });
    outgoing.on('error', reject);
    // An answer that never ends (an event stream served where it should be refused) fails the call rather than the whole test run.
    const timer = setTimeout(() => outgoing.destroy(new Error(`${method} ${route}: no complete answer in 10 s`)), 10000);
    outgoing.on('close', () => clearTimeout(timer));
    outgoing.end(body);
  });
}

/** A job folder written as the server leaves one (status.json alone), for tests that need jobs in a given state without running them. */
export async function writeJobFolder(jobsDir: string, status: { id: string; type: string; name: string; state: string; parentId?: string; options?: Record<string, unknown> }): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const time = new Date().toISOString();
  const full = { options: {}, progress: status.state === 'DONE' ? 1 : 0, submitted: time, history: [{ state: 'WAIT', time }, { state: status.state, time }], ...status };
  await mkdir(path.join(jobsDir, status.id), { recursive: true });
  await writeFile(path.join(jobsDir, status.id, 'status.json'), `${JSON.stringify(full, null, 2)}\n`);
}
