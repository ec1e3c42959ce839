/**
 * Monitoring: what a `FlowMeter` costs per value on each operator, side by side with the same
 * operator without one, in the same run.
 */
import { asyncScheduler, of, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Library } from './lib/library.js';
import { markdownTable, num, ratio } from './lib/markdown.js';
import { compareRuns, cpuNs, stats, type Run, type Stats } from './lib/measure.js';
import { firehose } from './lib/sources.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';

type Meter = InstanceType<Library['FlowMeter']>;

/** One operator: how to build its pipeline over `n` values, with or without a meter. */
interface MeterCase {
  label: string;
  /** `clock`: the operator's scheduler, where it takes one (the diagnostic passes a frozen one). */
  make: (lib: Library, n: number, meter: Meter | undefined, clock?: SchedulerLike) => Observable<unknown>;
}

const job = <T>(x: T) => of(x);
const identity = (i: number) => i;
const withMeter = (meter: Meter | undefined, clock?: SchedulerLike) => ({
  ...(meter ? { meter } : {}),
  ...(clock ? { scheduler: clock } : {}),
});

/** A pipeline: the synchronous source through the operator. */
const piped = (n: number, operator: OperatorFunction<number, unknown>) =>
  firehose(n, identity).pipe(operator);

const CASES: MeterCase[] = [
  {
    label: 'bufferFixed(Infinity, x => of(x))',
    make: (lib, n, meter, clock) => piped(n, lib.bufferFixed(Infinity, job, withMeter(meter, clock))),
  },
  {
    label: 'bufferDropping(1000, x => of(x))',
    make: (lib, n, meter, clock) => piped(n, lib.bufferDropping(1000, job, withMeter(meter, clock))),
  },
  {
    label: 'bufferSliding(1000, x => of(x))',
    make: (lib, n, meter, clock) => piped(n, lib.bufferSliding(1000, job, withMeter(meter, clock))),
  },
  {
    label: "bufferBounded(1000, x => of(x), { overflow: 'drop-oldest' })",
    make: (lib, n, meter, clock) =>
      piped(n, lib.bufferBounded(1000, job, { overflow: 'drop-oldest', ...withMeter(meter, clock) })),
  },
  {
    label: 'bufferPriority(1000, x => of(x), { priority: x => x % 4 })',
    make: (lib, n, meter, clock) =>
      piped(n, lib.bufferPriority(1000, job, { priority: (x: number) => x % 4, ...withMeter(meter, clock) })),
  },
  {
    label: 'tokenBucket (never has to delay)',
    make: (lib, n, meter, clock) =>
      piped(
        n,
        lib.tokenBucket({ capacity: n, tokensPerInterval: n, interval: 1000, ...withMeter(meter, clock) }),
      ),
  },
  {
    label: 'leakyBucket({ interval: 0 })',
    make: (lib, n, meter, clock) => piped(n, lib.leakyBucket({ interval: 0, ...withMeter(meter, clock) })),
  },
  {
    label: 'pullFeedback(NEVER-like demand$, { initialDemand: n })',
    make: (lib, n, meter, clock) =>
      piped(n, lib.pullFeedback(new Observable<number>(), { initialDemand: n, ...withMeter(meter, clock) })),
  },
  {
    label: 'pullFrom(array, of(n))',
    make: (lib, n, meter) => lib.pullFrom(numbers(n), of(n), withMeter(meter)),
  },
  {
    label: 'pullMap(array, x => of(x))',
    make: (lib, n, meter) => lib.pullMap(numbers(n), job, withMeter(meter)),
  },
];

const arrays = new Map<number, number[]>();
function numbers(n: number): number[] {
  let array = arrays.get(n);
  if (!array) {
    array = Array.from({ length: n }, (_, i) => i);
    arrays.set(n, array);
  }
  return array;
}

/** A scheduler whose `now()` reads no clock (diagnostic: what the meter costs besides reading the time). */
const frozenClock: SchedulerLike = {
  now: () => 0,
  schedule: () => {
    throw new Error('bench: the frozen clock schedules nothing');
  },
};

/**
 * Clock reads per value that the meter adds: one run of the case with a meter and one without, the
 * meter and the operator on a scheduler that counts its `now()` calls (and reads `asyncScheduler`'s
 * clock, so the operator behaves as in the measured runs). The buckets read the clock per value for
 * their tokens with or without a meter: only the difference is the meter's. Like the frozen clock, it
 * schedules nothing: no case waits for time.
 */
function meterClockReadsPerValue(c: MeterCase, lib: Library, n: number): number {
  const readsPerValue = (metered: boolean): number => {
    let reads = 0;
    const counting: SchedulerLike = {
      now: () => {
        reads++;
        return asyncScheduler.now();
      },
      schedule: () => {
        throw new Error('bench: the counting clock schedules nothing');
      },
    };
    const meter = metered ? new lib.FlowMeter({ name: 'bench', scheduler: counting }) : undefined;
    let count = 0;
    c.make(lib, n, meter, counting).subscribe(() => count++);
    if (count !== n) throw new Error(`monitoring: ${c.label}: expected ${n} values, got ${count}`);
    return reads / n;
  };
  return readsPerValue(true) - readsPerValue(false);
}

