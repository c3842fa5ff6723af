// model-new.js — the new-model form: datasets and devices from the API, ?dataset= and ?clone= pre-filling, errors beside their fields.
import { api, showFormError, escapeHtml } from '/static/app.js';

const form = document.getElementById('model-form');
const NUMBERS = ['epochs', 'snapshotInterval', 'valInterval', 'batchSize', 'baseLr', 'lrStep', 'lrGamma', 'lrPower', 'crop', 'seed', 'maxIterations'];

function values() {
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (value === '' || (name === 'customNetwork' && form.elements.network.value !== 'custom')) continue;
    body[name] = NUMBERS.includes(name) ? Number(value) : value;
  }
  return body;
}

function toggleCustom() {
  document.getElementById('custom-box').hidden = form.elements.network.value !== 'custom';
}

form.elements.network.addEventListener('change', toggleCustom);
document.getElementById('customize').addEventListener('click', async () => {
  const name = form.elements.network.value === 'alexnet' ? 'alexnet' : 'lenet';
  form.elements.customNetwork.value = await api('GET', `/api/networks/${name}`);
  form.elements.network.value = 'custom';
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
    const job = await api('POST', '/api/models', values());
    location.href = `/models/${job.id}`;
  } catch (error) {
    showFormError(form, error);
  }
});

async function init() {
  const [{ datasets }, info] = await Promise.all([api('GET', '/api/jobs'), api('GET', '/api/info')]);
  const usable = datasets.filter((job) => ['DONE', 'RUN', 'WAIT'].includes(job.state));
  form.elements.datasetId.innerHTML = usable.map((job) => `<option value="${job.id}">${escapeHtml(job.name)} (${job.state})</option>`).join('');
  form.elements.device.innerHTML = ['auto', ...info.devices].map((name) => `<option>${name}</option>`).join('');
  const query = new URLSearchParams(location.search);
  if (query.get('dataset')) form.elements.datasetId.value = query.get('dataset');
  if (query.get('clone')) {
    const { options } = await api('GET', `/api/jobs/${query.get('clone')}/clone`);
    for (const [name, value] of Object.entries(options)) if (form.elements[name]) form.elements[name].value = value;
  }
  toggleCustom();
}
init();
