/**
 * Bounded buffers (issue 2): per-value cost when the consumer keeps up, draining a backlog, and
 * memory behind a stalled consumer, each measured side by side with the RxJS operator it replaces.
 *
 * Each section has a list of cases; a new operator to compare is one more entry in that list.
 */
import {
  concatMap,
  mergeMap,
  NEVER,
  Observable,
  of,
  Subject,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import type { Library } from './lib/library.js';
import { markdownTable, mb, num, ratio } from './lib/markdown.js';
import {
  compareRuns,
  cpuNs,
  heapUsedAfterGc,
  median,
  nsSince,
  stats,
  type Run,
  type Stats,
} from './lib/measure.js';
import { firehose } from './lib/sources.js';
import type { BenchContext, BenchSection, BenchSuite } from './lib/suite.js';

type Project<T> = (value: T) => ObservableInput<T>;

/** A case: an operator built around the given `project`, labelled as a user would write it. */
interface OperatorCase {
  label: string;
  /** Ours (counts towards the targets) or the RxJS operator it is compared with. */
  ours: boolean;
  make: <T>(lib: Library, project: Project<T>) => OperatorFunction<T, T>;
}

const identity = (i: number) => i;
const GC_NOTE =
  'Garbage is collected once before the runs, not between them: a forced full collection makes V8 ' +
  'deoptimise code, which adds a fixed cost to the next run (about 0.1 s for a backlog drain here).';
const range = (stat: Stats, scale: number, decimals: number) =>
  `${num(stat.median / scale, decimals)} (${num(stat.min / scale, decimals)}–${num(stat.max / scale, decimals)})`;

// ---------------------------------------------------------------------------------------------
// Consumer keeps up: every inner completes synchronously, so nothing ever waits.

const KEEP_UP_CASES: OperatorCase[] = [
  { label: 'mergeMap(x => of(x), 1)', ours: false, make: (_lib, p) => mergeMap(p, 1) },
  { label: 'bufferDropping(1000, x => of(x))', ours: true, make: (lib, p) => lib.bufferDropping(1000, p) },
];

function keepUp({ lib, quick, log }: BenchContext): BenchSection {
  const n = quick ? 20_000 : 200_000;
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 3, runs: 15 }), collect: 'once' as const };
  log(`keep-up: ${num(n)} values, ${options.runs} runs per case`);
  const project = <T>(x: T) => of(x);
  const sourceOnly = 'no operator (the source alone)';
  const cases: Record<string, Run> = {
    [sourceOnly]: timeSubscription(firehose(n, identity), n),
    ...Object.fromEntries(
      KEEP_UP_CASES.map((c) => [
        c.label,
        timeSubscription(firehose(n, identity).pipe(c.make(lib, project)), n),
      ]),
    ),
  };
  const runs = compareRuns(cases, options);
  const perValue = (label: string) => stats(runs[label]!.map((ns) => ns / n));
  const reference = KEEP_UP_CASES.find((c) => !c.ours)!;
  const ours = KEEP_UP_CASES.find((c) => c.ours)!;
  const baseline = perValue(reference.label).median;
  const rows = Object.keys(cases).map((label) => {
    const s = perValue(label);
    return [label, range(s, 1, 1), label === sourceOnly ? '' : ratio(s.median / baseline)];
  });
  const measuredRatio = perValue(ours.label).median / baseline;
  return {
    title: 'Consumer keeps up (synchronous inner)',
    body: [
      `${num(n)} values from a synchronous source; every inner is \`of(x)\`, so a value is finished ` +
        `before the next arrives and nothing waits. CPU nanoseconds per value (whole pipeline, source ` +
        `included; CPU time of the process, all threads, rather than wall time, which on this shared ` +
        `machine also counts the time spent waiting for a core), median of ${options.runs} runs ` +
        `(min–max), cases interleaved. ${GC_NOTE}`,
      '',
      markdownTable(['pipeline', 'ns/value', `vs ${reference.label}`], rows, ['left', 'right', 'right']),
    ].join('\n'),
    targets: [
      {
        target: `${ours.label} costs at most 1.1× ${reference.label} per value`,
        measured: ratio(measuredRatio),
        met: measuredRatio <= 1.1,
      },
    ],
  };
}

