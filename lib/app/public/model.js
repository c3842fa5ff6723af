// model.js — the model page: the live chart (loss, accuracy, lr per epoch), status, the device's figures, snapshots, classify one (with visualizations) and many (a split or an uploaded list).
import { api, listen, escapeHtml, statusText, progressBar, when, lineChart, showFormError, duration } from '/static/app.js';

const id = location.pathname.split('/').pop();
let model;
const metrics = [];

async function load() {
  model = await api('GET', `/api/models/${id}`);
  metrics.splice(0, metrics.length, ...model.metrics);
  document.getElementById('title').textContent = model.name;
  showStatus();
  drawCharts();
  showSnapshots();
  showEvaluations();
}

function showStatus() {
  const eta = model.state === 'RUN' && model.eta != null ? ` — about ${duration(model.eta)} remaining` : '';
  document.getElementById('status').innerHTML = `<p class="state-${model.state}">Status: ${escapeHtml(statusText(model))} ${model.state === 'RUN' ? progressBar(model.progress) : ''}${eta}</p>` +
    (model.error ? `<p class="state-ERROR">${escapeHtml(model.error)}</p>` : '') + `<p class="muted">Device: ${escapeHtml(model.device ?? '—')} · submitted ${when(model.submitted)}${pretrainedText(model.pretrained)}</p>`;
  document.getElementById('history').textContent = model.history.map((entry) => `${entry.state} ${when(entry.time)}`).join(' → ');
  document.getElementById('abort').hidden = !['RUN', 'WAIT'].includes(model.state);
  document.getElementById('resume').hidden = !['ABORT', 'ERROR'].includes(model.state);
  showUsage();
}

/** Where the weights started from: a .caffemodel path, an upload, or a previous model's snapshot. */
function pretrainedText(pretrained) {
  if (!pretrained) return '';
  if (pretrained.source === 'previous') return ` · started from model ${escapeHtml(pretrained.model)}, iteration ${pretrained.snapshot}`;
  if (pretrained.source === 'upload') return ` · started from uploaded weights ${escapeHtml(pretrained.name ?? pretrained.upload)}`;
  return ` · started from ${escapeHtml(pretrained.file)}`;
}

function bytes(count) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The device panel: what the worker last reported (about every second) while the model trains. */
function showUsage() {
  const usage = model.state === 'RUN' ? model.usage : undefined;
  document.getElementById('usage-panel').hidden = !usage;
  if (!usage) return;
  const cpu = usage.device === 'cpu';
  const memory = cpu
    ? `${bytes(usage.memoryUsed)} resident of ${bytes(usage.memoryTotal)} (tensors ${bytes(usage.tensorBytes)}, cached ${bytes(usage.memoryCached)})`
    : `${bytes(usage.memoryUsed)} in use, ${bytes(usage.memoryCached)} cached${usage.memoryTotal ? ` of ${bytes(usage.memoryTotal)}` : ' (total not reported)'}`;
  const utilization = usage.utilization == null
    ? `<span class="muted">${escapeHtml(usage.note ?? 'utilisation not available')}</span>`
    : `${progressBar(usage.utilization / (100 * usage.cores))} of the machine: ${usage.utilization.toFixed(0)}% of one core, ${usage.cores} cores`;
  document.getElementById('usage').innerHTML = `<tr><th>Device</th><td>${escapeHtml(usage.device)} <span class="muted">${escapeHtml(usage.description)}</span></td></tr>` +
    `<tr><th>Memory</th><td class="usage-memory">${memory}${usage.memoryTotal ? ` ${progressBar(usage.memoryUsed / usage.memoryTotal)}` : ''}</td></tr>` +
    `<tr><th>Utilisation</th><td class="usage-utilization">${utilization}</td></tr>` +
    `<tr><td colspan="2" class="muted">${cpu ? 'the training process, over the last 3 seconds' : 'as the library reports it'}; updated ${new Date(usage.time).toLocaleTimeString()}</td></tr>`;
}

function drawCharts() {
  const train = metrics.filter((metric) => metric.type === 'train');
  const val = metrics.filter((metric) => metric.type === 'val');
  const series = [
    { name: 'loss (train)', points: train.map((metric) => [metric.epoch, metric.loss]) },
    { name: 'loss (val)', points: val.map((metric) => [metric.epoch, metric.loss]) },
    { name: 'accuracy (val) %', right: true, points: val.filter((metric) => metric.accuracy !== undefined).map((metric) => [metric.epoch, 100 * metric.accuracy]) },
  ];
  document.getElementById('chart').innerHTML = lineChart(series);
  document.getElementById('lr-chart').innerHTML = lineChart([{ name: 'learning rate', points: train.map((metric) => [metric.epoch, metric.lr]) }], { height: 160 });
}

