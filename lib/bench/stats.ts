// stats.ts — the summary of repeated timings: median, fastest, slowest and the interquartile range.

/** Milliseconds of repeated runs, summarised. `iqr` = q3 - q1 (quartiles by linear interpolation). */
export interface TimingSummary {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  iqr: number;
  /** Number of timed runs. */
  runs: number;
}

/** The value at fraction `p` (0..1) of sorted values, interpolated between neighbours (as numpy's default). */
function quantile(sorted: readonly number[], p: number): number {
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position), above = Math.ceil(position);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

/** Summarises timings in milliseconds; throws for an empty list (nothing was measured). */
export function summarize(milliseconds: readonly number[]): TimingSummary {
  if (milliseconds.length === 0) throw new Error('summarize: no timings');
  const sorted = [...milliseconds].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25), q3 = quantile(sorted, 0.75);
  return {
    median: quantile(sorted, 0.5), min: sorted[0], max: sorted[sorted.length - 1], q1, q3, iqr: q3 - q1,
    runs: sorted.length,
  };
}

/** The spread relative to the median (iqr / median); 0 when the median is 0. */
export function relativeSpread(summary: TimingSummary): number {
  return summary.median > 0 ? summary.iqr / summary.median : 0;
}
