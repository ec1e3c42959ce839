/**
 * Time-paced flow control (issue 3): how exactly `tokenBucket` and `leakyBucket` hold a rate on the
 * real clock, and what they cost per value (time and timers) next to `concatMap` + `delay` pacing,
 * Bottleneck and `limiter` doing the same job.
 *
 * Each section has a list of cases; another limiter to compare is one more entry in that list.
 */
import Bottleneck from 'bottleneck';
import { RateLimiter, TokenBucket as LimiterTokenBucket } from 'limiter';
import { concatMap, delay, Observable, of, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { compareRunsAsync, cpuNsSince } from './lib/asyncRuns.js';
import type { Library } from './lib/library.js';
import { markdownTable, num, ratio } from './lib/markdown.js';
import { collectGarbage, nsSince, stats, type Stats } from './lib/measure.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';
import { countGlobalTimers, CountingScheduler, type TimerCount } from './lib/timers.js';

/** A synchronous source of `n` values 0, 1, 2, … that stops as soon as its subscriber is closed. */
function backlog(n: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(i);
    subscriber.complete();
  });
}

const range = (stat: Stats, scale: number, decimals: number) =>
  `${num(stat.median / scale, decimals)} (${num(stat.min / scale, decimals)}–${num(stat.max / scale, decimals)})`;
