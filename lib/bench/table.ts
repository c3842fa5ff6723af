// table.ts — the terminal tables: per-layer timings and rates of a run, the cuDNN algorithm lists, the machine.
import { formatShape } from '../tensor.js';
import type { AlgorithmReport, AlgorithmTiming } from './algorithms.js';
import type { BenchReport, LayerReport, RunReport } from './report.js';
import type { TimingSummary } from './stats.js';

/** Rows of cells as aligned text: the first `textColumns` columns left-aligned, the numbers right-aligned. */
export function formatTable(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

/** "1.234 [1.20-1.30] ±2%": median, min-max, and the IQR relative to the median. */
export function formatTiming(summary: TimingSummary | null): string {
  if (!summary) return '-';
  const digits = summary.median < 1 ? 3 : summary.median < 100 ? 2 : 1;
  const spread = summary.median > 0 ? Math.round((summary.iqr / summary.median) * 100) : 0;
  return `${fixed(summary.median, digits)} [${fixed(summary.min, digits)}-${fixed(summary.max, digits)}] ±${spread}%`;
}

/** GFLOP/s (or GB/s) with the percentage of peak: "123.4 (45%)". */
function formatRate(rate: number | null, fraction: number | null): string {
  if (rate === null || fraction === null) return '-';
  return `${rate >= 100 ? fixed(rate, 0) : fixed(rate, 1)} (${Math.round(fraction * 100)}%)`;
}

function layerRow(layer: LayerReport): string[] {
  const gflop = (value: number | null) => (value === null ? '-' : fixed(value / 1e9, 3));
  return [
    layer.name, layer.type, layer.topShapes.map(formatShape).join(','),
    formatTiming(layer.forward), formatTiming(layer.backward),
    gflop(layer.flops.forward), gflop(layer.flops.backward),
    formatRate(layer.gflops.forward, layer.peakFraction.compute.forward),
    formatRate(layer.gflops.backward, layer.peakFraction.compute.backward),
    formatRate(layer.gbPerSecond.forward, layer.peakFraction.memory.forward),
    formatRate(layer.gbPerSecond.backward, layer.peakFraction.memory.backward),
  ];
}

const LAYER_HEADER = [
  'layer', 'type', 'top', 'fwd ms [min-max] ±IQR', 'bwd ms [min-max] ±IQR', 'fwd GFLOP', 'bwd GFLOP',
  'fwd GFLOP/s (peak)', 'bwd GFLOP/s (peak)', 'fwd GB/s (peak)', 'bwd GB/s (peak)',
];

/** A run: its heading, the peaks, one row per layer, the totals and the whole iteration. */
export function formatRun(run: RunReport): string {
  const heading = `${run.device} (${run.deviceDescription}), batch ${run.batchSize}, ${run.precision}; ` +
    `peaks ${fixed(run.peak.gflops, 1)} GFLOP/s (${run.peak.method.compute}), ` +
    `${fixed(run.peak.gbPerSecond, 1)} GB/s (${run.peak.method.memory})`;
  const totals = `layers: forward ${fixed(run.layerTotals.forward, 2)} ms + backward ${fixed(run.layerTotals.backward, 2)} ms ` +
    `(sums of medians, each layer timed to a device synchronize)`;
  const iteration = `whole iteration: ${formatTiming(run.iteration)} ms -> ${fixed(run.imagesPerSecond, 1)} images/s`;
  const parts = [heading, formatTable(LAYER_HEADER, run.layers.map(layerRow), 3), totals, iteration];
  if (run.algorithms) parts.push(formatAlgorithms(run.algorithms));
  return parts.join('\n');
}

function algorithmRow(direction: string, entry: AlgorithmTiming): string[] {
  return [
    direction, `${entry.name} (${entry.algorithm})`, entry.milliseconds === null ? entry.status : fixed(entry.milliseconds, 3),
    fixed(entry.workspaceBytes / 2 ** 20, 1), String(entry.mathType), entry.picked ? '<- cudnet' : '',
  ];
}

/** The algorithm lists of each convolution, or the CPU's note. */
export function formatAlgorithms(report: AlgorithmReport): string {
  if (report.kind === 'cpu') return `algorithms: ${report.note}`;
  return report.convolutions.map((convolution) => {
    const rows = [
      ...convolution.forward.map((entry) => algorithmRow('forward', entry)),
      ...convolution.backwardData.map((entry) => algorithmRow('backward data', entry)),
      ...convolution.backwardFilter.map((entry) => algorithmRow('backward filter', entry)),
    ];
    const mode = `${convolution.tf32 ? 'tf32' : 'fp32'}${convolution.deterministic ? ', deterministic only' : ''}`;
    return `algorithms of ${convolution.layer} (${convolution.shape}, ${mode}, ` +
      `workspace limit ${fixed(convolution.workspaceLimitBytes / 2 ** 20, 0)} MiB):\n` +
      formatTable(['direction', 'algorithm', 'ms', 'workspace MiB', 'math', 'picked'], rows, 2);
  }).join('\n');
}

/** One line on the machine and the cudnet build. */
export function formatMachine(report: BenchReport): string {
  const { machine } = report;
  const gpus = machine.gpus.map((gpu) => `${gpu.device}: ${gpu.description}${gpu.driver ? `, driver ${gpu.driver}` : ''}`);
  return [`machine: ${machine.cpu.model}, ${machine.cpu.cores} logical cores, ${machine.os}, Node ${machine.node}`,
    ...gpus, `cudnet ${machine.cudnet.version}${machine.cudnet.commit ? ` (${machine.cudnet.commit.slice(0, 12)})` : ''}`].join('\n');
}

/** Images/s per device and batch size, the summary under the tables. */
export function formatThroughput(report: BenchReport): string {
  const rows = report.runs.map((run) => [run.device, String(run.batchSize), formatTiming(run.iteration), fixed(run.imagesPerSecond, 1)]);
  return formatTable(['device', 'batch', 'iteration ms [min-max] ±IQR', 'images/s'], rows);
}
