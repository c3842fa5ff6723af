// dataset.js — the dataset page: live status, per-split class counts as SVG bars, mean image, skipped files, paged gallery.
import { api, listen, escapeHtml, statusText, progressBar, when, barChart } from '/static/app.js';

const id = location.pathname.split('/').pop();
let page = 0;
let dataset;

async function load() {
  dataset = await api('GET', `/api/datasets/${id}`);
  document.getElementById('title').textContent = dataset.name;
  showStatus(dataset);
  document.getElementById('new-model').href = `/models/new?dataset=${id}`;
  if (dataset.state === 'DONE' && dataset.manifest) showSummary(dataset.manifest);
}

function showStatus(job) {
  const history = job.history.map((entry) => `${entry.state} ${when(entry.time)}`).join(' → ');
  document.getElementById('status').innerHTML = `<p class="state-${job.state}">Status: ${escapeHtml(statusText(job))} ${job.state === 'RUN' ? progressBar(job.progress) : ''}</p>` +
    `<p class="muted">Submitted ${when(job.submitted)} · ${escapeHtml(history)}</p>${job.error ? `<p class="state-ERROR">${escapeHtml(job.error)}</p>` : ''}`;
}

function showSummary(manifest) {
  document.getElementById('summary').hidden = false;
  document.getElementById('explore').hidden = false;
  const image = manifest.image;
  const splits = Object.entries(manifest.splits);
  document.getElementById('facts').innerHTML = `<p>Images ${image.width}×${image.height}, ${image.channels === 1 ? 'grayscale' : 'color'}, resize ${image.resizeMode}, encoding ${image.encoding}; ${manifest.labels.length} classes; ` +
    splits.map(([name, split]) => `${name}: ${split.count}`).join(', ') + '</p>';
  document.getElementById('distribution').innerHTML = splits.map(([name, split]) =>
    `<h4>${name}</h4>${barChart(split.perClass.map((value, label) => ({ label: manifest.labels[label], value })))}`).join('');
  document.getElementById('mean').src = `/api/datasets/${id}/mean.png`;
  const skipped = manifest.skipped ?? [];
  document.getElementById('report').innerHTML = `<p>${skipped.length} file(s) skipped.</p>` +
    (skipped.length ? `<table>${skipped.slice(0, 200).map((file) => `<tr><td>${escapeHtml(file.path)}</td><td>${escapeHtml(file.message)}</td></tr>`).join('')}</table>` : '') +
    (manifest.messages ?? []).map((message) => `<p class="muted">${escapeHtml(message)}</p>`).join('');
  document.getElementById('split').innerHTML = splits.map(([name]) => `<option>${name}</option>`).join('');
  document.getElementById('label').innerHTML = '<option value="">all</option>' + manifest.labels.map((label, index) => `<option value="${index}">${escapeHtml(label)}</option>`).join('');
  showGallery();
}

async function showGallery() {
  const split = document.getElementById('split').value;
  const label = document.getElementById('label').value;
  const result = await api('GET', `/api/datasets/${id}/images/${split}?page=${page}&size=40${label === '' ? '' : `&label=${label}`}`);
  const pages = Math.max(1, Math.ceil(result.total / result.size));
  document.getElementById('page').textContent = `page ${page + 1} of ${pages} (${result.total} images)`;
  document.getElementById('gallery').innerHTML = result.items.map((item) =>
    `<figure><img src="${item.url}" alt="image ${item.index}"><figcaption>${escapeHtml(dataset.manifest.labels[item.label])}</figcaption></figure>`).join('');
}

document.getElementById('split').addEventListener('change', () => { page = 0; showGallery(); });
document.getElementById('label').addEventListener('change', () => { page = 0; showGallery(); });
document.getElementById('previous').addEventListener('click', () => { page = Math.max(0, page - 1); showGallery(); });
document.getElementById('next').addEventListener('click', () => { page += 1; showGallery(); });
document.getElementById('clone').addEventListener('click', () => { location.href = `/datasets/new?clone=${id}`; });
document.getElementById('abort').addEventListener('click', () => api('POST', `/api/jobs/${id}/abort`).catch((error) => alert(error.message)));
document.getElementById('delete').addEventListener('click', async () => {
  try { await api('DELETE', `/api/jobs/${id}`); location.href = '/'; } catch (error) { alert(error.message); }
});

listen((type, data) => {
  if (type !== 'job' || data.id !== id) return;
  const finished = dataset.state !== 'DONE' && data.state === 'DONE';
  Object.assign(dataset, data);
  showStatus(dataset);
  if (finished) load();
});
load();
