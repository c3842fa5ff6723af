// html.ts — the report as one self-contained HTML page: inline SVG charts and tables, no scripts, no external files.
import { formatShape } from '../tensor.js';
import type { BenchReport, RunReport } from './report.js';
import { formatTiming } from './table.js';

const COLORS = { forward: '#3b6fb6', backward: '#d9822b' };
const SERIES = ['#3b6fb6', '#d9822b', '#3a9a5b', '#b8433b', '#7c5cb0', '#8a6d3b'];

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const number = (value: number, digits = 2) => value.toFixed(digits);

/** Horizontal bars, two per layer (forward above backward), in milliseconds on a shared axis. */
export function layerBarsSvg(run: RunReport): string {
  const rowHeight = 26, labelWidth = 150, plotWidth = 520, top = 24;
  const longest = Math.max(...run.layers.map((layer) => Math.max(layer.forward.median, layer.backward?.median ?? 0)), 1e-6);
  const height = top + run.layers.length * rowHeight + 10;
  const scale = (ms: number) => (ms / longest) * plotWidth;
  const bars = run.layers.map((layer, i) => {
    const y = top + i * rowHeight;
    const bar = (ms: number, offset: number, color: string) =>
      `<rect x="${labelWidth}" y="${y + offset}" width="${number(scale(ms))}" height="10" fill="${color}"/>` +
      `<text x="${labelWidth + scale(ms) + 4}" y="${y + offset + 9}" font-size="10">${number(ms, 3)}</text>`;
    return `<text x="${labelWidth - 6}" y="${y + 14}" font-size="11" text-anchor="end">${escapeHtml(layer.name)}</text>` +
      bar(layer.forward.median, 1, COLORS.forward) + (layer.backward ? bar(layer.backward.median, 12, COLORS.backward) : '');
  }).join('');
  const legend = `<rect x="${labelWidth}" y="4" width="10" height="10" fill="${COLORS.forward}"/>` +
    `<text x="${labelWidth + 14}" y="13" font-size="11">forward ms</text>` +
    `<rect x="${labelWidth + 100}" y="4" width="10" height="10" fill="${COLORS.backward}"/>` +
    `<text x="${labelWidth + 114}" y="13" font-size="11">backward ms (median)</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 70}" height="${height}" role="img">` +
    `${legend}${bars}</svg>`;
}