const percent = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(2)}%`;

// ---------------------------------------------------------------------------------------------
// Real-time accuracy: a backlog paced at 200 values/s on the real asyncScheduler.

const RATE = 200;
const PERIOD_MS = 1000 / RATE;

interface AccuracyCase {
  label: string;
  capacity: number;
  make: (lib: Library) => MonoTypeOperatorFunction<number>;
}

const ACCURACY_CASES: AccuracyCase[] = [
  {
    label: `leakyBucket({ interval: ${PERIOD_MS} })`,
    capacity: 1,
    make: (lib) => lib.leakyBucket({ interval: PERIOD_MS }),
  },
  ...[2, 10].map((capacity): AccuracyCase => ({
    label: `tokenBucket({ capacity: ${capacity}, tokensPerInterval: ${RATE}, initialTokens: 0 })`,
    capacity,
    make: (lib) => lib.tokenBucket({ capacity, tokensPerInterval: RATE, interval: 1000, initialTokens: 0 }),
  })),
];

interface RateObservation {
  /** Values emitted in the window that starts at the first emission (that one excluded). */
  emitted: number;
  /** Values per second over the window. */
  rate: number;
  meanGapMs: number;
  maxGapMs: number;
}

/**
 * Subscribes the operator to a backlog larger than the window can let out and records emission
 * times; the window is `windowMs` from the first emission, so an initial burst or a slow first timer
 * does not count.
 */
function observeRate(operator: MonoTypeOperatorFunction<number>, windowMs: number): Promise<RateObservation> {
  const size = Math.ceil((RATE * windowMs) / 1000) * 2 + 100;
  return new Promise((resolve, reject) => {
    const times: number[] = [];
    const start = performance.now();
    const subscription = backlog(size)
      .pipe(operator)
      .subscribe({
        next: () => {
          times.push(performance.now() - start);
          if (times.length === 1) setTimeout(finish, windowMs + 50);
        },
        error: reject,
        complete: () => reject(new Error(`accuracy: the backlog of ${size} ran out before the window ended`)),
      });
    function finish(): void {
      subscription.unsubscribe();
      const first = times[0]!;
      const inWindow = times.filter((t) => t > first && t <= first + windowMs);
      const gaps = inWindow.map((t, i) => t - (i === 0 ? first : inWindow[i - 1]!));
      resolve({
        emitted: inWindow.length,
        rate: inWindow.length / (windowMs / 1000),
        meanGapMs: gaps.reduce((a, b) => a + b, 0) / gaps.length,
        maxGapMs: Math.max(...gaps),
      });
    }
  });
}

async function accuracy({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const windowMs = quick ? 1000 : 5000;
  const rounds = quick ? 1 : 2;
  log(
    `accuracy: ${ACCURACY_CASES.length} buckets at ${RATE}/s for ${windowMs / 1000} s, concurrently, ${rounds} rounds`,
  );
  const observations: RateObservation[][] = [];
  for (let round = 0; round < rounds; round++) {
    collectGarbage();
    observations.push(await Promise.all(ACCURACY_CASES.map((c) => observeRate(c.make(lib), windowMs))));
  }
  const expected = (RATE * windowMs) / 1000;
  const rows = ACCURACY_CASES.flatMap((c, i) =>
    observations.map((round, r) => {
      const o = round[i]!;
      return [
        r === 0 ? c.label : '',
        r === 0 ? num(c.capacity) : '',
        num(r + 1),
        `${num(o.emitted)} / ${num(expected)}`,
        num(o.rate, 1),
        percent(o.rate / RATE - 1),
        num(o.meanGapMs, 2),
        num(o.maxGapMs, 1),
      ];
    }),
  );
  const worstError = (i: number) =>
    Math.max(...observations.map((round) => Math.abs(round[i]!.rate / RATE - 1)));
  const errors = (i: number) => observations.map((round) => percent(round[i]!.rate / RATE - 1)).join(', ');
  const leakyIndex = 0;
  const tokenIndex = ACCURACY_CASES.length - 1;
  const leaky = ACCURACY_CASES[leakyIndex]!;
  const token = ACCURACY_CASES[tokenIndex]!;
  const leakyMeanGap = observations.reduce((a, round) => a + round[leakyIndex]!.meanGapMs, 0) / rounds;
  return {
    title: 'Real-time accuracy',
    body: [
      `Each bucket paces a synchronous backlog (more values than the window can let out, shape mode, ` +
        `unbounded queue) to ${RATE} values/s on the real \`asyncScheduler\`. The buckets start empty ` +
        `(the leaky bucket lets its first value out at once), and the window is the ${windowMs / 1000} s ` +
        `after each bucket's first emission, so that neither an initial burst nor a slow first timer ` +
        `counts: ${num(expected)} emissions is exact. The ${ACCURACY_CASES.length} buckets run ` +
        `concurrently in one process (each emission is microseconds of work against a ${PERIOD_MS} ms ` +
        `period, and running them one after the other gave the same picture while this benchmark was ` +
        `written), in ${rounds} rounds. "gap" is the time between consecutive emissions.`,
      '',
      markdownTable(
        [
          'operator',
          'capacity',
          'round',
          `emitted in ${windowMs / 1000} s`,
          'values/s',
          'error',
          'mean gap ms',
          'largest gap ms',
        ],
        rows,
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
      '',
      `Emission times are computed from \`scheduler.now()\`, never by adding up intervals, so nothing ` +
        `drifts; what remains is timer lateness. A Node.js timer fires at or after its due time, ` +
        `commonly up to a millisecond late and much later when the machine is busy. With capacity 1 ` +
        `(a leaky bucket) a late timer cannot be made up: the bucket cannot hold the token that accrued ` +
        `while the timer was late, so the next emission is due a full interval after the late one and ` +
        `every bit of lateness is lost rate: ${leaky.label} averaged a gap of ${num(leakyMeanGap, 2)} ms ` +
        `instead of ${PERIOD_MS}, a rate off by ${errors(leakyIndex)}. With a few tokens of capacity the ` +
        `tokens accrued during the lateness stay in the bucket and the next values go out early enough ` +
        `to catch up, so the rate is held as long as no timer is more than (capacity − 1) × ${PERIOD_MS} ms ` +
        `late: capacity 2 absorbs ${PERIOD_MS} ms, capacity 10 absorbs ${9 * PERIOD_MS} ms. A stall longer than that ` +
        `(a long garbage collection, a busy machine) is lost even so: a bucket can only catch up on what ` +
        `it can hold, which is the point of a capacity.`,
    ].join('\n'),
    targets: [
      {
        target: `${token.label}: ${RATE} values/s for ${windowMs / 1000} s on the real clock within 2% (every round)`,
        measured: errors(tokenIndex),
        met: worstError(tokenIndex) <= 0.02,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Cost: the same job through each limiter. Our operators and RxJS pacing run as Observables; the
// promise limiters take one call per value and the value is delivered when the promise resolves.

interface Outcome {
  /** Wall-clock nanoseconds from subscribing (or the first call) to the last delivery. */
  ns: number;
  /** CPU nanoseconds (user + system) the process used meanwhile. */
  cpuNs: number;
  delivered: number;
  inOrder: boolean;
  /** Virtual runs: the virtual clock when everything was delivered. */
  endTime?: number;
  /** Virtual runs with counting on: actions created and the most pending at once. */
  timers?: TimerCount;
}

interface Delivery {
  delivered: number;
  inOrder: boolean;
}

const deliver = (d: Delivery, value: number): void => {
  if (value !== d.delivered) d.inOrder = false;
  d.delivered++;
};

/** Subscribes on the real clock and resolves when the pipeline completes. */
function realObservable(pipeline: Observable<number>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const d: Delivery = { delivered: 0, inOrder: true };
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    pipeline.subscribe({
      next: (v) => deliver(d, v),
      error: reject,
      complete: () => resolve({ ns: nsSince(start), cpuNs: cpuNsSince(cpu), ...d }),
    });
  });
}

