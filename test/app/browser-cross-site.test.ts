// browser-cross-site.test.ts — a page of another origin, open in the same Chromium, tries to make a dataset and resume a training through an HTML form and fetch (text/plain, no-cors, JSON): every request is refused and nothing changes, while the app's own page still works. Skipped where Chromium or playwright-core is missing.
import diagnostics from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { call, CHROMIUM, loadPlaywright, temporaryFolder, waitFor, writeJobFolder } from './helpers.js';

const DATASET = '20200101-000000-0001';
const MODEL = '20200101-000000-0002';

/**
 * The other site's page: a text/plain form whose field name and value join into JSON (`{"name":"csrf=form"}`), a
 * urlencoded form, and fetch calls, one after the other; it sets document.title to 'done' when all are settled.
 */
function attackPage(target: string): string {
  return `<!doctype html><meta charset="utf-8"><title>attack</title>
<iframe name="sink-plain"></iframe><iframe name="sink-form"></iframe>
<form id="plain" method="POST" enctype="text/plain" action="${target}/api/datasets/mnist" target="sink-plain"><input name='{"name":"csrf' value='form"}'></form>
<form id="urlencoded" method="POST" action="${target}/api/jobs/${MODEL}/resume" target="sink-form"><input name="x" value="1"></form>
<script>
const loaded = (name) => new Promise((resolve) => document.querySelector('iframe[name="' + name + '"]').addEventListener('load', resolve, { once: true }));
const attempt = (promise) => promise.then(() => 'answered', () => 'failed');
(async () => {
  const steps = [];
  steps.push(await attempt(fetch('${target}/api/datasets/mnist', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"csrf text fetch"}' })));
  steps.push(await attempt(fetch('${target}/api/datasets/mnist', { method: 'POST', mode: 'no-cors', body: '{"name":"csrf no-cors"}' })));
  steps.push(await attempt(fetch('${target}/api/jobs/${MODEL}/resume', { method: 'POST', mode: 'no-cors' })));
  steps.push(await attempt(fetch('${target}/api/datasets/mnist', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"csrf json"}' })));
  steps.push(await attempt(fetch('${target}/api/jobs/${MODEL}', { method: 'DELETE' })));
  const plain = loaded('sink-plain');
  document.getElementById('plain').submit();
  await plain;
  const form = loaded('sink-form');
  document.getElementById('urlencoded').submit();
  await form;
  window.steps = steps;
  document.title = 'done';
})();
</script>`;
}

t.test('a page of another origin can change nothing', async (t) => {
  const playwright = await loadPlaywright();
  if (typeof playwright === 'string') {
    console.log(`# browser tests skipped: ${playwright}`);
    t.skip(`browser tests skipped: ${playwright}`);
    return;
  }
  const jobsDir = await temporaryFolder('cudnet-app-browser-');
  await writeJobFolder(jobsDir, { id: DATASET, type: 'dataset', name: 'dataset', state: 'DONE' });
  await writeJobFolder(jobsDir, { id: MODEL, type: 'model', name: 'model', state: 'ABORT', parentId: DATASET, options: { name: 'model', datasetId: DATASET } });
  const server = await startServer({ port: 0, jobsDir });
  t.teardown(() => server.close());
  const attacker: HttpServer = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(attackPage(server.url));
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => attacker.close(() => resolve())));
  const attackerPort = (attacker.address() as AddressInfo).port;
  // What the app's server answered, seen from inside this process (the browser does not report every request it sends).
  const answers: string[] = [];
  const onAnswer = (message: unknown) => {
    const { request, response, server: from } = message as { request: IncomingMessage; response: ServerResponse; server: unknown };
    if (from !== attacker) answers.push(`${request.method} ${request.url} ${response.statusCode}`);
  };
  diagnostics.subscribe('http.server.response.finish', onAnswer);
  t.teardown(() => diagnostics.unsubscribe('http.server.response.finish', onAnswer));
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());

  // localhost is another site than 127.0.0.1; 127.0.0.1 on another port is the same site but another origin.
  for (const [what, origin] of [['another site', `http://localhost:${attackerPort}`], ['another port of the same host', `http://127.0.0.1:${attackerPort}`]]) {
    const page = await browser.newPage();
    answers.length = 0;
    await page.goto(`${origin}/attack.html`);
    await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 30000 });
    const steps = await page.evaluate(() => (window as any).steps);
    t.same(steps, ['failed', 'answered', 'answered', 'failed', 'failed'], `${what}: fetch cannot read any answer (no-cors gets an opaque one)`);
    const shown = await page.frame({ name: 'sink-plain' }).textContent('body');
    t.match(JSON.parse(shown), { error: { message: /Refused a request from .*only this server's own pages may change anything/ } }, `${what}: the form's answer is the refusal`);
    t.same(answers, [
      'POST /api/datasets/mnist 403', //                  fetch, text/plain: sent without asking first
      'POST /api/datasets/mnist 403', //                  fetch, no-cors
      `POST /api/jobs/${MODEL}/resume 403`, //            fetch, no-cors, no body
      'OPTIONS /api/datasets/mnist 403', //               fetch, JSON: only the preflight, which is refused, so the POST never goes
      `OPTIONS /api/jobs/${MODEL} 403`, //                fetch, DELETE: the same
      'POST /api/datasets/mnist 403', //                  the text/plain form
      `POST /api/jobs/${MODEL}/resume 403`, //            the urlencoded form
    ], `${what}: every request that reached the server was refused`);
    await page.close();
  }
  const jobs = (await call(server, 'GET', '/api/jobs')).body;
  t.same(jobs.datasets.map((job: { id: string }) => job.id), [DATASET], 'no dataset was made');
  t.same(jobs.models.map((job: { id: string; state: string }) => [job.id, job.state]), [[MODEL, 'ABORT']], 'the training was neither resumed nor deleted');

  // The app's own page still changes things (a bodyless POST goes as JSON from the same origin).
  const page = await browser.newPage();
  await page.goto(`${server.url}/models/${MODEL}`);
  await page.click('#resume:not([hidden])');
  const resumed = await waitFor(server, MODEL, ['WAIT', 'RUN', 'ERROR'], 30000);
  t.not(resumed.state, 'ABORT', `the model page's Resume button works (${resumed.state})`);
});