const range = (stat: Stats, decimals: number) =>
  `${num(stat.median, decimals)} (${num(stat.min, decimals)}–${num(stat.max, decimals)})`;

/** Subscribes, counts the values (checking that all `n` arrive) and returns the CPU time it took. */
function timed(make: () => Observable<unknown>, n: number, label: string): Run {
  return () => {
    const pipeline = make();
    let count = 0;
    const start = cpuNs();
    pipeline.subscribe(() => count++);
    const ns = cpuNs() - start;
    if (count !== n) throw new Error(`monitoring: ${label}: expected ${n} values, got ${count}`);
    return ns;
  };
}

function meterCost({ lib, quick, log }: BenchContext): BenchSection {
  const n = quick ? 20_000 : 200_000;
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 3, runs: 11 }), collect: 'once' as const };
  log(`meter cost: ${num(n)} values, ${options.runs} runs per case, ${CASES.length} operators`);
  const clockReads = measureClockRead();
  const rows: string[][] = [];
  const targets: BenchSection['targets'] = [];
  for (const c of CASES) {
    const runs = compareRuns(
      {
        without: timed(() => c.make(lib, n, undefined), n, c.label),
        meter: timed(() => c.make(lib, n, new lib.FlowMeter({ name: 'bench' })), n, c.label),
        frozen: timed(
          () => c.make(lib, n, new lib.FlowMeter({ name: 'bench', scheduler: frozenClock }), frozenClock),
          n,
          c.label,
        ),
      },
      options,
    );
    const perValue = (key: 'without' | 'meter' | 'frozen') => stats(runs[key].map((ns) => ns / n));
    const without = perValue('without');
    const meter = perValue('meter');
    const frozen = perValue('frozen');
    const measured = meter.median / without.median;
    const reads = meterClockReadsPerValue(c, lib, n);
    rows.push([
      c.label,
      range(without, 1),
      range(meter, 1),
      ratio(measured),
      num(meter.median - without.median, 0),
      ratio(frozen.median / without.median),
      num(reads, 2),
      ratio((without.median + reads * clockReads) / without.median),
    ]);
    targets.push({
      target: `${c.label}: with a meter at most 1.3× without, per value (a job that costs nothing: \`of(x)\`)`,
      measured: ratio(measured),
      met: measured <= 1.3,
    });
  }
  return {
    title: 'What a meter costs per value',
    body: [
      `${num(n)} values from a synchronous source through each operator, whose job (where it has one) ` +
        `is \`of(x)\`: the cheapest job there is, so the ratio is the worst case. A meter counts every ` +
        `value received and released, its wait, each run's start and end and its duration, which means ` +
        `reading the meter scheduler's clock (\`asyncScheduler.now()\`, that is \`Date.now()\`: ` +
        `${num(clockReads, 1)} ns per read in a loop on this machine just before the runs) when a run ` +
        `starts and when it ends, and when a value that waited leaves. The sixth column is a diagnostic: ` +
        `the same meter, and the operator, on a scheduler whose \`now()\` reads no clock (\`pullFrom\` ` +
        `and \`pullMap\` take no scheduler: only their meter's is frozen). The last two columns count the ` +
        `clock reads per value the meter adds (a run with and a run without, on a scheduler that counts ` +
        `its \`now()\` calls) and the ratio those reads alone would make, at the nanoseconds per read ` +
        `above and nothing else: the floor that no cheaper bookkeeping can go below, only fewer reads. ` +
        `CPU nanoseconds per value ` +
        `(whole pipeline, source included), median of ${options.runs} runs (min–max), the three ` +
        `variants of each operator interleaved.`,
      '',
      markdownTable(
        [
          'operator',
          'without a meter',
          'with a meter',
          'ratio',
          '+ns/value',
          'ratio, clock not read',
          'meter clock reads/value',
          'ratio, reads alone',
        ],
        rows,
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
      '',
      'With a job that takes any time at all (a request, a file write: microseconds to milliseconds), ' +
        'the added nanoseconds per value in the fifth column are what the meter costs.',
    ].join('\n'),
    targets,
  };
}

/** Nanoseconds per `Date.now()` call in a tight loop. */
function measureClockRead(): number {
  const reads = 1_000_000;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < reads; i++) sink += Date.now() & 1;
  const ns = Number(process.hrtime.bigint() - start) / reads;
  if (sink < 0) throw new Error('unreachable');
  return ns;
}

export const suite: BenchSuite = {
  title: 'Monitoring',
  sections: [meterCost],
};