/** Images/s against batch size, one line per device: the batch sizes evenly spaced, images/s linear from 0. */
export function throughputSvg(report: BenchReport): string {
  const width = 560, height = 300, left = 60, right = 20, top = 20, bottom = 40;
  const batches = [...new Set(report.runs.map((run) => run.batchSize))].sort((a, b) => a - b);
  const devices = [...new Set(report.runs.map((run) => run.device))];
  const most = Math.max(...report.runs.map((run) => run.imagesPerSecond), 1e-6);
  const x = (batch: number) => left + (batches.length === 1 ? (width - left - right) / 2
    : (batches.indexOf(batch) / (batches.length - 1)) * (width - left - right));
  const y = (rate: number) => height - bottom - (rate / most) * (height - top - bottom);
  const axes = `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#444"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#444"/>` +
    batches.map((batch) => `<text x="${x(batch)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle">${batch}</text>`).join('') +
    [0, 0.5, 1].map((f) => `<text x="${left - 6}" y="${y(most * f) + 4}" font-size="11" text-anchor="end">${number(most * f, 0)}</text>`).join('') +
    `<text x="${(left + width - right) / 2}" y="${height - 6}" font-size="11" text-anchor="middle">batch size</text>` +
    `<text x="14" y="${(top + height - bottom) / 2}" font-size="11" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle">images/s</text>`;
  const lines = devices.map((device, i) => {
    const color = SERIES[i % SERIES.length];
    const points = report.runs.filter((run) => run.device === device).sort((a, b) => a.batchSize - b.batchSize);
    const path = points.map((run) => `${number(x(run.batchSize), 1)},${number(y(run.imagesPerSecond), 1)}`).join(' ');
    return `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>` +
      points.map((run) => `<circle cx="${number(x(run.batchSize), 1)}" cy="${number(y(run.imagesPerSecond), 1)}" r="3.5" fill="${color}">` +
        `<title>${escapeHtml(device)}, batch ${run.batchSize}: ${number(run.imagesPerSecond, 1)} images/s</title></circle>`).join('') +
      `<text x="${left + 8}" y="${top + 14 * (i + 1)}" font-size="11" fill="${color}">${escapeHtml(device)}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img">${axes}${lines}</svg>`;
}

function runTable(run: RunReport): string {
  const cell = (text: string) => `<td>${escapeHtml(text)}</td>`;
  const rate = (value: number | null, fraction: number | null) =>
    value === null || fraction === null ? '-' : `${number(value, 1)} (${Math.round(fraction * 100)}%)`;
  const rows = run.layers.map((layer) => `<tr>${[
    layer.name, layer.type, layer.topShapes.map(formatShape).join(','),
    formatTiming(layer.forward), formatTiming(layer.backward),
    rate(layer.gflops.forward, layer.peakFraction.compute.forward), rate(layer.gflops.backward, layer.peakFraction.compute.backward),
    rate(layer.gbPerSecond.forward, layer.peakFraction.memory.forward), rate(layer.gbPerSecond.backward, layer.peakFraction.memory.backward),
  ].map(cell).join('')}</tr>`).join('');
  return '<table><tr><th>layer</th><th>type</th><th>top</th><th>forward ms [min-max] ±IQR</th><th>backward ms</th>' +
    '<th>fwd GFLOP/s (peak)</th><th>bwd GFLOP/s (peak)</th><th>fwd GB/s (peak)</th><th>bwd GB/s (peak)</th></tr>' +
    `${rows}</table>`;
}

function runSection(run: RunReport): string {
  return `<section><h2>${escapeHtml(run.device)}, batch ${run.batchSize}, ${run.precision}</h2>` +
    `<p>${escapeHtml(run.deviceDescription)}. Peaks: ${number(run.peak.gflops, 1)} GFLOP/s (${escapeHtml(run.peak.method.compute)}), ` +
    `${number(run.peak.gbPerSecond, 1)} GB/s (${escapeHtml(run.peak.method.memory)}). ` +
    `Whole iteration ${escapeHtml(formatTiming(run.iteration))} ms: <b>${number(run.imagesPerSecond, 1)} images/s</b>.</p>` +
    `${layerBarsSvg(run)}${runTable(run)}</section>`;
}

/** The whole page. */
export function reportHtml(report: BenchReport): string {
  const { machine, settings } = report;
  const gpus = machine.gpus.map((gpu) => `<li>${escapeHtml(gpu.device)}: ${escapeHtml(gpu.description)}` +
    `${gpu.driver ? `, driver ${escapeHtml(gpu.driver)}` : ''}</li>`).join('');
  const title = `cudnet bench: ${settings.network}`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>` +
    'body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}' +
    'td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}' +
    'section{margin-bottom:32px}</style></head><body>' +
    `<h1>${escapeHtml(title)}</h1>` +
    `<p>${escapeHtml(settings.phase)} phase, ${settings.iterations} timed iterations after ${settings.warmup} warm-up, ` +
    `${escapeHtml(settings.precision)}; measured ${escapeHtml(report.createdAt)}.</p>` +
    `<ul><li>CPU: ${escapeHtml(machine.cpu.model)}, ${machine.cpu.cores} logical cores; ${escapeHtml(machine.os)}; Node ${escapeHtml(machine.node)}</li>` +
    `${gpus}<li>cudnet ${escapeHtml(machine.cudnet.version)}${machine.cudnet.commit ? ` (${escapeHtml(machine.cudnet.commit)})` : ''}</li></ul>` +
    `<h2>Images/s against batch size</h2>${throughputSvg(report)}` +
    report.runs.map(runSection).join('') + '</body></html>\n';
}