/** Subscribes with a fresh virtual-time scheduler, flushes it, and times the whole. */
function virtualObservable(
  lib: Library,
  build: (scheduler: SchedulerLike) => Observable<number>,
  count: boolean,
): Outcome {
  const manual = new lib.ManualTimeScheduler();
  const counting = count ? new CountingScheduler(manual) : undefined;
  const d: Delivery = { delivered: 0, inOrder: true };
  let completed = false;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  build(counting ?? manual).subscribe({
    next: (v) => {
      deliver(d, v);
      counting?.sample();
    },
    complete: () => (completed = true),
  });
  manual.flush();
  const ns = nsSince(start);
  const cpuNs = cpuNsSince(cpu);
  if (!completed) throw new Error('cost: a virtual-time pipeline did not complete after flush()');
  return { ns, cpuNs, ...d, endTime: manual.now(), ...(counting ? { timers: counting.count } : {}) };
}

/** Submits `n` values to a promise limiter at once and resolves when every promise has. */
async function promiseLimiter(n: number, submit: (value: number) => Promise<unknown>): Promise<Outcome> {
  const d: Delivery = { delivered: 0, inOrder: true };
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) all.push(submit(i).then(() => deliver(d, i)));
  await Promise.all(all);
  return { ns: nsSince(start), cpuNs: cpuNsSince(cpu), ...d };
}

interface CostCase {
  label: string;
  /** Ours counts towards the targets. */
  ours: boolean;
  /** Which clock the figures are on. */
  clock: 'real' | 'virtual';
  run: (lib: Library, n: number, count: boolean) => Promise<Outcome>;
}

// Job 1: the limiter is configured so that it never needs to delay (capacity and rate above the
// count), so the time is the per-value bookkeeping. `concatMap` + `delay(0)` has no such setting:
// it always waits for a timer, so it runs on a virtual clock here (and on the real one apart).
const NO_WAIT_CASES: CostCase[] = [
  {
    label: 'no limiter (the source alone)',
    ours: false,
    clock: 'real',
    run: (_lib, n) => realObservable(backlog(n)),
  },
  {
    label: 'tokenBucket({ capacity: n, tokensPerInterval: n })',
    ours: true,
    clock: 'real',
    run: (lib, n) =>
      realObservable(backlog(n).pipe(lib.tokenBucket({ capacity: n, tokensPerInterval: n, interval: 1000 }))),
  },
  {
    label: 'leakyBucket({ interval: 0 })',
    ours: true,
    clock: 'real',
    run: (lib, n) => realObservable(backlog(n).pipe(lib.leakyBucket({ interval: 0 }))),
  },
  {
    label: 'concatMap(x => of(x).pipe(delay(0, scheduler)))',
    ours: false,
    clock: 'virtual',
    run: async (lib, n, count) =>
      virtualObservable(lib, (s) => backlog(n).pipe(concatMap((x) => of(x).pipe(delay(0, s)))), count),
  },
  {
    label: "limiter RateLimiter({ tokensPerInterval: n, interval: 'second' })",
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const limiter = new RateLimiter({ tokensPerInterval: n, interval: 'second' });
      return promiseLimiter(n, () => limiter.removeTokens(1));
    },
  },
  {
    label: 'limiter TokenBucket({ bucketSize: n, tokensPerInterval: n }), full',
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const bucket = new LimiterTokenBucket({ bucketSize: n, tokensPerInterval: n, interval: 1000 });
      bucket.content = n;
      return promiseLimiter(n, () => bucket.removeTokens(1));
    },
  },
];

