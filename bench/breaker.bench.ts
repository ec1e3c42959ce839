/**
 * Circuit breaker (issue 10): what `CircuitBreaker` costs while closed, which is where a breaker
 * spends nearly all its life, side by side with what it wraps and with cockatiel 3.2.1 and opossum
 * 9.0.0 (the versions that run on Node 20).
 *
 * 1. `protect` per value against `mergeMap(project)`, on a synchronous source and inner.
 * 2. `guard` per subscription against the same Observable unguarded.
 * 3. Per call, promise style, against cockatiel's `circuitBreaker(...).execute` and opossum's
 *    `fire`, with comparable trip rules.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import {
  circuitBreaker,
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  handleAll,
  SamplingBreaker,
} from 'cockatiel';
import {
  asyncScheduler,
  count,
  defer,
  lastValueFrom,
  map,
  mergeMap,
  Observable,
  of,
  type ObservableInput,
  type SchedulerLike,
} from 'rxjs';
import { compareRunsAsync, cpuNsSince } from './lib/asyncRuns.js';
import type { Library } from './lib/library.js';
import { markdownTable, num, ratio } from './lib/markdown.js';
import { compareRuns, nsSince, stats, type Run, type Stats } from './lib/measure.js';
import type { BenchContext, BenchSection, BenchSuite, TargetResult } from './lib/suite.js';
import { countGlobalTimers, type TimerCount } from './lib/timers.js';

/** The part of opossum 9's API used here (the package ships no types). */
interface Opossum {
  fire(...args: unknown[]): Promise<unknown>;
  readonly closed: boolean;
  shutdown(): void;
}
type OpossumConstructor = new (
  action: (...args: unknown[]) => Promise<unknown>,
  options?: Record<string, unknown>,
) => Opossum;
/** Loaded from the repository's node_modules (found as the harness finds the repository: from argv). */
const Opossum = createRequire(
  resolve(dirname(resolve(process.argv[1] ?? 'bench/index.ts')), '..', 'package.json'),
)('opossum') as OpossumConstructor;

type Breaker = InstanceType<Library['CircuitBreaker']>;
type BreakerOptions = ConstructorParameters<Library['CircuitBreaker']>[0];

const GC_NOTE =
  'Garbage is collected once before the runs, not between them (a forced full collection makes V8 ' +
  'deoptimise code, which would add a fixed cost to the next run).';
const range = (stat: Stats, decimals: number) =>
  `${num(stat.median, decimals)} (${num(stat.min, decimals)}–${num(stat.max, decimals)})`;
const runOptions = (quick: boolean, full: { warmup: number; runs: number }) => ({
  ...(quick ? { warmup: 1, runs: 3 } : full),
  collect: 'once' as const,
});

/** A synchronous source of `n` values that stops as soon as its subscriber is closed. */
function firehose(n: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    for (let i = 0; i < n && !subscriber.closed; i++) subscriber.next(i);
    subscriber.complete();
  });
}

/** The trip rules compared: one per kind of rule, each never met here (every call succeeds). */
const RULES: { label: string; options: BreakerOptions }[] = [
  { label: 'consecutiveFailures: 5', options: { consecutiveFailures: 5 } },
  {
    label: 'failureRateThreshold: 0.5, window: { duration: 10_000 }',
    options: { failureRateThreshold: 0.5, window: { duration: 10_000 } },
  },
];

/**
 * A diagnostic, not a configuration anyone would use: `asyncScheduler` whose `now()` returns 0
 * without reading the clock, so that a row built on it shows what the breaker costs without its
 * clock reads (with a time window: one per call, when its outcome is counted).
 */
const FREE_CLOCK: SchedulerLike = {
  now: () => 0,
  schedule: (work, delay, state) => asyncScheduler.schedule(work as never, delay, state),
};
const FREE_CLOCK_NOTE = 'a scheduler whose now() does not read the clock (diagnostic)';

