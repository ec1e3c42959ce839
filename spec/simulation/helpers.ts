import { LogHistogram } from '../../src/simulation/histogram';
import type { FlowStats } from '../../src/simulation/index';

/** Mean and (sample) variance of `values`. */
export function moments(values: readonly number[]): { mean: number; variance: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { mean, variance: squares / (values.length - 1) };
}

/** The exact nearest-rank percentile of `values`. */
export function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[rank - 1]!;
}

/** succeeded + failed + dropped + lostSilently + waiting. */
export function accounted(stats: FlowStats): number {
  const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
  return (
    stats.succeeded +
    stats.failed.timeout +
    stats.failed.overload +
    dropped +
    stats.lostSilently +
    stats.waiting
  );
}

export { LogHistogram };