/**
 * Cases that take milliseconds per value even when nothing should wait: they get fewer values and
 * runs (their figures are a thousand times those above, so the noise does not matter).
 */
const NO_WAIT_SLOW_CASES: CostCase[] = [
  {
    label: 'Bottleneck({}) (no limits)',
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const limiter = new Bottleneck({});
      return promiseLimiter(n, (i) => limiter.schedule(() => Promise.resolve(i)));
    },
  },
  {
    label: 'concatMap(x => of(x).pipe(delay(0)))',
    ours: false,
    clock: 'real',
    run: (_lib, n) => realObservable(backlog(n).pipe(concatMap((x) => of(x).pipe(delay(0))))),
  },
];

/** Runs `case.run` once with counting on: virtual cases count their own actions, real ones the globals. */
async function countTimers(
  c: CostCase,
  lib: Library,
  n: number,
): Promise<{ outcome: Outcome; timers: TimerCount }> {
  if (c.clock === 'virtual') {
    const outcome = await check(c, c.run(lib, n, true), n);
    return { outcome, timers: outcome.timers! };
  }
  const { result, timers } = await countGlobalTimers(() => check(c, c.run(lib, n, false), n));
  return { outcome: result, timers };
}

async function costNoWait({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const n = quick ? 1_000 : 10_000;
  const slowN = quick ? 50 : 200;
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 5, runs: 15 }), collect: 'once' as const };
  const slowOptions = {
    ...(quick ? { warmup: 1, runs: 1 } : { warmup: 1, runs: 3 }),
    collect: 'once' as const,
  };
  log(
    `cost, nothing waits: ${num(n)} values, ${options.runs} runs per case; slow cases ${num(slowN)} values`,
  );
  const all = [...NO_WAIT_CASES, ...NO_WAIT_SLOW_CASES];
  const valuesFor = (c: CostCase) => (NO_WAIT_SLOW_CASES.includes(c) ? slowN : n);
  const measured = (c: CostCase) => () => check(c, c.run(lib, valuesFor(c), false), valuesFor(c));
  const runs = {
    ...(await compareRunsAsync(
      Object.fromEntries(NO_WAIT_CASES.map((c) => [c.label, measured(c)])),
      options,
    )),
    ...(await compareRunsAsync(
      Object.fromEntries(NO_WAIT_SLOW_CASES.map((c) => [c.label, measured(c)])),
      slowOptions,
    )),
  };
  const counted = new Map<string, TimerCount>();
  for (const c of all) counted.set(c.label, (await countTimers(c, lib, valuesFor(c))).timers);

  const cpu = (c: CostCase) => stats(runs[c.label]!.map((o) => o.cpuNs / valuesFor(c)));
  const wall = (c: CostCase) => stats(runs[c.label]!.map((o) => o.ns / valuesFor(c)));
  const source = NO_WAIT_CASES[0]!;
  const baseline = cpu(source).median;
  const rows = all.map((c) => {
    const timers = counted.get(c.label)!;
    return [
      c.label,
      c.clock,
      num(valuesFor(c)),
      range(cpu(c), 1, 0),
      c === source ? '' : num(cpu(c).median - baseline, 0),
      num(wall(c).median, 0),
      num(timers.created),
      num(timers.maxLive),
    ];
  });

  const ours = NO_WAIT_CASES.filter((c) => c.ours);
  const oursTimers = ours.map((c) => counted.get(c.label)!);
  const peers = all.filter((c) => !c.ours && c !== source && c.clock === 'real');
  const cheapestPeer = peers.reduce((a, b) => (cpu(a).median <= cpu(b).median ? a : b));
  const dearestOurs = ours.reduce((a, b) => (cpu(a).median >= cpu(b).median ? a : b));
  const bottleneck = NO_WAIT_SLOW_CASES[0]!;
  const realDelay = NO_WAIT_SLOW_CASES[1]!;
  return {
    title: 'Cost per value when nothing waits',
    body: [
      `Values from a synchronous source through a limiter configured so that it never has to delay ` +
        `(capacity and rate at least the count): what is left is each limiter's bookkeeping. Our ` +
        `operators and the promise limiters run on the real clock; the promise limiters get one call ` +
        `per value, all submitted at once, and a value counts as delivered when its promise resolves. ` +
        `\`concatMap\` + \`delay(0)\` has no setting that skips the wait, so it runs twice: on a virtual ` +
        `clock (the library's \`ManualTimeScheduler\`, flushed), which leaves its bookkeeping without the ` +
        `waiting, and on the real clock. The main figure is CPU time (user + system) per value, which a ` +
        `busy machine disturbs much less than wall time and which leaves out time spent idle waiting ` +
        `for a timer; wall time per value is beside it. Median of ${options.runs} runs (min–max), cases ` +
        `interleaved, after ${options.warmup} warm-up rounds; garbage is collected once before the warm-up, ` +
        `not before every run (a forced collection between runs throws away optimised code and makes ` +
        `every run start cold; see \`bench/lib/asyncRuns.ts\`); the last two rows take milliseconds of wall time per value, so they get ` +
        `${num(slowN)} values and ${slowOptions.runs} runs. "over the source" subtracts the source alone. ` +
        `Timers: on the real clock every \`setTimeout\`/\`setInterval\` created while the job ran (the ` +
        `globals are wrapped), on the virtual clock every action scheduled; "most live" is the largest ` +
        `number pending at once.`,
      '',
      markdownTable(
        [
          'limiter',
          'clock',
          'values',
          'CPU ns/value',
          'over the source',
          'wall ns/value',
          'timers created',
          'most live',
        ],
        rows,
        ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
      '',
      `Every case delivered all its values in order. The dearer of our two, ${dearestOurs.label}, ` +
        `costs ${num(cpu(dearestOurs).median - baseline, 0)} ns of CPU per value over the source and ` +
        `creates no timer; the cheapest promise limiter, ${cheapestPeer.label}, costs ` +
        `${num(cpu(cheapestPeer).median - baseline, 0)} ns ` +
        `(${ratio((cpu(cheapestPeer).median - baseline) / (cpu(dearestOurs).median - baseline))}). ` +
        `Bottleneck hands each job on through timers even when no limit applies ` +
        `(${num(counted.get(bottleneck.label)!.created / slowN, 0)} timers per value above), one job ` +
        `at a time, so each value takes ${num(wall(bottleneck).median / 1e6, 1)} ms of wall time. On the ` +
        `real clock \`concatMap\` + \`delay(0)\` takes ${num(wall(realDelay).median / 1e6, 2)} ms per ` +
        `value: each value waits for its own timer (a Node.js timer fires after at least 1 ms), so ` +
        `10,000 values take over ten seconds.`,
    ].join('\n'),
    targets: [
      {
        target: 'tokenBucket/leakyBucket: a bucket that never has to delay creates no timer',
        measured: ours.map((c, i) => `${c.label.split('(')[0]!}: ${num(oursTimers[i]!.created)}`).join(', '),
        met: oursTimers.every((t) => t.created === 0),
      },
    ],
  };
}