function showSnapshots() {
  const snapshots = model.snapshots ?? [];
  document.getElementById('trained').hidden = snapshots.length === 0;
  const select = document.getElementById('snapshot');
  const chosen = select.value;
  select.innerHTML = [...snapshots].reverse().map((snapshot) => `<option value="${snapshot.iter}">Epoch #${+snapshot.epoch.toFixed(3)} (iteration ${snapshot.iter})</option>`).join('');
  if (chosen && snapshots.some((snapshot) => String(snapshot.iter) === chosen)) select.value = chosen;
  updateDownload();
}

function updateDownload() {
  document.getElementById('download').href = `/api/models/${id}/download?snapshot=${document.getElementById('snapshot').value}`;
}

function predictionsTable(predictions) {
  return `<table id="predictions">${predictions.map((prediction) => `<tr><td>${escapeHtml(prediction.label)}</td><td>${(100 * prediction.probability).toFixed(2)}%</td></tr>`).join('')}</table>`;
}

function histogramSvg(histogram) {
  const max = Math.max(1, ...histogram.counts);
  const bars = histogram.counts.map((count, index) => `<rect x="${index * 10}" y="${60 - (count / max) * 60}" width="9" height="${(count / max) * 60}" fill="#76b900"/>`).join('');
  return `<svg width="200" height="76">${bars}<text x="0" y="74">${histogram.min.toPrecision(2)}</text><text x="200" y="74" text-anchor="end">${histogram.max.toPrecision(2)}</text></svg>`;
}

function visualizationsHtml(entries) {
  return entries.map((entry) => `<div class="vis"><div><b>${escapeHtml(entry.name)}</b><br>${entry.kind}${entry.layerType ? ` (${escapeHtml(entry.layerType)}, ${entry.parameters} parameters)` : ''}<br>` +
    `shape ${entry.shape.join('×')}<br>mean ${entry.mean.toPrecision(3)}<br>std ${entry.std.toPrecision(3)}</div>` +
    `<div>${entry.image ? `<img src="${entry.image}" alt="${escapeHtml(entry.name)}">` : '<span class="muted">no image for InnerProduct weights</span>'}</div><div>${histogramSvg(entry.histogram)}</div></div>`).join('');
}

document.getElementById('classify-one').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const file = form.elements.image.files[0];
  const serverPath = form.elements.path.value.trim();
  const snapshot = document.getElementById('snapshot').value;
  const query = `?snapshot=${snapshot}${form.elements.visualize.checked ? '&visualize=1' : ''}`;
  document.getElementById('classify-result').innerHTML = '<p class="muted">Classifying…</p>';
  try {
    const body = file ? file : serverPath ? { path: serverPath } : { split: 'val', index: Number(form.elements.index.value || 0) };
    const result = await api('POST', `/api/models/${id}/classify${query}`, body);
    const preview = file ? URL.createObjectURL(file) : serverPath ? undefined : `/api/datasets/${model.options.datasetId}/images/val/${Number(form.elements.index.value || 0)}.png`;
    const shown = preview ? `<img src="${preview}" width="96" style="image-rendering:pixelated">` : `<p><code>${escapeHtml(serverPath)}</code></p>`;
    document.getElementById('classify-result').innerHTML = `${shown}${predictionsTable(result.predictions)}` +
      (result.visualizations ? visualizationsHtml(result.visualizations) : '');
  } catch (error) {
    document.getElementById('classify-result').innerHTML = '';
    showFormError(form, error);
  }
});

document.getElementById('classify-many').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = { split: form.elements.split.value, snapshot: Number(document.getElementById('snapshot').value) };
  if (form.elements.limit.value) body.limit = Number(form.elements.limit.value);
  try {
    await api('POST', `/api/models/${id}/evaluate`, body);
    await load();
  } catch (error) {
    showFormError(form, error);
  }
});

