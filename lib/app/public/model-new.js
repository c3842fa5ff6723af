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