/** What one `Date.now()` costs here, in ns (the default `asyncScheduler.now()` is `Date.now()`). */
function dateNowCost(): number {
  let sink = 0;
  const n = 1_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += Date.now();
  const ns = nsSince(start) / n;
  if (sink === 0) throw new Error('breaker bench: Date.now() read 0');
  return ns;
}

/** Throws unless the breaker is still closed: every figure here is for the closed state. */
function stillClosed(breaker: Breaker, label: string): void {
  if (breaker.state !== 'closed') throw new Error(`breaker bench: ${label} left the closed state`);
}

// ---------------------------------------------------------------------------------------------
// 1. protect per value, against mergeMap.

interface SyncCase {
  label: string;
  /** Counts towards a target, against `reference`. */
  target?: { reference: string; limit: number; what: string };
  run: Run;
  /** Checked after the runs. */
  check?: () => void;
}

/** A run that subscribes, counts the values (checking that all `n` arrive) and times the whole. */
function timeValues(pipeline: Observable<unknown>, n: number): Run {
  return () => {
    let seen = 0;
    const start = process.hrtime.bigint();
    pipeline.subscribe(() => seen++);
    const ns = nsSince(start);
    if (seen !== n) throw new Error(`breaker bench: expected ${n} values, got ${seen}`);
    return ns;
  };
}

function syncTable(
  cases: SyncCase[],
  runs: Record<string, number[]>,
  per: number,
  unit: string,
): { rows: string[][]; targets: TargetResult[] } {
  const perUnit = (label: string) => stats(runs[label]!.map((ns) => ns / per));
  const reference = cases.find((c) => c.target)?.target?.reference;
  const rows = cases.map((c) => [
    c.label,
    range(perUnit(c.label), 1),
    reference !== undefined && c.label !== reference && !c.label.startsWith('no operator')
      ? ratio(perUnit(c.label).median / perUnit(reference).median)
      : '',
  ]);
  const targets = cases
    .filter((c) => c.target)
    .map((c) => {
      const t = c.target!;
      const measured = perUnit(c.label).median / perUnit(t.reference).median;
      return {
        target: `${c.label} costs at most ${t.limit}× ${t.reference} per ${unit}${t.what}`,
        measured: ratio(measured),
        met: measured <= t.limit,
      };
    });
  return { rows, targets };
}

/**
 * A paragraph on where the time goes: the overhead over the reference with the consecutive rule
 * (no clock read), and what the time window's one clock read per call costs (the free-clock row).
 */
function whereTimeGoes(
  cases: SyncCase[],
  runs: Record<string, number[]>,
  per: number,
  unit: string,
  clockNs: number,
): string {
  const median = (label: string) => stats(runs[label]!.map((ns) => ns / per)).median;
  const [consecutive, windowed] = cases.filter((c) => c.target);
  const reference = consecutive!.target!.reference;
  const free = cases.find((c) => c.label.includes(FREE_CLOCK_NOTE))!;
  const over = median(consecutive!.label) - median(reference);
  const clockShare = median(windowed!.label) - median(free.label);
  const call =
    unit === 'subscription'
      ? 'one object per call, which is also the subscriber guard puts between the subscription and ' +
        'the source (its permit, its timeout if any, and its outcome), the outcome counted, and a ' +
        'second subscribe, from guard to the source'
      : 'one object per call (its permit, its timeout if any, and its outcome), the outcome counted';
  return (
    `Where the time goes: ${consecutive!.label} costs ${num(over, 0)} ns per ${unit} more than ` +
    `${reference}: ${call}; it reads no clock. A time window reads the scheduler's clock once per call, to ` +
    `put the outcome in its bucket (a slow-call rule reads it twice, when the call starts and when it ` +
    `ends); \`asyncScheduler.now()\` is \`Date.now()\`, ${num(clockNs, 0)} ns per read in a loop on this ` +
    `machine just before the runs, a figure that varies with the load. The windowed rule on a ` +
    `scheduler whose \`now()\` reads nothing is ${num(clockShare, 0)} ns cheaper, ` +
    `${ratio(median(free.label) / median(reference))} ${reference}.`
  );
}