// Classify many from an uploaded list: the file's text goes up as JSON with the folder its relative paths start from.
document.getElementById('classify-list').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  const file = form.elements.list.files[0];
  try {
    if (!file) throw Object.assign(new Error('choose a text file that lists images'), { field: 'list' });
    if (file.size > LIST_MAX_BYTES) throw Object.assign(new Error(`the list is larger than 1 MiB (${file.size} bytes)`), { field: 'list' });
    const body = { list: await file.text(), listName: file.name, snapshot: Number(document.getElementById('snapshot').value) };
    if (form.elements.prefix.value) body.prefix = form.elements.prefix.value;
    await api('POST', `/api/models/${id}/evaluate`, body);
    form.querySelectorAll('.error').forEach((node) => node.remove());
    form.querySelector('.form-error').textContent = '';
    await load();
  } catch (error) {
    showFormError(form, error);
  }
});

const LIST_MAX_BYTES = 1 << 20;
const REASONS = { missing: 'missing file', outside: 'outside the data roots', 'not-a-file': 'not a file', 'not-an-image': 'not an image', 'bad-label': 'bad label', 'too-large': 'too large' };

function evaluationHtml(job) {
  const list = job.options.source === 'list';
  const what = list ? `list ${escapeHtml(job.options.listName ?? '')} (${job.options.lines} images)` : `${escapeHtml(job.options.split)} split`;
  const head = `<h4>${what}, iteration ${job.options.snapshot ?? 'latest'} — <span class="state-${job.state}">${escapeHtml(statusText(job))}</span> ${job.state === 'RUN' ? progressBar(job.progress) : ''}</h4>`;
  const result = job.result;
  if (!result || job.state !== 'DONE') return head + (job.error ? `<p class="state-ERROR">${escapeHtml(job.error)}</p>` : '');
  const labels = result.labels;
  const confusion = result.count > 0 ? `<table class="confusion"><tr><th>true \\ predicted</th>${labels.map((label) => `<th>${escapeHtml(label)}</th>`).join('')}<th>accuracy</th></tr>` +
    result.confusion.map((row, index) => `<tr><th>${escapeHtml(labels[index])}</th>${row.map((count) => `<td>${count}</td>`).join('')}<td>${(100 * result.perClass[index].accuracy).toFixed(2)}%</td></tr>`).join('') + '</table>' : '';
  const thumbnail = list
    ? (image) => `<img class="thumbnail" src="/api/evaluations/${job.id}/images/${image.index}.png" ` +
      `title="line ${image.index}${image.label !== undefined ? ` (${escapeHtml(labels[image.label])})` : ''}: ${(100 * image.probability).toFixed(2)}%" alt="line ${image.index}">`
    : (image) => `<img class="thumbnail" src="/api/datasets/${result.datasetId}/images/${result.split}/${image.index}.png" ` +
      `title="${escapeHtml(labels[image.label])}: ${(100 * image.probability).toFixed(2)}%" alt="${escapeHtml(labels[image.label])}">`;
  const topImages = result.topPerClass
    ? `<h4>Top images per category</h4><table class="top-images">${result.topPerClass.map((images, index) =>
      `<tr><th>${escapeHtml(labels[index])}</th><td>${images.map(thumbnail).join('')}</td></tr>`).join('')}</table>`
    : '';
  const accuracy = result.count > 0
    ? `<p class="evaluation-summary">${result.count} ${list ? 'labelled ' : ''}images: top-1 accuracy ${(100 * result.top1).toFixed(2)}%, top-5 accuracy ${(100 * result.top5).toFixed(2)}%</p>`
    : '';
  if (!list) return `${head}${accuracy}${confusion}${topImages}`;
  const failures = Object.entries(result.failures ?? {}).map(([reason, count]) => `${count} ${REASONS[reason] ?? reason}`).join(', ');
  const counts = `<p class="list-summary">${result.classified} of ${result.lines} images classified${result.failed ? `; ${result.failed} lines failed (${failures})` : ''}${result.count ? '' : '; no line had a label'}</p>`;
  const lines = `<h4>Every image</h4><p><label><input type="checkbox" class="failed-only" data-evaluation="${job.id}"${linePages.get(job.id)?.failed ? ' checked' : ''}> failed lines only</label></p>` +
    `<div class="list-lines" data-evaluation="${job.id}"></div>`;
  return `${head}${counts}${accuracy}${confusion}${topImages}${lines}`;
}

/** Which page of each list evaluation's lines is shown, and whether only failed lines are. */
const linePages = new Map();
const LINES_PER_PAGE = 50;

