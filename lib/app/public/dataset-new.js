// dataset-new.js — the new-dataset form: pre-filled by ?clone=<id>, sent as JSON, errors shown beside their fields.
import { api, showFormError } from '/static/app.js';

const form = document.getElementById('dataset-form');
const NUMBERS = ['valPercent', 'testPercent', 'channels', 'width', 'height', 'minPerClass', 'maxPerClass'];

function values() {
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (value === '') continue;
    body[name] = NUMBERS.includes(name) ? Number(value) : value;
  }
  return body;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const job = await api('POST', '/api/datasets', values());
    location.href = `/datasets/${job.id}`;
  } catch (error) {
    showFormError(form, error);
  }
});

// Shows the folder's first image as the import would store it with the chosen size and mode.
document.getElementById('preview').addEventListener('click', async () => {
  const { folder, width, height, resizeMode, channels } = values();
  const image = document.getElementById('preview-image');
  const response = await fetch('/api/datasets/preview', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ folder, width, height, resizeMode, channels }),
  });
  if (!response.ok) {
    showFormError(form, Object.assign(new Error((await response.json()).error.message), { field: 'folder' }));
    return;
  }
  image.src = URL.createObjectURL(await response.blob());
  image.hidden = false;
});

document.getElementById('mnist').addEventListener('click', async () => {
  const job = await api('POST', '/api/datasets/mnist', { name: 'MNIST' });
  location.href = `/datasets/${job.id}`;
});

async function init() {
  const info = await api('GET', '/api/info');
  document.getElementById('roots').textContent = info.dataRoots.length ? `inside ${info.dataRoots.join(', ')}` : '(server started without --data-root)';
  const clone = new URLSearchParams(location.search).get('clone');
  if (!clone) return;
  const { options } = await api('GET', `/api/jobs/${clone}/clone`);
  for (const [name, value] of Object.entries(options)) if (form.elements[name]) form.elements[name].value = value;
}
init();