function protectPerValue({ lib, quick, log }: BenchContext): BenchSection {
  const n = quick ? 20_000 : 200_000;
  const options = runOptions(quick, { warmup: 3, runs: 15 });
  log(`protect: ${num(n)} values, ${options.runs} runs per case`);
  const project = (x: number): ObservableInput<number> => of(x);
  const reference = 'mergeMap(x => of(x))';
  const breakers = RULES.map((rule) => ({ rule, breaker: new lib.CircuitBreaker(rule.options) }));
  const cases: SyncCase[] = [
    { label: 'no operator (the source alone)', run: timeValues(firehose(n), n) },
    { label: reference, run: timeValues(firehose(n).pipe(mergeMap(project)), n) },
    ...breakers.map(({ rule, breaker }) => {
      const label = `protect(x => of(x)), ${rule.label}`;
      return {
        label,
        target: { reference, limit: 1.2, what: ' (closed)' },
        run: timeValues(firehose(n).pipe(breaker.protect(project)), n),
        check: () => stillClosed(breaker, label),
      };
    }),
    ((breaker) => {
      const label = `protect(x => of(x)), ${RULES[1]!.label}, ${FREE_CLOCK_NOTE}`;
      return {
        label,
        run: timeValues(firehose(n).pipe(breaker.protect(project)), n),
        check: () => stillClosed(breaker, label),
      };
    })(new lib.CircuitBreaker({ ...RULES[1]!.options, scheduler: FREE_CLOCK })),
  ];
  const clockNs = dateNowCost();
  const runs = compareRuns(Object.fromEntries(cases.map((c) => [c.label, c.run])), options);
  for (const c of cases) c.check?.();
  const { rows, targets } = syncTable(cases, runs, n, 'value');
  return {
    title: '`protect` per value, closed',
    body: [
      `${num(n)} values from a synchronous source, every inner \`of(x)\`, the default options ` +
        `(\`concurrency\` Infinity, as \`mergeMap\`), one breaker per rule shared by every run. The ` +
        `inner completes before the next value arrives, so what is measured is the bookkeeping per ` +
        `call: a permit taken, the outcome counted (and, with a rate rule, recorded in the window), ` +
        `plus the buffer engine that \`protect\` shares with the other operators. Nanoseconds per ` +
        `value (whole pipeline, source included), median of ${options.runs} runs (min–max), cases ` +
        `interleaved. ${GC_NOTE}`,
      '',
      markdownTable(['pipeline', 'ns/value', `vs ${reference}`], rows, ['left', 'right', 'right']),
      '',
      whereTimeGoes(cases, runs, n, 'value', clockNs),
    ].join('\n'),
    targets,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. guard per subscription, against the same Observable unguarded.

/** A run that subscribes `n` times, counting completions, and times the whole. */
function timeSubscriptions(observable: Observable<number>, n: number): Run {
  return () => {
    let completed = 0;
    const observer = { complete: () => completed++ };
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) observable.subscribe(observer);
    const ns = nsSince(start);
    if (completed !== n) throw new Error(`breaker bench: expected ${n} completions, got ${completed}`);
    return ns;
  };
}

function guardPerSubscription({ lib, quick, log }: BenchContext): BenchSection {
  const n = quick ? 20_000 : 200_000;
  const options = runOptions(quick, { warmup: 3, runs: 15 });
  log(`guard: ${num(n)} subscriptions, ${options.runs} runs per case`);
  const call$ = of(1);
  const reference = 'of(1)';
  const breakers = RULES.map((rule) => ({ rule, breaker: new lib.CircuitBreaker(rule.options) }));
  const cases: SyncCase[] = [
    { label: reference, run: timeSubscriptions(call$, n) },
    {
      label: 'of(1).pipe(map(x => x)) (a pass-through operator, for scale)',
      run: timeSubscriptions(call$.pipe(map((x) => x)), n),
    },
    ...breakers.map(({ rule, breaker }) => {
      const label = `of(1).pipe(guard()), ${rule.label}`;
      return {
        label,
        target: { reference, limit: 1.2, what: ' (closed)' },
        run: timeSubscriptions(call$.pipe(breaker.guard()), n),
        check: () => stillClosed(breaker, label),
      };
    }),
    ((breaker) => {
      const label = `of(1).pipe(guard()), ${RULES[1]!.label}, ${FREE_CLOCK_NOTE}`;
      return {
        label,
        run: timeSubscriptions(call$.pipe(breaker.guard()), n),
        check: () => stillClosed(breaker, label),
      };
    })(new lib.CircuitBreaker({ ...RULES[1]!.options, scheduler: FREE_CLOCK })),
  ];
  const clockNs = dateNowCost();
  const runs = compareRuns(Object.fromEntries(cases.map((c) => [c.label, c.run])), options);
  for (const c of cases) c.check?.();
  const { rows, targets } = syncTable(cases, runs, n, 'subscription');
  return {
    title: '`guard` per subscription, closed',
    body: [
      `${num(n)} subscriptions to one Observable, \`of(1)\`, each one call; with \`guard\` each ` +
        `subscription takes a permit and counts its outcome. Nanoseconds per subscription, median ` +
        `of ${options.runs} runs (min–max), cases interleaved. ${GC_NOTE} \`of(1)\` is the cheapest ` +
        `Observable there is, so the ratio is the worst case: any operator in front of it, even a ` +
        `\`map\` that passes values through, adds a subscriber and several times its cost (second row). ` +
        `The section below puts the same overhead next to a call that returns a promise.`,
      '',
      markdownTable(['Observable', 'ns/subscription', `vs ${reference}`], rows, ['left', 'right', 'right']),
      '',
      whereTimeGoes(cases, runs, n, 'subscription', clockNs),
    ].join('\n'),
    targets,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Per call, promise style, against cockatiel and opossum.

/** The call every case makes: an async function whose promise is already resolved. */
const call = (): Promise<number> => Promise.resolve(1);

interface CallOutcome {
  ns: number;
  cpuNs: number;
}

interface PeerCase {
  label: string;
  /** `ours`: CircuitBreaker; `peer`: cockatiel or opossum; `base`: no breaker. */
  kind: 'ours' | 'peer' | 'base';
  /** Cases of one group have comparable trip rules (and timeouts). */
  group: string;
  /** Makes `n` calls (in batches) and resolves when all have returned; checks what they returned. */
  run: (n: number) => Promise<void>;
  /** Checked after the runs (still closed). */
  check?: () => void;
  /** Frees what the case holds (opossum's rolling-window interval). */
  dispose?: () => void;
}

/** Calls in flight at once in the per-call section: every case makes its calls in batches of this many. */
const BATCH = 100;

/**
 * Makes `n` calls through `through`, `BATCH` at a time (a batch starts when the previous one has
 * returned), and checks that each returned 1. Batches keep the number of promises alive at once
 * realistic: with all the calls at once the garbage collector's work on that many live promises
 * dominates every case.
 */
async function callsInBatches(n: number, through: () => Promise<unknown>): Promise<void> {
  for (let done = 0; done < n; done += BATCH) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH && done + i < n; i++) batch.push(through());
    const results = await Promise.all(batch);
    if (!results.every((r) => r === 1)) throw new Error('breaker bench: a call did not return 1');
  }
}

function peerCases(lib: Library): PeerCase[] {
  const ours = (group: string, label: string, options: BreakerOptions, style: 'guard' | 'protect') => {
    const breaker = new lib.CircuitBreaker(options);
    const guarded = defer(call).pipe(breaker.guard());
    const run =
      style === 'guard'
        ? (n: number) => callsInBatches(n, () => lastValueFrom(guarded))
        : async (n: number) => {
            const done = await lastValueFrom(
              firehose(n).pipe(breaker.protect(call, { concurrency: BATCH }), count()),
            );
            if (done !== n) throw new Error(`breaker bench: protect emitted ${done} of ${n}`);
          };
    return {
      label,
      kind: 'ours' as const,
      group,
      run,
      check: () => stillClosed(breaker, label),
    };
  };
  const cockatiel = (group: string, label: string, breaker: ConsecutiveBreaker | SamplingBreaker) => {
    const policy = circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker });
    return {
      label,
      kind: 'peer' as const,
      group,
      run: (n: number) => callsInBatches(n, () => policy.execute(call)),
      check: () => {
        if (policy.state !== CockatielState.Closed)
          throw new Error(`breaker bench: ${label} left the closed state`);
      },
    };
  };
  const opossum = (group: string, label: string, options: Record<string, unknown>) => {
    const breaker = new Opossum(call, options);
    return {
      label,
      kind: 'peer' as const,
      group,
      run: (n: number) => callsInBatches(n, () => breaker.fire()),
      check: () => {
        if (!breaker.closed) throw new Error(`breaker bench: ${label} left the closed state`);
      },
      dispose: () => breaker.shutdown(),
    };
  };
  return [
    {
      label: 'call() alone',
      kind: 'base',
      group: 'no breaker',
      run: (n) => callsInBatches(n, call),
    },
    {
      label: 'lastValueFrom(defer(call)), unguarded',
      kind: 'base',
      group: 'no breaker',
      run: (n) => {
        const observable = defer(call);
        return callsInBatches(n, () => lastValueFrom(observable));
      },
    },
    cockatiel('consecutive', 'cockatiel ConsecutiveBreaker(5)', new ConsecutiveBreaker(5)),
    ours(
      'consecutive',
      'CircuitBreaker consecutiveFailures: 5, lastValueFrom(guard)',
      { consecutiveFailures: 5 },
      'guard',
    ),
    ours(
      'consecutive',
      `CircuitBreaker consecutiveFailures: 5, protect(call, { concurrency: ${BATCH} }) (one stream)`,
      { consecutiveFailures: 5 },
      'protect',
    ),
    cockatiel(
      'rate',
      'cockatiel SamplingBreaker({ threshold: 0.5, duration: 10_000 })',
      new SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
    ),
    opossum('rate', 'opossum { timeout: false } (50 %, 10 s window)', { timeout: false }),
    ours(
      'rate',
      'CircuitBreaker failureRateThreshold: 0.5, window 10 s, lastValueFrom(guard)',
      { failureRateThreshold: 0.5, window: { duration: 10_000 } },
      'guard',
    ),
    opossum('timeout', 'opossum defaults (timeout 10 s, 50 %, 10 s window)', {}),
    ours(
      'timeout',
      'CircuitBreaker callTimeout: 10_000, failureRateThreshold: 0.5, window 10 s, lastValueFrom(guard)',
      { callTimeout: 10_000, failureRateThreshold: 0.5, window: { duration: 10_000 } },
      'guard',
    ),
  ];
}