async function showLines(evaluationId) {
  const target = document.querySelector(`.list-lines[data-evaluation="${evaluationId}"]`);
  if (!target) return;
  const state = linePages.get(evaluationId) ?? { page: 0, failed: false };
  linePages.set(evaluationId, state);
  try {
    const { total, items } = await api('GET', `/api/evaluations/${evaluationId}/lines?page=${state.page}&size=${LINES_PER_PAGE}&failed=${state.failed ? 1 : 0}`);
    const rows = items.map((item) => `<tr class="${item.reason ? 'line-failed' : 'line-classified'}"><td>${item.line}</td>` +
      `<td>${item.url ? `<img class="thumbnail" src="${item.url}" alt="">` : ''}</td><td>${escapeHtml(item.text)}</td>` +
      (item.reason
        ? `<td colspan="2" class="state-ERROR">${escapeHtml(REASONS[item.reason] ?? item.reason)}: ${escapeHtml(item.error)}</td>`
        : `<td>${escapeHtml(item.predictions.map((prediction) => `${prediction.label} ${(100 * prediction.probability).toFixed(2)}%`).join(', '))}</td>` +
          `<td>${item.label !== undefined ? (item.predictions[0].index === item.label ? '<span class="state-DONE">right</span>' : '<span class="state-ERROR">wrong</span>') : ''}</td>`) + '</tr>');
    const pages = Math.max(1, Math.ceil(total / LINES_PER_PAGE));
    target.innerHTML = `<table class="lines"><tr><th>line</th><th></th><th>path [label]</th><th>top-5</th><th></th></tr>${rows.join('')}</table>` +
      `<p><button data-lines="${evaluationId}" data-step="-1"${state.page === 0 ? ' disabled' : ''}>Previous</button> page ${state.page + 1} of ${pages} (${total} lines) ` +
      `<button data-lines="${evaluationId}" data-step="1"${state.page + 1 >= pages ? ' disabled' : ''}>Next</button></p>`;
  } catch (error) {
    target.innerHTML = `<p class="state-ERROR">${escapeHtml(error.message)}</p>`;
  }
}

document.getElementById('evaluations').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-lines]');
  if (!button) return;
  const state = linePages.get(button.dataset.lines);
  state.page = Math.max(0, state.page + Number(button.dataset.step));
  showLines(button.dataset.lines);
});
document.getElementById('evaluations').addEventListener('change', (event) => {
  if (!event.target.classList.contains('failed-only')) return;
  linePages.set(event.target.dataset.evaluation, { page: 0, failed: event.target.checked });
  showLines(event.target.dataset.evaluation);
});

function showEvaluations() {
  const evaluations = [...(model.evaluations ?? [])].reverse();
  document.getElementById('evaluations').innerHTML = evaluations.map(evaluationHtml).join('');
  for (const job of evaluations) if (job.options.source === 'list' && job.state === 'DONE') showLines(job.id);
}

document.getElementById('snapshot').addEventListener('change', updateDownload);
document.getElementById('abort').addEventListener('click', () => api('POST', `/api/jobs/${id}/abort`).catch((error) => alert(error.message)));
document.getElementById('resume').addEventListener('click', () => api('POST', `/api/jobs/${id}/resume`).catch((error) => alert(error.message)));
document.getElementById('clone').addEventListener('click', () => { location.href = `/models/new?clone=${id}`; });
document.getElementById('delete').addEventListener('click', async () => {
  try { await api('DELETE', `/api/jobs/${id}`); location.href = '/'; } catch (error) { alert(error.message); }
});

listen(async (type, data) => {
  if (type === 'metric' && data.jobId === id) {
    metrics.push(data.metric);
    drawCharts();
  } else if (type === 'job' && data.id === id) {
    const stateChanged = data.state !== model.state;
    Object.assign(model, data);
    showStatus();
    if (stateChanged || data.state === 'RUN') {
      const fresh = await api('GET', `/api/models/${id}`);
      model.snapshots = fresh.snapshots;
      showSnapshots();
    }
  } else if (type === 'job' && data.type === 'evaluate' && data.parentId === id) {
    await load();
  }
});
load();
api('GET', '/api/info').then((info) => {
  document.getElementById('list-roots').textContent = info.dataRoots.length ? info.dataRoots.join(', ') : 'the data roots (the server has none: start it with --data-root)';
});