/** Fails the benchmark if a case lost or reordered values. */
async function check(c: { label: string }, outcome: Promise<Outcome>, n: number): Promise<Outcome> {
  const o = await outcome;
  if (o.delivered !== n || !o.inOrder) {
    throw new Error(
      `cost: ${c.label} delivered ${o.delivered} of ${n} values${o.inOrder ? '' : ', out of order'}`,
    );
  }
  return o;
}

// Job 2: every value must wait: n values paced at one per millisecond.

const PACED_VIRTUAL_CASES: CostCase[] = [
  {
    label: 'leakyBucket({ interval: 1, scheduler })',
    ours: true,
    clock: 'virtual',
    run: async (lib, n, count) =>
      virtualObservable(lib, (s) => backlog(n).pipe(lib.leakyBucket({ interval: 1, scheduler: s })), count),
  },
  {
    label: 'tokenBucket({ capacity: 10, tokensPerInterval: 1, interval: 1, initialTokens: 0, scheduler })',
    ours: true,
    clock: 'virtual',
    run: async (lib, n, count) =>
      virtualObservable(
        lib,
        (s) =>
          backlog(n).pipe(
            lib.tokenBucket({
              capacity: 10,
              tokensPerInterval: 1,
              interval: 1,
              initialTokens: 0,
              scheduler: s,
            }),
          ),
        count,
      ),
  },
  {
    label: 'concatMap(x => of(x).pipe(delay(1, scheduler)))',
    ours: false,
    clock: 'virtual',
    run: async (lib, n, count) =>
      virtualObservable(lib, (s) => backlog(n).pipe(concatMap((x) => of(x).pipe(delay(1, s)))), count),
  },
];

