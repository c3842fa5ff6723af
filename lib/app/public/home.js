// home.js — the home page: job tables kept current by server events, delete/abort buttons, the MNIST one-click.
import { api, listen, escapeHtml, statusText, progressBar, when } from '/static/app.js';

const jobs = new Map();

function row(job) {
  const link = `/${job.type === 'dataset' ? 'datasets' : 'models'}/${job.id}`;
  const running = job.state === 'RUN' || job.state === 'WAIT';
  const action = running ? `<button data-abort="${job.id}">Abort</button>` : `<button data-delete="${job.id}">Delete</button>`;
  return `<tr data-job="${job.id}"><td><a href="${link}">${escapeHtml(job.name)}</a></td><td>Submitted: ${when(job.submitted)}</td>` +
    `<td class="state-${job.state}">Status: ${escapeHtml(statusText(job))}${job.error ? `<br><span class="muted">${escapeHtml(job.error)}</span>` : ''}</td>` +
    `<td>${running ? progressBar(job.progress) : ''}</td><td>${action}</td></tr>`;
}

function render() {
  const list = [...jobs.values()].sort((a, b) => b.submitted.localeCompare(a.submitted));
  for (const type of ['dataset', 'model']) {
    const ofType = list.filter((job) => job.type === type);
    const running = ofType.filter((job) => job.state === 'RUN' || job.state === 'WAIT');
    const done = ofType.filter((job) => !running.includes(job));
    document.getElementById(`${type}s-running`).innerHTML = running.map(row).join('') || '<tr><td class="muted">None</td></tr>';
    document.getElementById(`${type}s-done`).innerHTML = done.map(row).join('') || '<tr><td class="muted">None</td></tr>';
  }
  document.getElementById('welcome').hidden = jobs.size > 0;
}

async function load() {
  const { datasets, models } = await api('GET', '/api/jobs');
  jobs.clear();
  for (const job of [...datasets, ...models]) jobs.set(job.id, job);
  render();
}

document.addEventListener('click', async (event) => {
  const target = event.target;
  try {
    if (target.dataset.abort) await api('POST', `/api/jobs/${target.dataset.abort}/abort`);
    if (target.dataset.delete && confirm('Delete this job and its files?')) {
      await api('DELETE', `/api/jobs/${target.dataset.delete}`);
      jobs.delete(target.dataset.delete);
      render();
    }
  } catch (error) {
    alert(error.message);
  }
});

document.getElementById('mnist').addEventListener('click', async () => {
  const job = await api('POST', '/api/datasets/mnist', { name: 'MNIST' });
  jobs.set(job.id, job);
  render();
});

listen((type, data) => {
  if (type === 'job' && data.type !== 'evaluate') jobs.set(data.id, data);
  if (type === 'deleted') jobs.delete(data.jobId);
  if (type !== 'metric') render();
});
// Durations of running jobs move on even without events.
setInterval(() => { for (const job of jobs.values()) if (job.state === 'RUN') job.seconds += 1; render(); }, 1000);
load();
