// model.js — the model page: the live chart (loss, accuracy, lr per epoch), status, snapshots, classify one (with visualizations) and many.
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
    (model.error ? `<p class="state-ERROR">${escapeHtml(model.error)}</p>` : '') + `<p class="muted">Device: ${escapeHtml(model.device ?? '—')} · submitted ${when(model.submitted)}</p>`;
  document.getElementById('history').textContent = model.history.map((entry) => `${entry.state} ${when(entry.time)}`).join(' → ');
  document.getElementById('abort').hidden = !['RUN', 'WAIT'].includes(model.state);
  document.getElementById('resume').hidden = !['ABORT', 'ERROR'].includes(model.state);
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
  const snapshot = document.getElementById('snapshot').value;
  const query = `?snapshot=${snapshot}${form.elements.visualize.checked ? '&visualize=1' : ''}`;
  document.getElementById('classify-result').innerHTML = '<p class="muted">Classifying…</p>';
  try {
    const body = file ? file : { split: 'val', index: Number(form.elements.index.value || 0) };
    const result = await api('POST', `/api/models/${id}/classify${query}`, body);
    const preview = file ? URL.createObjectURL(file) : `/api/datasets/${model.options.datasetId}/images/val/${Number(form.elements.index.value || 0)}.png`;
    document.getElementById('classify-result').innerHTML = `<img src="${preview}" width="96" style="image-rendering:pixelated">${predictionsTable(result.predictions)}` +
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

function evaluationHtml(job) {
  const head = `<h4>${escapeHtml(job.options.split)} split, iteration ${job.options.snapshot ?? 'latest'} — <span class="state-${job.state}">${escapeHtml(statusText(job))}</span> ${job.state === 'RUN' ? progressBar(job.progress) : ''}</h4>`;
  const result = job.result;
  if (!result || job.state !== 'DONE') return head + (job.error ? `<p class="state-ERROR">${escapeHtml(job.error)}</p>` : '');
  const labels = result.labels;
  const confusion = `<table class="confusion"><tr><th>true \\ predicted</th>${labels.map((label) => `<th>${escapeHtml(label)}</th>`).join('')}<th>accuracy</th></tr>` +
    result.confusion.map((row, index) => `<tr><th>${escapeHtml(labels[index])}</th>${row.map((count) => `<td>${count}</td>`).join('')}<td>${(100 * result.perClass[index].accuracy).toFixed(2)}%</td></tr>`).join('') + '</table>';
  const thumbnail = (image) => `<img class="thumbnail" src="/api/datasets/${result.datasetId}/images/${result.split}/${image.index}.png" ` +
    `title="${escapeHtml(labels[image.label])}: ${(100 * image.probability).toFixed(2)}%" alt="${escapeHtml(labels[image.label])}">`;
  const topImages = result.topPerClass
    ? `<h4>Top images per category</h4><table class="top-images">${result.topPerClass.map((images, index) =>
      `<tr><th>${escapeHtml(labels[index])}</th><td>${images.map(thumbnail).join('')}</td></tr>`).join('')}</table>`
    : '';
  return `${head}<p class="evaluation-summary">${result.count} images: top-1 accuracy ${(100 * result.top1).toFixed(2)}%, top-5 accuracy ${(100 * result.top5).toFixed(2)}%</p>${confusion}${topImages}`;
}

function showEvaluations() {
  document.getElementById('evaluations').innerHTML = [...(model.evaluations ?? [])].reverse().map(evaluationHtml).join('');
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