const PACED_REAL_CASES: CostCase[] = [
  {
    label: 'leakyBucket({ interval: 1 })',
    ours: true,
    clock: 'real',
    run: (lib, n) => realObservable(backlog(n).pipe(lib.leakyBucket({ interval: 1 }))),
  },
  {
    label: 'tokenBucket({ capacity: 10, tokensPerInterval: 1, interval: 1, initialTokens: 0 })',
    ours: true,
    clock: 'real',
    run: (lib, n) =>
      realObservable(
        backlog(n).pipe(
          lib.tokenBucket({ capacity: 10, tokensPerInterval: 1, interval: 1, initialTokens: 0 }),
        ),
      ),
  },
  {
    label: 'concatMap(x => of(x).pipe(delay(1)))',
    ours: false,
    clock: 'real',
    run: (_lib, n) => realObservable(backlog(n).pipe(concatMap((x) => of(x).pipe(delay(1))))),
  },
  {
    label: 'Bottleneck({ minTime: 1 })',
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const limiter = new Bottleneck({ minTime: 1 });
      return promiseLimiter(n, (i) => limiter.schedule(() => Promise.resolve(i)));
    },
  },
  {
    label: 'limiter RateLimiter({ tokensPerInterval: 1, interval: 1 })',
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const limiter = new RateLimiter({ tokensPerInterval: 1, interval: 1 });
      return promiseLimiter(n, () => limiter.removeTokens(1));
    },
  },
  {
    label: 'limiter TokenBucket({ bucketSize: 10, tokensPerInterval: 1, interval: 1 }), empty',
    ours: false,
    clock: 'real',
    run: (_lib, n) => {
      const bucket = new LimiterTokenBucket({ bucketSize: 10, tokensPerInterval: 1, interval: 1 });
      return promiseLimiter(n, () => bucket.removeTokens(1));
    },
  },
];

