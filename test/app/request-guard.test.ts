// request-guard.test.ts — what every request must show: a Host the server listens as (421 otherwise), and for a state-changing one its own origin (403 otherwise) and a body type its route reads (415 otherwise); nothing refused changes anything.
import os from 'node:os';
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { acceptedHosts } from '../../lib/app/request-guard.js';
import { call, rawRequest, temporaryFolder } from './helpers.js';

t.test('body types: a state-changing request must say what its route reads', async (t) => {
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-jobs-') });
  t.teardown(() => server.close());
  const unknown = '20200101-000000-abcd';
  const mnist = JSON.stringify({ name: 'sent as text' });
  const refusals: [string, string, string, Record<string, string>, string | undefined, RegExp][] = [
    ['JSON sent as text/plain (what an HTML form or a simple fetch of another site sends)', 'POST', '/api/datasets/mnist', { 'content-type': 'text/plain;charset=UTF-8' }, mnist, /content-type application\/json, not text\/plain/],
    ['a urlencoded form', 'POST', '/api/datasets/mnist', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=form', /not application\/x-www-form-urlencoded/],
    ['a multipart form', 'POST', '/api/datasets/mnist', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nmultipart\r\n--x--\r\n', /not multipart\/form-data/],
    ['a body without a content-type', 'POST', '/api/datasets/mnist', {}, mnist, /\(it had none\)/],
    ['an abort without a content-type', 'POST', `/api/jobs/${unknown}/abort`, {}, undefined, /application\/json \(it had none\)/],
    ['a resume sent as text', 'POST', `/api/jobs/${unknown}/resume`, { 'content-type': 'text/plain' }, '', /application\/json/],
    ['a delete without a content-type', 'DELETE', `/api/jobs/${unknown}`, {}, undefined, /application\/json/],
    ['an upload delete sent as text', 'DELETE', '/api/uploads/0123456789abcdef', { 'content-type': 'text/plain' }, undefined, /application\/json/],
    ['weights sent as JSON', 'POST', '/api/uploads/caffemodel', { 'content-type': 'application/json' }, '{}', /application\/octet-stream, not application\/json/],
    ['weights without a content-type', 'POST', '/api/uploads/caffemodel', {}, 'x', /application\/octet-stream \(it had none\)/],
    ['an image sent as text', 'POST', `/api/models/${unknown}/classify`, { 'content-type': 'text/plain' }, 'x', /application\/json or image\/\* or application\/octet-stream, not text\/plain/],
    ['an image type with nothing after the slash', 'POST', `/api/models/${unknown}/classify`, { 'content-type': 'image/' }, 'x', /not image\//],
  ];
  for (const [what, method, route, headers, body, message] of refusals) {
    const reply = await rawRequest(server, method, route, headers, body);
    t.equal(reply.status, 415, `${what}: 415`);
    t.match(reply.body.error?.message, message, `${what}: ${reply.body.error?.message}`);
  }
  t.same((await call(server, 'GET', '/api/jobs')).body, { datasets: [], models: [] }, 'no refused request made a job');

  // What each route reads passes on to the route (which answers for the unknown job).
  t.equal((await rawRequest(server, 'POST', `/api/jobs/${unknown}/abort`, { 'content-type': 'application/json' })).status, 404, 'a bodyless JSON abort reaches its route');
  t.equal((await rawRequest(server, 'DELETE', `/api/jobs/${unknown}`, { 'content-type': 'Application/JSON; charset=utf-8' })).status, 404, 'content-types are matched without case and parameters');
  for (const type of ['image/png', 'image/jpeg', 'application/octet-stream', 'application/json']) {
    t.equal((await rawRequest(server, 'POST', `/api/models/${unknown}/classify`, { 'content-type': type }, '{}')).status, 404, `classify takes ${type}`);
  }
  const graph = await rawRequest(server, 'POST', '/api/networks/graph', { 'content-type': 'application/json' }, JSON.stringify({ customNetwork: 'name: "n"' }));
  t.equal(graph.status, 200, 'a JSON body is read');
  t.equal((await rawRequest(server, 'GET', '/api/info')).status, 200, 'a GET needs no content-type');
});

t.test('origin: a state-changing request from another site is refused', async (t) => {
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-jobs-') });
  t.teardown(() => server.close());
  const own = server.url;
  const json = { 'content-type': 'application/json' };
  const mnist = JSON.stringify({ name: 'from elsewhere' });
  const refusals: [string, Record<string, string>, RegExp][] = [
    ['another site (Sec-Fetch-Site: cross-site)', { 'sec-fetch-site': 'cross-site' }, /Refused a request from a page that is not this server's \(Sec-Fetch-Site: cross-site\)/],
    ['another port of this host (Sec-Fetch-Site: same-site)', { 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site: same-site/],
    ['a browser\'s own navigation (Sec-Fetch-Site: none)', { 'sec-fetch-site': 'none' }, /Sec-Fetch-Site: none/],
    ['another origin (Origin)', { origin: 'http://attacker.example' }, /Refused a request from http:\/\/attacker\.example/],
    ['another port (Origin)', { origin: own.replace(/:(\d+)$/, (_, port) => `:${Number(port) + 1}`) }, /Refused a request from/],
    ['an opaque origin (Origin: null, a sandboxed frame or a file)', { origin: 'null' }, /Refused a request from null/],
    ['an own Origin with another Sec-Fetch-Site', { origin: own, 'sec-fetch-site': 'cross-site' }, /cross-site/],
    ['own Sec-Fetch-Site with another Origin', { origin: 'http://attacker.example', 'sec-fetch-site': 'same-origin' }, /attacker/],
  ];
  for (const [what, headers, message] of refusals) {
    const reply = await rawRequest(server, 'POST', '/api/datasets/mnist', { ...json, ...headers }, mnist);
    t.equal(reply.status, 403, `${what}: 403`);
    t.match(reply.body.error?.message, message, `${what}: ${reply.body.error?.message}`);
  }
  t.equal((await rawRequest(server, 'DELETE', '/api/jobs/20200101-000000-abcd', { ...json, origin: 'http://attacker.example' })).status, 403, 'a delete from another site too');
  t.equal((await rawRequest(server, 'POST', '/not-an-api', { ...json, 'sec-fetch-site': 'cross-site' })).status, 403, 'whatever the path');
  t.same((await call(server, 'GET', '/api/jobs')).body, { datasets: [], models: [] }, 'no refused request made a job');

  const graph = JSON.stringify({ customNetwork: 'name: "n"' });
  const allowed: [string, Record<string, string>][] = [
    ['the server\'s own page (both headers)', { origin: own, 'sec-fetch-site': 'same-origin' }],
    ['its own Origin alone', { origin: own }],
    ['same-origin alone', { 'sec-fetch-site': 'same-origin' }],
    ['neither header (curl, scripts)', {}],
  ];
  for (const [what, headers] of allowed) t.equal((await rawRequest(server, 'POST', '/api/networks/graph', { ...json, ...headers }, graph)).status, 200, `${what} is served`);
  const read = await rawRequest(server, 'GET', '/api/info', { origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site' });
  t.equal(read.status, 200, 'a GET changes nothing and is answered (without CORS headers another site cannot read it)');
  t.notOk(Object.keys(read.body).some((key) => /access-control/i.test(key)), 'no CORS grant');
});

t.test('host names: only those the server listens as (DNS rebinding)', async (t) => {
  const jobsDir = await temporaryFolder('cudnet-app-jobs-');
  const root = await temporaryFolder('cudnet-app-root-');
  const server = await startServer({ port: 0, jobsDir, dataRoots: [root] });
  t.teardown(() => server.close());
  const port = new URL(server.url).port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    t.equal((await rawRequest(server, 'GET', '/api/info', { host })).status, 200, `Host ${host} is served`);
  }
  for (const host of [`attacker.example:${port}`, `127.0.0.1:${Number(port) + 1}`, '127.0.0.1', 'localhost', `localhost.:${port}`, `127.0.0.2:${port}`, '']) {
    for (const route of ['/api/info', '/', '/api/events', '/static/app.js']) {
      const reply = await rawRequest(server, 'GET', route, { host });
      t.equal(reply.status, 421, `Host ${JSON.stringify(host)}: ${route} is 421`);
      if (route === '/api/info') t.match(reply.body.error?.message, /does not answer to the host name/, reply.body.error?.message);
    }
  }
  const rebound = await rawRequest(server, 'POST', '/api/datasets/mnist', { host: `attacker.example:${port}`, 'content-type': 'application/json', origin: `http://attacker.example:${port}` }, '{}');
  t.equal(rebound.status, 421, 'a rebound page\'s POST, same-origin in its own eyes, is refused');
  t.same((await call(server, 'GET', '/api/jobs')).body, { datasets: [], models: [] }, 'and made no job');

  const info = (await call(server, 'GET', '/api/info')).body;
  t.notOk('jobsDir' in info, '/api/info does not give the jobs folder');
  t.notMatch(JSON.stringify(info), jobsDir, 'nor any path inside it');
  t.same(info.dataRoots, [root], 'the data roots stay: the forms ask for absolute paths inside them');
});

t.test('the host names a listening address accepts', async (t) => {
  t.same([...acceptedHosts('127.0.0.1', 5000)].sort(), ['127.0.0.1:5000', '[::1]:5000', 'localhost:5000'], 'the default: loopback names with the port');
  t.same([...acceptedHosts('Box.LAN', 5000)].sort(), ['127.0.0.1:5000', '[::1]:5000', 'box.lan:5000', 'localhost:5000'], '--host names one more, in lower case');
  t.ok(acceptedHosts('::1', 5000).has('[::1]:5000') && acceptedHosts('fd00::7', 5000).has('[fd00::7]:5000'), 'IPv6 addresses in brackets');
  t.ok(acceptedHosts('127.0.0.1', 80).has('localhost') && acceptedHosts('127.0.0.1', 80).has('localhost:80'), 'on port 80 the port may be left out');
  t.notOk(acceptedHosts('127.0.0.1', 5000).has('localhost'), 'elsewhere it may not');
  const everywhere = acceptedHosts('0.0.0.0', 5000);
  t.ok(everywhere.has(`${os.hostname().toLowerCase()}:5000`), 'listening everywhere: the machine\'s name');
  const addresses = Object.values(os.networkInterfaces()).flat().filter((entry) => entry && !entry.address.includes('%'));
  t.ok(addresses.every((entry) => everywhere.has(`${entry!.family === 'IPv6' ? `[${entry!.address}]` : entry!.address}:5000`)), 'and every address of its interfaces');
  t.notOk(acceptedHosts('::', 5000).has('attacker.example:5000'), 'and no other name');
});
