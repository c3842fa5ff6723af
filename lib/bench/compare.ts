// compare.ts — `cudnet bench compare a.json b.json`: per-layer time ratios, flagging changes larger than the measured spread.
import { readFileSync } from 'node:fs';
import { CudnetError } from '../errors.js';
import { REPORT_FORMAT, type BenchReport, type RunReport } from './report.js';
import { relativeSpread, type TimingSummary } from './stats.js';
import { formatTable } from './table.js';

/** The smallest change ever flagged: below 5% a difference is noise on any machine we know. */
export const MIN_FLAGGED_CHANGE = 0.05;

/** One timing compared: b's median over a's, and whether it moved beyond the noise. */
export interface TimingChange {
  before: number;
  after: number;
  /** after / before: 2 means twice as slow. */
  ratio: number;
  /** The threshold |ratio - 1| had to pass: the two relative IQRs added, at least 5%. */
  threshold: number;
  flagged: boolean;
}

export interface LayerComparison {
  name: string;
  type: string;
  forward: TimingChange;
  backward: TimingChange | null;
}

export interface RunComparison {
  device: string;
  batchSize: number;
  layers: LayerComparison[];
  iteration: TimingChange;
}

/**
 * Compares two timings. A change is flagged when |ratio - 1| exceeds the combined relative spread
 * (IQR / median of each) and is at least 5%: a difference the runs' own scatter cannot explain.
 */
export function compareTimings(before: TimingSummary, after: TimingSummary): TimingChange {
  const ratio = before.median > 0 ? after.median / before.median : Number.POSITIVE_INFINITY;
  const threshold = Math.max(relativeSpread(before) + relativeSpread(after), MIN_FLAGGED_CHANGE);
  return { before: before.median, after: after.median, ratio, threshold, flagged: Math.abs(ratio - 1) > threshold };
}

function compareOptional(before: TimingSummary | null, after: TimingSummary | null): TimingChange | null {
  return before && after ? compareTimings(before, after) : null;
}

/** Pairs runs by device and batch size; when each report has one device, by batch size alone (CPU against GPU, machine against machine). */
function pairRuns(a: BenchReport, b: BenchReport): [RunReport, RunReport][] {
  const oneDeviceEach = new Set(a.runs.map((run) => run.device)).size === 1 && new Set(b.runs.map((run) => run.device)).size === 1;
  const key = (run: RunReport) => (oneDeviceEach ? `${run.batchSize}` : `${run.device}/${run.batchSize}`);
  const byKey = new Map(b.runs.map((run) => [key(run), run]));
  return a.runs.flatMap((run): [RunReport, RunReport][] => {
    const other = byKey.get(key(run));
    return other ? [[run, other]] : [];
  });
}

/** Compares every layer (matched by name) of every paired run. */
export function compareReports(a: BenchReport, b: BenchReport): RunComparison[] {
  const pairs = pairRuns(a, b);
  if (pairs.length === 0)
    throw new CudnetError('BENCH_COMPARE', 'the reports share no device and batch size to compare ' +
      `(first: ${a.runs.map((run) => `${run.device} batch ${run.batchSize}`).join(', ')}; ` +
      `second: ${b.runs.map((run) => `${run.device} batch ${run.batchSize}`).join(', ')})`);
  return pairs.map(([before, after]) => {
    const afterLayers = new Map(after.layers.map((layer) => [layer.name, layer]));
    const layers = before.layers.flatMap((layer): LayerComparison[] => {
      const other = afterLayers.get(layer.name);
      if (!other) return [];
      return [{ name: layer.name, type: layer.type, forward: compareTimings(layer.forward, other.forward),
        backward: compareOptional(layer.backward, other.backward) }];
    });
    return { device: before.device === after.device ? before.device : `${before.device} -> ${after.device}`,
      batchSize: before.batchSize, layers, iteration: compareTimings(before.iteration, after.iteration) };
  });
}

/** Reads a report written by --json; errors name the file and what is wrong. */
export function readReport(path: string): BenchReport {
  let report: BenchReport;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
  } catch (error) {
    throw new CudnetError('BENCH_COMPARE', `cannot read the benchmark report ${path}: ${(error as Error).message}`);
  }
  if (report?.format !== REPORT_FORMAT || !Array.isArray(report.runs))
    throw new CudnetError('BENCH_COMPARE', `${path} is not a cudnet bench report (expected "format": "${REPORT_FORMAT}"; write one with --json)`);
  return report;
}

function formatChange(change: TimingChange | null): string {
  if (!change) return '-';
  return `${change.before.toFixed(3)} -> ${change.after.toFixed(3)}  x${change.ratio.toFixed(2)}${change.flagged ? ' !' : ''}`;
}

/** The comparison as tables; "!" marks changes beyond the spread. */
export function formatComparison(comparisons: RunComparison[]): string {
  return comparisons.map((run) => {
    const rows = run.layers.map((layer) => [layer.name, layer.type, formatChange(layer.forward), formatChange(layer.backward)]);
    rows.push(['(iteration)', '', formatChange(run.iteration), '']);
    const flagged = run.layers.filter((layer) => layer.forward?.flagged || layer.backward?.flagged).length;
    return `${run.device}, batch ${run.batchSize}: ${flagged} layer(s) changed beyond the measured spread (marked !)\n` +
      formatTable(['layer', 'type', 'forward ms (ratio)', 'backward ms (ratio)'], rows, 2);
  }).join('\n\n');
}
