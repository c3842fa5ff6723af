// model-new.js — the new-model form: datasets, devices and previous networks from the API, ?dataset= and ?clone= pre-filling, errors beside their fields.
import { api, showFormError, escapeHtml, statusText } from '/static/app.js';

const form = document.getElementById('model-form');
const NUMBERS = ['epochs', 'snapshotInterval', 'valInterval', 'batchSize', 'baseLr', 'lrStep', 'lrGamma', 'lrPower', 'crop', 'seed', 'maxIterations'];

/** The chosen previous network ({ id, name, network, snapshots, crop, ... } from GET /api/models/:id/network). */
let previous;
/** The model whose network Customize copied into the text box (its weights can still start the training). */
let customizedFrom;
/** The snapshot "start from its weights" uses: the last one, or the one a cloned job used. */
let weightsIter;

function values() {
  const body = {};
  const network = form.elements.network.value;
  for (const [name, value] of new FormData(form)) {
    if (value === '' || (name === 'customNetwork' && network !== 'custom') || ['previousNetwork', 'fromWeights', 'pretrainedFile'].includes(name)) continue;
    body[name] = NUMBERS.includes(name) ? Number(value) : value;
  }
  if (network === 'previous' && previous) body.previousNetwork = previous.id;
  if (network === 'custom' && customizedFrom) body.previousNetwork = customizedFrom;
  if (body.previousNetwork && form.elements.fromWeights.checked && weightsIter !== undefined) body.previousSnapshot = weightsIter;
  return body;
}

function toggleCustom() {
  const network = form.elements.network.value;
  if (network !== 'custom') customizedFrom = undefined;
  document.getElementById('previous-box').hidden = network !== 'previous';
  // A previous network shows its prototxt read-only; Customize makes it an editable custom network.
  document.getElementById('custom-box').hidden = !(network === 'custom' || (network === 'previous' && previous));
  form.elements.customNetwork.readOnly = network === 'previous';
  document.getElementById('network-caption').textContent = network === 'previous' && previous ? `Network of "${previous.name}"` : 'Custom network';
  if (network === 'previous' && previous) form.elements.customNetwork.value = previous.network;
  form.elements.batchSize.placeholder = network === 'previous' && previous?.batchSize ? `${previous.batchSize}, as it trained` : 'network default';
  document.getElementById('weights-row').hidden = !((network === 'previous' && previous) || customizedFrom);
}

/** Fetches a previous model's network: its prototxt fills the text box; its last snapshot is what "start from its weights" loads. */
async function choosePrevious(jobId) {
  try {
    previous = await api('GET', `/api/models/${jobId}/network`);
  } catch (error) {
    previous = undefined;
    showFormError(form, Object.assign(error, { field: 'network' }));
    toggleCustom();
    return;
  }
  form.querySelectorAll('.error').forEach((node) => node.remove());
  const last = previous.snapshots.at(-1);
  weightsIter = last?.iter;
  form.elements.fromWeights.disabled = !last;
  if (!last) form.elements.fromWeights.checked = false;
  document.getElementById('weights-note').textContent = last
    ? `the last snapshot of "${previous.name}": epoch ${+last.epoch.toFixed(3)} (iteration ${last.iter})` : `"${previous.name}" has no snapshot yet`;
  if (previous.crop && !form.elements.crop.value) form.elements.crop.value = previous.crop;
  toggleCustom();
}

/** The upload of the chosen .caffemodel, while it goes up (the form waits for it before it is sent). */
let uploading;

/** Streams the chosen .caffemodel to the server, which checks it; its id goes with the form as pretrainedUpload. */
async function uploadWeights(file) {
  const note = document.getElementById('upload-note');
  form.elements.pretrainedUpload.value = '';
  form.querySelectorAll('.error').forEach((node) => node.remove());
  if (!file) {
    note.textContent = '';
    return;
  }
  note.textContent = `uploading ${file.name} (${(file.size / 1048576).toFixed(1)} MiB)…`;
  try {
    const response = await fetch(`/api/uploads/caffemodel?name=${encodeURIComponent(file.name)}`, {
      method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' },
    });
    const value = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(value?.error?.message ?? `upload failed (${response.status})`), { field: 'pretrainedFile' });
    form.elements.pretrainedUpload.value = value.id;
    note.textContent = `uploaded ${file.name}: weights of ${value.layers.length} layer(s) (${value.layers.join(', ')})`;
  } catch (error) {
    note.textContent = '';
    form.elements.pretrainedFile.value = '';
    showFormError(form, Object.assign(error, { field: error.field ?? 'pretrainedFile' }));
  }
}

form.elements.pretrainedFile.addEventListener('change', () => {
  uploading = uploadWeights(form.elements.pretrainedFile.files[0]);
});

form.elements.network.addEventListener('change', toggleCustom);
document.getElementById('previous-networks').addEventListener('change', (event) => {
  if (event.target.name === 'previousNetwork') choosePrevious(event.target.value);
});
document.getElementById('customize').addEventListener('click', async () => {
  if (form.elements.network.value === 'previous') {
    if (!previous) {
      showFormError(form, { message: 'choose a previous network first', field: 'network' });
      return;
    }
    form.elements.customNetwork.value = previous.network;
    form.elements.network.value = 'custom';
    toggleCustom();
    customizedFrom = previous.id;
  } else {
    const name = form.elements.network.value === 'alexnet' ? 'alexnet' : 'lenet';
    form.elements.customNetwork.value = await api('GET', `/api/networks/${name}`);
    form.elements.network.value = 'custom';
  }
  toggleCustom();
});