/** A run that subscribes, counts the values (checking that all `n` arrive) and times the whole. */
function timeSubscription(pipeline: Observable<unknown>, n: number): Run {
  return () => {
    let count = 0;
    const start = cpuNs();
    pipeline.subscribe(() => count++);
    const ns = cpuNs() - start;
    if (count !== n) throw new Error(`keep-up: expected ${n} values, got ${count}`);
    return ns;
  };
}

// ---------------------------------------------------------------------------------------------
// Backlog: the first inner stalls until the source has queued everything, then is released; the
// rest are synchronous, so the whole backlog drains in one go.

const BACKLOG_CASES: OperatorCase[] = [
  { label: 'bufferFixed(Infinity, p)', ours: true, make: (lib, p) => lib.bufferFixed(Infinity, p) },
  { label: 'concatMap(p)', ours: false, make: (_lib, p) => concatMap(p) },
];

interface BacklogObservation {
  emitted: number[];
  outcomes: string[];
  queueNs: number[];
}

/**
 * One backlog run: queue `n` values behind a stalled first inner, then time the drain; `repeat`
 * times over for small backlogs, returning the mean drain time of one backlog.
 */
function backlogRun(lib: Library, c: OperatorCase, n: number, repeat: number, seen: BacklogObservation): Run {
  return (measured) => {
    let queueNs = 0;
    let drainNs = 0;
    for (let r = 0; r < repeat; r++) {
      const gate = new Subject<number>();
      let emitted = 0;
      let outcome = 'still open';
      const project: Project<number> = (x) => (x === 0 ? gate : of(x));
      let start = process.hrtime.bigint();
      const subscription = firehose(n, identity)
        .pipe(c.make(lib, project))
        .subscribe({
          next: () => emitted++,
          error: (err: unknown) => (outcome = `error ${err instanceof Error ? err.name : String(err)}`),
          complete: () => (outcome = 'completed'),
        });
      queueNs += nsSince(start);
      gate.next(0);
      start = process.hrtime.bigint();
      gate.complete();
      drainNs += nsSince(start);
      subscription.unsubscribe();
      if (measured) {
        seen.emitted.push(emitted);
        seen.outcomes.push(outcome);
      }
    }
    if (measured) seen.queueNs.push(queueNs / repeat);
    return drainNs / repeat;
  };
}

/** `completed` when every backlog ended alike, else counts: `error RangeError ×2, still open ×1`. */
function countOutcomes(outcomes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  if (counts.size === 1) return outcomes[0] ?? '';
  return [...counts].map(([o, k]) => `${o} ×${k}`).join(', ');
}

