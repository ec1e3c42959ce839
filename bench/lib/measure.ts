/** Measurement helpers: timing with warm-up and medians, heap size after garbage collection. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, minimum and maximum of repeated measurements. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stats(values: readonly number[]): Stats {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), runs: values.length };
}

/** Throws unless the process was started with `--expose-gc`. */
export function requireGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') {
    throw new Error('benchmarks need a garbage collector to call: run node with --expose-gc (npm run bench)');
  }
  return gc;
}

/** Collects garbage (twice, so that objects freed by finalizers go too). */
export function collectGarbage(): void {
  const gc = requireGc();
  gc();
  gc();
}

/** Bytes of JS heap in use after a full garbage collection. */
export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * CPU time the process has used so far (user + system, all threads, so that garbage collection on
 * V8's helper threads counts), in nanoseconds; microsecond resolution. On a shared machine, where the
 * process often waits for a core, the difference of two readings is steadier than wall time, which
 * counts the waiting too.
 */
export function cpuNs(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) * 1000;
}

/** Nanoseconds elapsed since `start` (from `process.hrtime.bigint()`). */
export function nsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/**
 * One run: does its own set-up, times the part that matters, and returns the nanoseconds that part
 * took. `measured` is false during warm-up; anything else a run reports (counts, outcomes) it records
 * through closures, only when `measured`.
 */
export type Run = (measured: boolean) => number;

export interface CompareOptions {
  /** Unmeasured runs of each case first, for the JIT. */
  warmup: number;
  /** Measured runs of each case (unless the case sets its own). */
  runs: number;
  /**
   * `'each'` (default): collect garbage before every run, so that no run pays for another's garbage.
   * `'once'`: only before the first. After a forced full collection, V8 deoptimises code the next run
   * uses (`--trace-deopt` shows "code dependencies" and "insufficient type feedback"), which adds a
   * fixed cost to that run (about 0.1 s for a backlog drain here): `'once'` measures warm code.
   */
  collect?: 'each' | 'once';
}

/** A case for {@link compareRuns}: a run, or a run with its own numbers of warm-up and measured runs. */
export type Case = Run | { run: Run; runs?: number; warmup?: number };

/**
 * Runs several cases interleaved (a, b, c, a, b, c, …) after a warm-up, collecting garbage before
 * every run, and returns the nanoseconds of each measured run per case. Interleaving spreads the
 * noise of a shared machine over all cases instead of penalising whichever ran during a busy spell.
 * A case with its own counts joins the rotation late (fewer warm-up runs) or leaves it early.
 */
export function compareRuns<K extends string>(
  cases: Record<K, Case>,
  options: CompareOptions,
): Record<K, number[]> {
  const keys = Object.keys(cases) as K[];
  const plan = (key: K) => {
    const c: Case = cases[key];
    const run: Run = typeof c === 'function' ? c : c.run;
    const warmup = typeof c === 'function' ? options.warmup : (c.warmup ?? options.warmup);
    const runs = typeof c === 'function' ? options.runs : (c.runs ?? options.runs);
    // Rounds are aligned on the end of the common warm-up, so measured runs still interleave.
    return { run, first: options.warmup - warmup, last: options.warmup + runs };
  };
  const plans = keys.map((key) => ({ key, ...plan(key) }));
  const results = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const firstRound = Math.min(...plans.map((p) => p.first));
  const lastRound = Math.max(...plans.map((p) => p.last));
  const each = (options.collect ?? 'each') === 'each';
  collectGarbage();
  for (let round = firstRound; round < lastRound; round++) {
    for (const { key, run, first, last } of plans) {
      if (round < first || round >= last) continue;
      if (each) collectGarbage();
      const measured = round >= options.warmup;
      const ns = run(measured);
      if (measured) results[key].push(ns);
    }
  }
  return results;
}
