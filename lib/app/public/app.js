// app.js — what every page shares: API calls, live events, durations, escaping, and the SVG charts (lines and bars).
// The server takes a state-changing request only with the content-type its route reads (JSON unless it takes an
// image), so a file goes as its image type or as bytes, and a request without a body says JSON.
export async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof Blob) { init.body = body; init.headers['content-type'] = body.type.startsWith('image/') ? body.type : 'application/octet-stream'; }
  else if (body instanceof ArrayBuffer) { init.body = body; init.headers['content-type'] = 'application/octet-stream'; }
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers['content-type'] = 'application/json'; }
  else if (method !== 'GET' && method !== 'HEAD') init.headers['content-type'] = 'application/json';
  const response = await fetch(path, init);
  const value = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text();
  if (!response.ok) { const error = new Error(value?.error?.message ?? String(value)); error.field = value?.error?.field; error.status = response.status; throw error; }
  return value;
}

/** Calls onEvent(type, data) for every server event ('job', 'metric', 'deleted'); EventSource reconnects by itself. */
export function listen(onEvent) {
  const source = new EventSource('/api/events');
  for (const type of ['job', 'metric', 'deleted']) source.addEventListener(type, (event) => onEvent(type, JSON.parse(event.data)));
  return source;
}

export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** "5 minutes, 7 seconds" as DIGITS writes durations. */
export function duration(seconds) {
  const units = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
  const parts = [];
  let left = Math.round(seconds);
  for (const [name, size] of units) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0 && parts.length < 2) parts.push(`${count} ${name}${count === 1 ? '' : 's'}`);
  }
  return parts.join(', ') || '0 seconds';
}

const WORDS = { DONE: 'Done', ABORT: 'Aborted', ERROR: 'Error', RUN: 'Running', WAIT: 'Waiting' };

export function statusText(job) {
  if (job.state === 'RUN') return `Running${job.eta != null ? `, ${duration(job.eta)} left` : ''}`;
  if (job.state === 'WAIT') return 'Waiting';
  return `${WORDS[job.state]} after ${duration(job.seconds)}`;
}

export function progressBar(fraction) {
  return `<span class="progress"><div style="width:${Math.round(100 * (fraction ?? 0))}%"></div></span> ${Math.round(100 * (fraction ?? 0))}%`;
}

export function when(iso) {
  return new Date(iso).toLocaleString();
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

/**
 * A line chart: series [{ name, points: [[x, y]], right? }] against one x axis; series marked
 * `right` use a second y axis on the right (accuracy in %, learning rate).
 */
export function lineChart(series, { width = 760, height = 280, xLabel = 'epoch' } = {}) {
  const margin = { left: 50, right: 55, top: 24, bottom: 30 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<svg width="${width}" height="60"><text x="10" y="30">No data yet</text></svg>`;
  const xMax = Math.max(...all.map(([x]) => x), 1e-9);
  const range = (side) => {
    const values = series.filter((s) => Boolean(s.right) === side).flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
    return values.length ? [Math.min(0, ...values), Math.max(...values, 1e-9)] : [0, 1];
  };
  const ranges = [range(false), range(true)];
  const xPos = (x) => margin.left + (x / xMax) * plotWidth;
  const yPos = (y, right) => { const [low, high] = ranges[right ? 1 : 0]; return margin.top + plotHeight - ((y - low) / (high - low || 1)) * plotHeight; };
  const ticks = (low, high) => [0, 0.25, 0.5, 0.75, 1].map((t) => low + t * (high - low));
  const format = (value) => (Math.abs(value) >= 100 || value === 0 ? value.toFixed(0) : value.toPrecision(2));
  const axes = [
    `<line x1="${margin.left}" y1="${margin.top + plotHeight}" x2="${margin.left + plotWidth}" y2="${margin.top + plotHeight}" stroke="#888"/>`,
    ...ticks(0, xMax).map((x) => `<text x="${xPos(x)}" y="${height - 12}" text-anchor="middle">${format(x)}</text>`),
    `<text x="${margin.left + plotWidth / 2}" y="${height - 1}" text-anchor="middle">${xLabel}</text>`,
    ...ticks(...ranges[0]).map((y) => `<text x="${margin.left - 4}" y="${yPos(y, false) + 4}" text-anchor="end">${format(y)}</text><line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${yPos(y, false)}" y2="${yPos(y, false)}" stroke="#eee"/>`),
    ...(series.some((s) => s.right) ? ticks(...ranges[1]).map((y) => `<text x="${margin.left + plotWidth + 4}" y="${yPos(y, true) + 4}">${format(y)}</text>`) : []),
  ];
  const lines = series.map((s, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${xPos(x).toFixed(1)},${yPos(y, s.right).toFixed(1)}`).join(' ');
    const dots = s.points.length < 40 ? s.points.map(([x, y]) => `<circle cx="${xPos(x)}" cy="${yPos(y, s.right)}" r="2.5" fill="${colour}"/>`).join('') : '';
    return `<polyline fill="none" stroke="${colour}" stroke-width="1.8" points="${points}"/>${dots}`;
  });
  const legend = series.map((s, index) => `<rect x="${margin.left + index * 150}" y="6" width="12" height="4" fill="${COLOURS[index % COLOURS.length]}"/><text x="${margin.left + index * 150 + 16}" y="12">${escapeHtml(s.name)}</text>`);
  return `<svg width="${width}" height="${height}" role="img">${axes.join('')}${lines.join('')}${legend.join('')}</svg>`;
}

/** Vertical bars with their labels: [{ label, value }]. */
export function barChart(bars, { height = 160, barWidth = 26 } = {}) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const width = Math.max(200, bars.length * (barWidth + 6) + 20);
  const body = bars.map((bar, index) => {
    const x = 10 + index * (barWidth + 6);
    const h = (bar.value / max) * (height - 40);
    return `<rect x="${x}" y="${height - 20 - h}" width="${barWidth}" height="${h}" fill="#76b900"><title>${escapeHtml(bar.label)}: ${bar.value}</title></rect>` +
      `<text x="${x + barWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(String(bar.label).slice(0, 6))}</text>` +
      `<text x="${x + barWidth / 2}" y="${height - 24 - h}" text-anchor="middle">${bar.value}</text>`;
  });
  return `<svg width="${width}" height="${height}" role="img">${body.join('')}</svg>`;
}

/** Shows { message, field } next to the form field it names, or at the form's top. */
export function showFormError(form, error) {
  form.querySelectorAll('.error').forEach((node) => node.remove());
  const field = error.field && form.querySelector(`[name="${error.field.split('.')[0]}"]`);
  const note = document.createElement('span');
  note.className = 'error';
  note.textContent = error.message;
  if (field) field.after(note);
  else form.querySelector('.form-error').textContent = error.message;
}
