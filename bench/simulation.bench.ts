/**
 * The load simulator (issue 11): simulated requests per second of wall time, for the issue's
 * scenario (a 10-minute run at 1,000 requests per second against 8 workers with log-normal service
 * times and a 1 s timeout) through `bufferSliding` and, for scale, through `bufferPriority` with a
 * ttl (one expiry action) and `tokenBucket` + `mergeMap`. (Not `mergeMap(f, 8)` alone: at twice the
 * capacity its unbounded backlog reaches 300,000 values, and RxJS's `Array.shift` on that backlog
 * makes the run quadratic, which would measure RxJS rather than the simulator.)
 *
 * Each case is one entry in CASES; another policy to measure is one more entry.
 */
import { catchError, EMPTY, mergeMap, type OperatorFunction } from 'rxjs';
import { loadEntry, type Library } from './lib/library.js';
import { markdownTable, num } from './lib/markdown.js';
import { nsSince, compareRuns, stats } from './lib/measure.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';

type Simulation = typeof import('../src/simulation/index.js');
type Arrival = import('../src/simulation/index.js').Arrival;
type Policy = import('../src/simulation/index.js').Policy;

const TARGET = 200_000;

interface Case {
  label: string;
  policy: (lib: Library) => Policy;
}

const CASES: Case[] = [
  {
    label: 'bufferSliding(50, call, { concurrency: 8 })',
    policy:
      (lib) =>
      (call, { onDrop }) =>
        lib.bufferSliding(50, call, { concurrency: 8, onDrop, onError: 'continue' }),
  },
  {
    label: 'bufferPriority(50, call, { concurrency: 8, ttl: 500 })',
    policy:
      (lib) =>
      (call, { onDrop }) =>
        lib.bufferPriority(50, call, {
          concurrency: 8,
          priority: (r) => r.index % 5,
          ttl: 500,
          onDrop,
          onError: 'continue',
        }),
  },
  {
    label: 'tokenBucket (police) + mergeMap(call)',
    policy:
      (lib) =>
      (call, { onDrop }) =>
      (source) =>
        source.pipe(
          lib.tokenBucket({ capacity: 20, tokensPerInterval: 400, mode: 'police', onDrop }),
          mergeMap((r: Arrival) => call(r).pipe(catchError(() => EMPTY))) as OperatorFunction<
            Arrival,
            unknown
          >,
        ),
  },
];

async function throughput({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const sim = await loadEntry<Simulation>('simulation');
  const minutes = quick ? 1 : 10;
  const scenario = {
    duration: minutes * 60_000,
    seed: 42,
    arrivals: sim.poisson({ rate: 1_000 }),
    downstream: sim.downstream({
      workers: 8,
      serviceTime: sim.lognormal({ median: 15, p99: 60 }),
      timeout: 1_000,
    }),
  };
  const offered: Record<string, number> = {};
  const cases = Object.fromEntries(
    CASES.map(({ label, policy }) => [
      label,
      (measured: boolean) => {
        const start = process.hrtime.bigint();
        const report = sim.simulate({ ...scenario, policy: policy(lib) });
        const ns = nsSince(start);
        if (measured) offered[label] = report.summary.offered;
        return ns;
      },
    ]),
  );
  const runs = quick ? { warmup: 0, runs: 1 } : { warmup: 1, runs: 5 };
  log(
    `simulation: ${String(minutes)} virtual minutes at 1,000 requests/s, ${String(runs.runs)} runs per case`,
  );
  const results = compareRuns(cases, runs);
  const rows = CASES.map(({ label }) => {
    const perSecond = (results[label] ?? []).map((ns) => ((offered[label] ?? 0) * 1e9) / ns);
    const s = stats(perSecond);
    return { label, s, seconds: stats((results[label] ?? []).map((ns) => ns / 1e9)) };
  });
  const sliding = rows[0]!;
  return {
    title: 'Simulated requests per second of wall time',
    body: [
      `The issue's scenario: ${String(minutes)} virtual minutes of Poisson arrivals at 1,000 requests per second ` +
        `(${num(offered[sliding.label] ?? 0)} requests), 8 workers with log-normal service times (median 15 ms, p99 ` +
        '60 ms, so about 447 per second at most) and a 1 s client timeout: twice the capacity, so the policies ' +
        'queue, drop and time out. Each run builds the whole report (summary, 1 s series, percentiles) and checks ' +
        'conservation. Median of the runs (min–max); garbage is collected before each run.',
      '',
      markdownTable(
        ['policy', 'requests/s of wall time', 'wall time per run (s)'],
        rows.map(({ label, s, seconds }) => [
          label,
          `${num(s.median)} (${num(s.min)}–${num(s.max)})`,
          `${num(seconds.median, 2)} (${num(seconds.min, 2)}–${num(seconds.max, 2)})`,
        ]),
        ['left', 'right', 'right'],
      ),
    ].join('\n'),
    targets: [
      {
        target: `≥ ${num(TARGET)} simulated requests per second of wall time (bufferSliding)`,
        measured: `${num(sliding.s.median)}/s`,
        met: sliding.s.median >= TARGET,
      },
    ],
  };
}

export const suite: BenchSuite = {
  title: 'Load simulation',
  sections: [throughput],
};