async function costPaced({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const n = quick ? 1_000 : 10_000;
  const realN = quick ? 200 : 500;
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 5, runs: 15 }), collect: 'once' as const };
  log(
    `cost, every value waits: ${num(n)} values in virtual time (${options.runs} runs), ${num(realN)} in real time`,
  );

  const virtualRuns = await compareRunsAsync(
    Object.fromEntries(PACED_VIRTUAL_CASES.map((c) => [c.label, () => check(c, c.run(lib, n, false), n)])),
    options,
  );
  const virtualRows: string[][] = [];
  const virtualTimers = new Map<string, TimerCount>();
  for (const c of PACED_VIRTUAL_CASES) {
    const { outcome, timers } = await countTimers(c, lib, n);
    virtualTimers.set(c.label, timers);
    const cpu = stats(virtualRuns[c.label]!.map((o) => o.cpuNs / n));
    const wall = stats(virtualRuns[c.label]!.map((o) => o.ns / n));
    virtualRows.push([
      c.label,
      range(cpu, 1, 0),
      num(wall.median, 0),
      num(outcome.endTime ?? NaN),
      num(timers.created),
      num(timers.maxLive),
    ]);
  }

  const realRows: string[][] = [];
  const realTimers = new Map<string, TimerCount>();
  for (const c of PACED_REAL_CASES) {
    collectGarbage();
    await check(c, c.run(lib, 20, false), 20); // warm-up, so that compiling the code is not counted
    const cpu = process.cpuUsage();
    const { result, timers } = await countGlobalTimers(() => check(c, c.run(lib, realN, false), realN));
    const used = process.cpuUsage(cpu);
    realTimers.set(c.label, timers);
    const wallMs = result.ns / 1e6;
    realRows.push([
      c.label,
      num(wallMs, 0),
      num(realN / (wallMs / 1000), 0),
      num((used.user + used.system) / realN, 1),
      num(timers.created),
      num(timers.maxLive),
    ]);
  }

  const oursVirtual = PACED_VIRTUAL_CASES.filter((c) => c.ours);
  const oursReal = PACED_REAL_CASES.filter((c) => c.ours);
  const oursMaxLive = Math.max(
    ...oursVirtual.map((c) => virtualTimers.get(c.label)!.maxLive),
    ...oursReal.map((c) => realTimers.get(c.label)!.maxLive),
  );
  const created = oursVirtual.map((c) => virtualTimers.get(c.label)!.created);
  return {
    title: 'Cost per value when every value waits',
    body: [
      `A synchronous burst paced to one value per millisecond, so that every value but the first waits ` +
        `(the token bucket starts empty). On a virtual clock (\`ManualTimeScheduler\`, flushed) the ` +
        `${num(n)} values take ${num(n)} virtual ms and the figure is the CPU time per value with no ` +
        `waiting; only RxJS-based pacing can run there, since Bottleneck and \`limiter\` read the wall ` +
        `clock and call \`setTimeout\` themselves. "ends at" is the virtual time of the last emission; ` +
        `actions are counted through a wrapping scheduler. Median of ${options.runs} runs (min–max) ` +
        `after ${options.warmup} warm-up rounds, garbage collected once before them.`,
      '',
      markdownTable(
        [
          'operator (virtual clock)',
          'CPU ns/value',
          'wall ns/value',
          'ends at',
          'actions created',
          'most pending',
        ],
        virtualRows,
        ['left', 'right', 'right', 'right', 'right', 'right'],
      ),
      '',
      `Our buckets create one action per subscription and reschedule it from inside its own run, so ` +
        `${num(n)} paced values cost ${created.map((c) => num(c)).join(' and ')} action(s); \`delay\` ` +
        `creates one per value.`,
      '',
      `On the real clock all of them, peers included, pace ${num(realN)} values (one run each, one after ` +
        `the other, after a short unmeasured warm-up). What compares across them: CPU time per value ` +
        `(user + system; the process is idle while it waits for a timer), real timers created and the ` +
        `most live at once. Wall time and rate depend on how each treats a late timer (see the accuracy ` +
        `section): at a 1 ms period a Node.js timer is often most of a period late, which a capacity-1 ` +
        `bucket cannot make up. Our buckets' real timers come from RxJS's \`asyncScheduler\`, which keeps ` +
        `one \`setInterval\` for an action rescheduled with the same delay and replaces it when the delay ` +
        `changes.`,
      '',
      markdownTable(
        ['limiter (real clock)', 'wall ms', 'values/s', 'CPU µs/value', 'timers created', 'most live'],
        realRows,
        ['left', 'right', 'right', 'right', 'right', 'right'],
      ),
    ].join('\n'),
    targets: [
      {
        target: 'tokenBucket/leakyBucket: at most one live timer at any moment (virtual and real clock)',
        measured: `${num(oursMaxLive)} at most; ${num(n)} paced values: ${created.map((c) => num(c)).join(' and ')} action(s) created`,
        met: oursMaxLive <= 1,
      },
    ],
  };
}

export const suite: BenchSuite = {
  title: 'Time-paced flow control',
  sections: [accuracy, costNoWait, costPaced],
};