/**
 * Draws the layers top to bottom, each a box with its name and type (and TRAIN/TEST when it has a
 * phase rule), with an arrow from the layer that produced each of its bottoms.
 */
function drawGraph({ layers }) {
  const box = { x: 20, width: 260, height: 26, gap: 14 };
  const y = (index) => 10 + index * (box.height + box.gap);
  // A blob's producers: the last layer that wrote it, or one per phase (TRAIN and TEST Data layers).
  const producers = new Map();
  const edges = [];
  layers.forEach((layer, index) => {
    const samePhase = (from) => layers[from].phases.length === 0 || layer.phases.length === 0 ||
      layers[from].phases.some((phase) => layer.phases.includes(phase));
    for (const blob of layer.bottom) for (const from of (producers.get(blob) ?? []).filter(samePhase)) edges.push([from, index, blob]);
    for (const blob of layer.top) {
      const previous = (producers.get(blob) ?? []).filter((from) => layers[from].phases.length > 0 && layer.phases.length > 0 &&
        !layers[from].phases.some((phase) => layer.phases.includes(phase)));
      producers.set(blob, [...previous, index]);
    }
  });
  const right = box.x + box.width;
  const paths = edges.map(([from, to, blob]) => {
    const y1 = y(from) + box.height / 2, y2 = y(to) + box.height / 2, bend = 20 + 12 * (to - from);
    return `<path d="M${right} ${y1} C${right + bend} ${y1}, ${right + bend} ${y2}, ${right + 4} ${y2}" fill="none" stroke="#78b900" marker-end="url(#arrow)"><title>${escapeHtml(blob)}</title></path>`;
  });
  const boxes = layers.map((layer, index) => `<g><rect x="${box.x}" y="${y(index)}" width="${box.width}" height="${box.height}" rx="4" fill="#f4f8ec" stroke="#5a8a00"/>` +
    `<text x="${box.x + 8}" y="${y(index) + 17}" font-size="12">${escapeHtml(layer.name)} (${escapeHtml(layer.type)})${layer.phases.length ? ` · ${layer.phases.join('/')}` : ''}</text></g>`);
  const height = y(layers.length) + 10;
  const width = right + 40 + 12 * Math.max(0, ...edges.map(([from, to]) => to - from));
  return `<svg class="network-graph" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="6" refY="4" orient="auto"><path d="M0 0 L8 4 L0 8 z" fill="#78b900"/></marker></defs>` +
    `${paths.join('')}${boxes.join('')}</svg>`;
}

document.getElementById('visualize').addEventListener('click', async () => {
  const target = document.getElementById('network-graph');
  try {
    target.innerHTML = drawGraph(await api('POST', '/api/networks/graph', { customNetwork: form.elements.customNetwork.value }));
  } catch (error) {
    showFormError(form, error);
  }
});

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await uploading;
    const job = await api('POST', '/api/models', values());
    location.href = `/models/${job.id}`;
  } catch (error) {
    showFormError(form, error);
  }
});

/** Every model that has started training (so it has a network), newest first, with its dataset and status. */
function listPrevious(models, datasets) {
  const names = new Map(datasets.map((job) => [job.id, job.name]));
  const started = models.filter((job) => job.history.some((entry) => entry.state === 'RUN')).sort((a, b) => b.submitted.localeCompare(a.submitted));
  document.querySelector('#previous-networks tbody').innerHTML = started.map((job) => `<tr><td><input type="radio" name="previousNetwork" value="${job.id}" id="previous-${job.id}"></td>` +
    `<td><label for="previous-${job.id}">${escapeHtml(job.name)}</label></td><td>${escapeHtml(names.get(job.parentId) ?? job.parentId ?? '')}</td>` +
    `<td class="state-${job.state}">${escapeHtml(statusText(job))}</td></tr>`).join('') || '<tr><td colspan="4" class="muted">No model has trained yet</td></tr>';
}

async function init() {
  const [{ datasets, models }, info] = await Promise.all([api('GET', '/api/jobs'), api('GET', '/api/info')]);
  const usable = datasets.filter((job) => ['DONE', 'RUN', 'WAIT'].includes(job.state));
  form.elements.datasetId.innerHTML = usable.map((job) => `<option value="${job.id}">${escapeHtml(job.name)} (${job.state})</option>`).join('');
  form.elements.device.innerHTML = ['auto', ...info.devices].map((name) => `<option>${name}</option>`).join('');
  listPrevious(models, datasets);
  const query = new URLSearchParams(location.search);
  if (query.get('dataset')) form.elements.datasetId.value = query.get('dataset');
  if (query.get('clone')) {
    const { options } = await api('GET', `/api/jobs/${query.get('clone')}/clone`);
    for (const [name, value] of Object.entries(options)) {
      if (form.elements[name] && !['previousNetwork', 'previousSnapshot', 'customNetwork'].includes(name)) form.elements[name].value = value;
    }
    if (options.previousNetwork) {
      const radio = document.getElementById(`previous-${options.previousNetwork}`);
      if (radio) radio.checked = true;
      await choosePrevious(options.previousNetwork);
      if (options.network === 'custom') customizedFrom = options.previousNetwork;
      if (options.previousSnapshot !== undefined && previous?.snapshots.some((snapshot) => snapshot.iter === options.previousSnapshot)) {
        weightsIter = options.previousSnapshot;
        form.elements.fromWeights.checked = true;
      }
    }
    if (options.network === 'custom') form.elements.customNetwork.value = options.customNetwork ?? '';
    if (options.pretrainedUpload) document.getElementById('upload-note').textContent = `the weights uploaded for the cloned model (${options.pretrainedUpload})`;
  }
  toggleCustom();
}
init();
