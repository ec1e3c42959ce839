/** `compareRuns` for cases that finish asynchronously (promise-based limiters, real timers). */
import { collectGarbage } from './measure.js';

export interface AsyncCompareOptions {
  /** Unmeasured rounds first, for the JIT. */
  warmup: number;
  /** Measured rounds. */
  runs: number;
  /**
   * `'each'`: collect garbage before every run, as `compareRuns` does. `'once'`: only before the
   * first round, so that garbage collection happens inside the runs as it would in an application.
   *
   * A forced full collection between runs also clears V8's type feedback that pointed at the
   * previous run's closures and deoptimizes code specialised to them, so code that creates its
   * closures per subscription (every operator here) starts each run partly unoptimised. For runs of
   * a few milliseconds that inflates CPU per value several times (measured: tokenBucket passing
   * 10,000 values, about 250 ns per value with `'once'`, about 3,300 ns with `'each'`).
   */
  collect: 'each' | 'once';
}

/**
 * Runs the cases interleaved (a, b, c, a, b, c, …) after a warm-up, one at a time, and returns what
 * each measured run resolved to, per case.
 */
export async function compareRunsAsync<K extends string, R>(
  cases: Record<K, () => Promise<R>>,
  options: AsyncCompareOptions,
): Promise<Record<K, R[]>> {
  const keys = Object.keys(cases) as K[];
  const results = Object.fromEntries(keys.map((k) => [k, [] as R[]])) as Record<K, R[]>;
  collectGarbage();
  for (let round = 0; round < options.warmup + options.runs; round++) {
    for (const key of keys) {
      if (options.collect === 'each') collectGarbage();
      const result = await cases[key]();
      if (round >= options.warmup) results[key].push(result);
    }
  }
  return results;
}

/** CPU time (user + system, all threads) used by the process since `start`, in nanoseconds. */
export function cpuNsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}