async function perCall({ lib, quick, log }: BenchContext): Promise<BenchSection> {
  const n = quick ? 1_000 : 10_000;
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 5, runs: 15 }), collect: 'once' as const };
  log(`per call: ${num(n)} calls in batches of ${BATCH}, ${options.runs} runs per case`);
  const cases = peerCases(lib);
  const measure = (c: PeerCase) => async (): Promise<CallOutcome> => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await c.run(n);
    return { ns: nsSince(start), cpuNs: cpuNsSince(cpu) };
  };
  const runs = await compareRunsAsync(Object.fromEntries(cases.map((c) => [c.label, measure(c)])), options);
  const timers = new Map<string, TimerCount>();
  for (const c of cases) timers.set(c.label, (await countGlobalTimers(() => c.run(n))).timers);
  for (const c of cases) {
    c.check?.();
    c.dispose?.();
  }

  const cpu = (c: PeerCase) => stats(runs[c.label]!.map((o) => o.cpuNs / n));
  const wall = (c: PeerCase) => stats(runs[c.label]!.map((o) => o.ns / n));
  const alone = cases[0]!;
  const rows = cases.map((c) => [
    c.label,
    range(cpu(c), 0),
    c === alone ? '' : num(cpu(c).median - cpu(alone).median, 0),
    num(wall(c).median, 0),
    num(timers.get(c.label)!.created),
  ]);

  // Per group: our guard case against each peer of the group.
  const targets: TargetResult[] = [];
  const comparisons: string[] = [];
  for (const group of ['consecutive', 'rate', 'timeout']) {
    const inGroup = cases.filter((c) => c.group === group);
    const oursCase = inGroup.find((c) => c.kind === 'ours' && c.label.includes('guard'))!;
    for (const peer of inGroup.filter((c) => c.kind === 'peer')) {
      const r = cpu(oursCase).median / cpu(peer).median;
      comparisons.push(`${ratio(r)} ${peer.label}`);
      targets.push({
        target:
          `per call, against ${peer.label}: CircuitBreaker (guard, promise style) costs no more CPU ` +
          `(the issue names the comparison, not a ratio; taken as at most 1×)`,
        measured: `${num(cpu(oursCase).median, 0)} vs ${num(cpu(peer).median, 0)} ns (${ratio(r)})`,
        met: r <= 1,
      });
    }
  }
  return {
    title: 'Per call, against cockatiel 3.2.1 and opossum 9.0.0',
    body: [
      `${num(n)} calls, ${BATCH} at a time (a batch starts when the previous one has returned), each ` +
        `an async function whose promise is already resolved, through each breaker, closed. cockatiel's ` +
        `\`policy.execute(call)\` and opossum's \`breaker.fire()\` return promises; for ours, each ` +
        `call is \`lastValueFrom(defer(call).pipe(breaker.guard()))\`, which is how a promise-based ` +
        `caller would use it, and, once, one stream of ${num(n)} values through ` +
        `\`breaker.protect(call, { concurrency: ${BATCH} })\`, which is how an RxJS pipeline would. Rows are grouped by ` +
        `comparable rules: in a row, consecutive failures; then a failure rate over a 10 s window ` +
        `(opossum's \`errorThresholdPercentage\` 50 and \`rollingCountTimeout\` 10 s are its ` +
        `defaults; its default 10 s \`timeout\` is turned off there); then the same with a 10 s call ` +
        `timeout, on by default in opossum, which sets a timer per call (as \`callTimeout\` schedules ` +
        `an action per call on \`asyncScheduler\`). CPU time (user + system) per call, median of ` +
        `${options.runs} runs (min–max), cases interleaved, after ${options.warmup} warm-up rounds; ` +
        `garbage is collected once before the warm-up. "over the call" subtracts \`call()\` alone. ` +
        `"timers" counts every \`setTimeout\`/\`setInterval\` created during one run of ${num(n)} ` +
        `calls (the globals are wrapped); breakers are built before, so opossum's one interval per ` +
        `breaker for its rolling window is not in it.`,
      '',
      markdownTable(['case', 'CPU ns/call', 'over the call', 'wall ns/call', 'timers'], rows, [
        'left',
        'right',
        'right',
        'right',
        'right',
      ]),
      '',
      `CircuitBreaker through \`guard\`, against each peer with comparable rules (CPU per call, ` +
        `ours / theirs): ${comparisons.join('; ')}.`,
    ].join('\n'),
    targets,
  };
}

export const suite: BenchSuite = {
  title: 'Circuit breaker',
  sections: [protectPerValue, guardPerSubscription, perCall],
};