function backlog({ lib, quick, log }: BenchContext): BenchSection {
  /** A backlog that concatMap can drain without overflowing the stack, for a like-for-like speed. */
  const shallow = 500;
  /** The pair for the linearity target. */
  const [small, large] = quick ? [10_000, 20_000] : [100_000, 200_000];
  const options = { ...(quick ? { warmup: 1, runs: 3 } : { warmup: 2, runs: 9 }), collect: 'once' as const };
  /** Small backlogs are drained many times per run, so that a run lasts long enough to time. */
  const repeat = quick ? 10 : 100;
  // concatMap overflows its stack on the large backlogs, and failing takes it from a tenth of a second
  // to many seconds (its queue is an array that it shifts): one run each, without warm-up.
  const failing = { warmup: 0, runs: 1 };
  const countsFor = (c: OperatorCase, n: number) => (c.ours || n === shallow ? {} : failing);
  const sizes = [shallow, small, large];
  log(`backlog: ${sizes.map((n) => num(n)).join(', ')} values`);
  const observations = new Map<string, BacklogObservation>();
  const key = (c: OperatorCase, n: number) => `${c.label}@${n}`;
  const runs = compareRuns(
    Object.fromEntries(
      BACKLOG_CASES.flatMap((c) =>
        sizes.map((n) => {
          const seen: BacklogObservation = { emitted: [], outcomes: [], queueNs: [] };
          observations.set(key(c, n), seen);
          return [
            key(c, n),
            { run: backlogRun(lib, c, n, n === shallow ? repeat : 1, seen), ...countsFor(c, n) },
          ];
        }),
      ),
    ),
    options,
  );
  const drain = (c: OperatorCase, n: number) => stats(runs[key(c, n)]!);
  const seenFor = (c: OperatorCase, n: number) => observations.get(key(c, n))!;
  /** Drain time per value actually emitted (medians of both). */
  const perValue = (c: OperatorCase, n: number) => {
    const emitted = median(seenFor(c, n).emitted);
    return emitted > 0 ? drain(c, n).median / emitted : Infinity;
  };
  const drainedAll = (c: OperatorCase, n: number) => seenFor(c, n).emitted.every((e) => e === n);
  const rows = sizes.flatMap((n) =>
    BACKLOG_CASES.map((c) => {
      const seen = seenFor(c, n);
      const emitted = median(seen.emitted);
      const spread =
        Math.min(...seen.emitted) === Math.max(...seen.emitted)
          ? ''
          : ` (${num(Math.min(...seen.emitted))}–${num(Math.max(...seen.emitted))})`;
      return [
        c.label,
        num(n),
        drainedAll(c, n) ? num(emitted) : `**${num(emitted)}**${spread}`,
        countOutcomes(seen.outcomes),
        num(median(seen.queueNs) / 1e6, 2),
        range(drain(c, n), 1e6, 2),
        Number.isFinite(perValue(c, n)) ? num(perValue(c, n), 0) : '–',
      ];
    }),
  );
  const ours = BACKLOG_CASES.find((c) => c.ours)!;
  const theirs = BACKLOG_CASES.find((c) => !c.ours)!;
  const linear = drain(ours, large).median / drain(ours, small).median;
  const speedup = perValue(theirs, shallow) / perValue(ours, shallow);
  const failed = [small, large].filter((n) => !drainedAll(theirs, n));
  const describeFailure = (n: number) => {
    const seen = seenFor(theirs, n);
    return `${num(median(seen.emitted))} of ${num(n)} emitted, then ${countOutcomes(seen.outcomes)}`;
  };
  const theirNote =
    failed.length === 0
      ? `${theirs.label} drains them too.`
      : `${theirs.label} does not drain ${failed.map((n) => num(n)).join(' or ')} values ` +
        `(${failed.map(describeFailure).join('; ')}): each synchronous inner's completion starts the ` +
        `next inner from inside the previous one, so the stack grows with every value drained until it ` +
        `overflows. The RangeError then either reaches the subscriber ("error RangeError") or is lost, ` +
        `leaving the output open with the rest of the backlog still queued ("still open"); which one ` +
        `varies from run to run. Its drain time there is the time taken to fail. On ` +
        `${num(shallow)} values, which it can drain, ${ours.label} takes ` +
        `${num(perValue(ours, shallow), 0)} ns per value against ${num(perValue(theirs, shallow), 0)}.`;
  return {
    title: 'Draining a backlog',
    body: [
      `A synchronous source queues all its values behind a first inner that is a \`Subject\`; once the ` +
        `source has completed, that inner completes and every other inner is \`of(x)\`, so the backlog ` +
        `drains synchronously. "queueing" is the time to subscribe and queue everything, "drain" the ` +
        `time from releasing the first inner to the end; both in ms, median (min–max) of ` +
        `${options.runs} runs (concatMap: ${failing.runs} on the large backlogs, see below); a run ` +
        `of the ${num(shallow)}-value backlog drains it ${repeat} times and counts the mean. ` +
        `ns/value is per value emitted. ${GC_NOTE}`,
      '',
      markdownTable(['operator', 'backlog', 'emitted', 'outcome', 'queueing', 'drain', 'ns/value'], rows, [
        'left',
        'right',
        'right',
        'left',
        'right',
        'right',
        'right',
      ]),
      '',
      `${ours.label} drains ${num(large)} values in ${ratio(linear)} the time of ${num(small)}. ${theirNote}`,
    ].join('\n'),
    targets: [
      {
        target: `${ours.label}: draining ${num(large)} queued values costs at most 2.2× draining ${num(small)}`,
        measured: ratio(linear),
        met: linear <= 2.2 && drainedAll(ours, small) && drainedAll(ours, large),
      },
      {
        target: `${ours.label} drains a backlog faster than ${theirs.label}`,
        measured:
          `${num(shallow)} values: ${num(perValue(ours, shallow), 0)} vs ${num(perValue(theirs, shallow), 0)} ` +
          `ns per value (${ratio(1 / speedup)}); ${num(large)}: ` +
          (drainedAll(theirs, large)
            ? `${num(perValue(ours, large), 0)} vs ${num(perValue(theirs, large), 0)} ns per value`
            : `${theirs.label} fails after ${num(median(seenFor(theirs, large).emitted))} values`),
        met:
          speedup > 1 &&
          drainedAll(ours, large) &&
          (!drainedAll(theirs, large) || perValue(ours, large) < perValue(theirs, large)),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Memory: the first inner never completes, so everything after it waits (or is dropped).

const MEMORY_CASES: OperatorCase[] = [
  { label: 'bufferDropping(1000, p)', ours: true, make: (lib, p) => lib.bufferDropping(1000, p) },
  { label: 'concatMap(p)', ours: false, make: (_lib, p) => concatMap(p) },
];

interface Payload {
  seq: number;
}

/** Heap growth (bytes, after gc) at each checkpoint while `total` values go into the operator. */
function heapGrowth(lib: Library, c: OperatorCase, checkpoints: readonly number[]): number[] {
  const source = new Subject<Payload>();
  const project: Project<Payload> = () => NEVER;
  const subscription = source.pipe(c.make(lib, project)).subscribe();
  const baseline = heapUsedAfterGc();
  const growth: number[] = [];
  let sent = 0;
  for (const checkpoint of checkpoints) {
    while (sent < checkpoint) source.next({ seq: sent++ });
    growth.push(heapUsedAfterGc() - baseline);
  }
  subscription.unsubscribe();
  return growth;
}

function memory({ lib, quick, log }: BenchContext): BenchSection {
  const total = quick ? 100_000 : 1_000_000;
  const checkpoints = [total / 4, total / 2, total];
  const repeats = quick ? 1 : 3;
  log(`memory: ${num(total)} values, ${repeats} runs per case`);
  const samples = new Map<string, number[][]>(MEMORY_CASES.map((c) => [c.label, []]));
  for (let r = 0; r < repeats; r++) {
    for (const c of MEMORY_CASES) samples.get(c.label)!.push(heapGrowth(lib, c, checkpoints));
  }
  const growthAt = (c: OperatorCase) =>
    checkpoints.map((_, i) => median(samples.get(c.label)!.map((s) => s[i]!)));
  const rows = MEMORY_CASES.map((c) => {
    const g = growthAt(c);
    return [c.label, ...g.map(mb), `${num(g[g.length - 1]! / total, 1)} B`];
  });
  const ours = MEMORY_CASES.find((c) => c.ours)!;
  const theirs = MEMORY_CASES.find((c) => !c.ours)!;
  const oursGrowth = growthAt(ours);
  const theirGrowth = growthAt(theirs);
  const oursFinal = oursGrowth[oursGrowth.length - 1]!;
  const increasing = theirGrowth.every((g, i) => i === 0 || g > theirGrowth[i - 1]!);
  return {
    title: 'Memory behind a stalled consumer',
    body: [
      `${num(total)} values (small objects \`{ seq }\`) pushed into the operator through a \`Subject\`; ` +
        `the first inner is \`NEVER\`, so nothing ever finishes. Heap growth after a full gc, from just ` +
        `after subscribing, at each checkpoint (median of ${repeats} runs).`,
      '',
      markdownTable(
        ['operator', ...checkpoints.map((n) => `after ${num(n)}`), 'per value at the end'],
        rows,
        ['left', ...checkpoints.map(() => 'right' as const), 'right'],
      ),
    ].join('\n'),
    targets: [
      {
        target: `${ours.label}: ${num(total)} values behind a stalled consumer grow the heap by under 5 MB`,
        measured: mb(oursFinal),
        met: oursFinal < 5e6,
      },
      {
        target: `${theirs.label} on the same input grows with every value`,
        measured: theirGrowth.map(mb).join(' → '),
        met: increasing,
      },
    ],
  };
}

export const suite: BenchSuite = {
  title: 'Bounded buffers',
  sections: [keepUp, backlog, memory],
};
