// browser.test.ts — the user flow by clicking in Chromium (playwright-core): MNIST in one click, a LeNet model, its live chart, classify one. Skipped, with the reason, where Chromium or playwright-core is missing.
import t from 'tap';
import { startServer } from '../../lib/app/index.js';
import { CHROMIUM, loadPlaywright, temporaryFolder } from './helpers.js';

t.test('the DIGITS flow by clicking', async (t) => {
  const playwright = await loadPlaywright();
  if (typeof playwright === 'string') {
    console.log(`# browser tests skipped: ${playwright}`);
    t.skip(`browser tests skipped: ${playwright}`);
    return;
  }
  const server = await startServer({ port: 0, jobsDir: await temporaryFolder('cudnet-app-browser-') });
  t.teardown(() => server.close());
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.click('#mnist');
  await page.waitForSelector('#datasets-done tr[data-job] .state-DONE', { timeout: 90000 });
  t.pass('the MNIST dataset appears as Done without a reload');

  await page.goto(`${server.url}/models/new`);
  await page.fill('[name=name]', 'LeNet by clicks');
  await page.fill('[name=epochs]', '1');
  await page.fill('[name=batchSize]', '32');
  await page.selectOption('[name=mean]', 'none');
  await page.selectOption('[name=lrPolicy]', 'fixed');
  await page.fill('[name=valInterval]', '0.25');
  await page.fill('[name=maxIterations]', '80');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/models\/\d{8}-/);
  await page.waitForSelector('#usage-panel:not([hidden]) .usage-utilization', { timeout: 90000 });
  t.match(await page.textContent('#usage'), /Device\s*cpu.*Memory.*resident of .*Utilisation.*% of the machine: \d+% of one core, \d+ cores/s, 'the device panel fills while it trains');
  await page.waitForSelector('#chart polyline', { timeout: 90000 });
  t.pass('the training chart draws live');
  await page.waitForSelector('#trained:not([hidden])', { timeout: 120000 });
  await page.waitForSelector('.state-DONE', { timeout: 120000 });
  await page.fill('#classify-one [name=index]', '0');
  await page.check('#classify-one [name=visualize]');
  await page.click('#classify-one button[type=submit]');
  await page.waitForSelector('#predictions tr', { timeout: 60000 });
  t.equal(await page.locator('#predictions tr').count(), 5, 'top-5 predictions are shown');
  t.ok(await page.locator('.vis img').count() > 3, 'layer visualizations are shown');
  await page.fill('#classify-many [name=limit]', '100');
  await page.click('#classify-many button[type=submit]');
  await page.waitForSelector('.evaluation-summary', { timeout: 60000 });
  t.match(await page.textContent('.evaluation-summary'), /100 images: top-1 accuracy/, 'classify many reports accuracy');
  const firstModel = page.url().split('/').pop();

  // Previous networks: the trained model's network and last snapshot start a new model.
  await page.goto(`${server.url}/models/new`);
  await page.selectOption('[name=network]', 'previous');
  t.match(await page.textContent('#previous-networks'), /LeNet by clicks.*MNIST.*Done/s, 'the previous networks list the model with its dataset and status');
  await page.check(`#previous-${firstModel}`);
  await page.waitForFunction(() => (document.querySelector('[name=customNetwork]') as HTMLTextAreaElement).value.includes('InnerProduct'));
  t.ok(await page.locator('[name=customNetwork]').evaluate((node: HTMLTextAreaElement) => node.readOnly && !node.closest('[hidden]')), 'its network is shown, read-only');
  t.match(await page.textContent('#weights-note'), /iteration 80/, 'its last snapshot is offered');
  await page.check('[name=fromWeights]');
  await page.fill('[name=name]', 'LeNet again');
  await page.fill('[name=epochs]', '1');
  await page.selectOption('[name=mean]', 'none');
  await page.fill('[name=maxIterations]', '5');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/models\/\d{8}-/);
  const again = await (await fetch(`${server.url}/api/models/${page.url().split('/').pop()}`)).json();
  t.match(again.options, { network: 'previous', previousNetwork: firstModel, previousSnapshot: 80 }, 'the new model trains the previous network from its weights');
});
