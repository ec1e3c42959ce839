/**
 * The equivalences and migrations of docs/choosing.md, run. Each `###` section of the page's
 * "Coming from RxJS" and "Coming from other libraries" parts is a `describe` here, with the same
 * title (the first test checks that). The RxJS sections' diagrams are read from the page itself and
 * run against the built-in and against ours, side by side, under `TestScheduler.run`; Bottleneck,
 * p-queue (6.6.2, its last CommonJS release) and `limiter` run for real next to ours (their timers
 * under jest's fake timers, ours in virtual time). core.async is Clojure and cannot run here: its
 * documented buffer rules are asserted of our operators.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import Bottleneck from 'bottleneck';
import { RateLimiter, TokenBucket } from 'limiter';
import PQueue from 'p-queue';
import {
  auditTime,
  concatMap,
  exhaustMap,
  map,
  mergeMap,
  Observable,
  sampleTime,
  Subject,
  switchMap,
  throttleTime,
  timer,
  type OperatorFunction,
} from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import {
  BufferOverflowError,
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferPriority,
  bufferSliding,
  leakyBucket,
  pullMap,
  tokenBucket,
  withVirtualTime,
  type DropReason,
} from 'rxjs-backpressure';
import { recordDrops as recordDropsOf } from 'rxjs-backpressure/testing';
import { recordDrops, testScheduler } from '../helpers/marbles';

const docs = join(resolve(__dirname, '../..'), 'docs');
const page = readFileSync(join(docs, 'choosing.md'), 'utf8');

/** The "By problem" table: each row's cells, the header and the delimiter row left out. */
function problemRows(): { problem: string; use: string; diagram: string }[] {
  const start = page.indexOf('\n## By problem\n');
  const end = page.indexOf('\n## ', start + 1);
  return page
    .slice(start, end)
    .split('\n')
    .filter((row) => row.startsWith('|'))
    .slice(2)
    .map((row) => {
      const [problem, use, diagram] = row
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return { problem: problem!, use: use!, diagram: diagram! };
    });
}

/** The `###` headings of a `##` part of the page, in order. */
function sectionsOf(part: string): string[] {
  const start = page.indexOf(`\n## ${part}\n`);
  if (start < 0) throw new Error(`docs/choosing.md has no part "## ${part}"`);
  const end = page.indexOf('\n## ', start + 1);
  const body = page.slice(start, end < 0 ? undefined : end);
  return [...body.matchAll(/^### (.+)$/gm)].map(([, title]) => title!);
}

/**
 * The first ```text block after the heading `### title`: each line `label: marbles` (a label ends at
 * the last colon followed by two spaces or more). `onDrop` lines list drops as `b 'overflow' @2`.
 */
function diagram(title: string): Map<string, string> {
  const at = page.indexOf(`\n### ${title}\n`);
  if (at < 0) throw new Error(`docs/choosing.md has no section "### ${title}"`);
  const block = /^```text\n([\s\S]*?)^```$/m.exec(page.slice(at))?.[1];
  if (block === undefined) throw new Error(`section "${title}" has no text block`);
  const lines = new Map<string, string>();
  for (const line of block.split('\n')) {
    const m = /^(.*\S):\s{2,}(\S.*)$/.exec(line);
    if (m) lines.set(m[1]!.trim(), m[2]!.trim());
  }
  return lines;
}

function line(d: Map<string, string>, label: string): string {
  const marbles = d.get(label);
  if (marbles === undefined)
    throw new Error(`no line "${label}:" in the diagram (has ${[...d.keys()].join(', ')})`);
  return marbles;
}

/** `b 'overflow' @2, c 'overflow' @3` → records. */
function dropsOf(text: string): { value: string; reason: string; time: number }[] {
  return [...text.matchAll(/(\w+) '([\w-]+)' @(\d+)/g)].map(([, value, reason, time]) => ({
    value: value!,
    reason: reason!,
    time: Number(time),
  }));
}

type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

/** The work of every RxJS diagram: 3 frames, then the value in upper case. */
const work = (cold: Helpers['cold']) => (v: string) => cold('---(x|)', { x: v.toUpperCase() });
const LETTERS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
/** Marble values: each letter stands for itself, in either case. */
const VALUES = Object.fromEntries(
  LETTERS.flatMap((c) => [
    [c, c],
    [c.toUpperCase(), c.toUpperCase()],
  ]),
);

/**
 * Runs the section's diagram: `source` through each `[label, operator]`, expecting the line of that
 * label; `drops` pairs an operator's label with the label of its `onDrop` line.
 */
function runDiagram(
  title: string,
  operators: (
    helpers: Helpers,
    onDrop: (label: string) => (value: string, reason: DropReason) => void,
  ) => [label: string, operator: OperatorFunction<string, string>, error?: unknown][],
): void {
  const d = diagram(title);
  const scheduler = testScheduler();
  const recorders = new Map<string, ReturnType<typeof recordDrops<string>>>();
  scheduler.run((helpers) => {
    const onDrop = (label: string) => {
      const recorder = recordDrops<string>(scheduler);
      recorders.set(label, recorder);
      return recorder.onDrop;
    };
    for (const [label, operator, error] of operators(helpers, onDrop)) {
      helpers
        .expectObservable(helpers.hot(line(d, 'source')).pipe(operator))
        .toBe(line(d, label), VALUES, error);
    }
  });
  for (const [label, recorder] of recorders) {
    expect({
      label,
      drops: recorder.timeline.map(({ value, reason, frame }) => ({ value, reason, time: frame })),
    }).toEqual({
      label,
      drops: dropsOf(line(d, `onDrop of ${label}`)),
    });
  }
}

const RXJS = [
  '`concatMap(p)`',
  '`mergeMap(p, n)`',
  '`exhaustMap(p)`',
  '`switchMap(p)`',
  '`throttleTime(d)`',
  '`auditTime(d)`',
  '`sampleTime(d)`',
];
const LIBRARIES = ['Bottleneck', 'p-queue', '`limiter`', 'core.async channels'];

describe('docs/choosing.md', () => {
  it('has one section per equivalence tested here, in this order', () => {
    expect(sectionsOf('Coming from RxJS')).toEqual(RXJS);
    expect(sectionsOf('Coming from other libraries')).toEqual(LIBRARIES);
  });

  it('embeds or links the diagram of every operator it recommends', () => {
    for (const name of [
      'bufferFixed',
      'bufferDropping',
      'bufferSliding',
      'bufferBounded',
      'bufferPriority',
    ]) {
      expect(page).toContain(`diagrams/${name}.svg`);
    }
    for (const name of [
      'tokenBucket',
      'leakyBucket',
      'pullFeedback',
      'pullFrom',
      'pullMap',
      'writeTo',
      'circuitBreaker',
    ]) {
      expect(page).toContain(`diagrams/${name}.svg`);
    }
  });

  it("links, in each row of the table, a diagram that exists and shows that row's operator and option", () => {
    const rows = problemRows();
    expect(rows.length).toBeGreaterThan(15);
    const withoutDiagram: string[] = [];
    for (const { problem, use, diagram } of rows) {
      const path = /\]\(([^)]+\.svg)\)/.exec(diagram)?.[1];
      if (path === undefined) {
        withoutDiagram.push(problem);
        continue;
      }
      expect({ problem, exists: existsSync(join(docs, path)) }).toEqual({ problem, exists: true });
      const name = basename(path, '.svg');
      if (path.startsWith('loadtest/')) {
        // The load test's adaptive-limit chart: adaptiveConcurrency's limit against the workers.
        expect({ problem, name, use }).toEqual({
          problem,
          name: expect.stringMatching(/^adaptive-limit-/),
          use: expect.stringContaining('adaptiveConcurrency'),
        });
        continue;
      }
      const [operator, ...variant] = name.split('-');
      // The operator is named in the row, unless the row applies to any buffer (`ttl`).
      if (!use.startsWith('any buffer')) {
        expect({ problem, use }).toEqual({ problem, use: expect.stringContaining(operator!) });
      }
      // A variant diagram (`-ttl`, `-police`) only where the row uses that option, and the other way
      // round: a row that uses `ttl` or `mode: 'police'` links the diagram drawn with it.
      for (const option of variant) {
        expect({ problem, use }).toEqual({ problem, use: expect.stringContaining(option) });
      }
      if (use.includes('`ttl`'))
        expect({ problem, name }).toEqual({ problem, name: expect.stringMatching(/-ttl$/) });
      if (use.includes("'police'"))
        expect({ problem, name }).toEqual({ problem, name: expect.stringMatching(/-police$/) });
    }
    // No diagram shows a capacity that adapts; the row links the load test instead.
    expect(withoutDiagram).toEqual(['a queue that holds only what can start within 100 ms']);
  });
});

describe('`concatMap(p)`', () => {
  it('bufferFixed(Infinity, p) emits what concatMap emits; a finite capacity errors instead of growing', () => {
    runDiagram('`concatMap(p)`', ({ cold }) => [
      ['concatMap(p)', concatMap(work(cold))],
      ['bufferFixed(Infinity, p)', bufferFixed(Infinity, work(cold))],
      ['bufferFixed(1, p)', bufferFixed(1, work(cold)), new BufferOverflowError(1, 'c', 'bufferFixed')],
    ]);
  });
});

describe('`mergeMap(p, n)`', () => {
  it('bufferFixed(Infinity, p, { concurrency: n }) emits what mergeMap(p, n) emits', () => {
    runDiagram('`mergeMap(p, n)`', ({ cold }) => [
      ['mergeMap(p, 2)', mergeMap(work(cold), 2)],
      ['bufferFixed(Infinity, p, { concurrency: 2 })', bufferFixed(Infinity, work(cold), { concurrency: 2 })],
    ]);
  });
});

describe('`exhaustMap(p)`', () => {
  it('bufferDropping(0, p) emits what exhaustMap emits and reports what it drops; bufferSliding(1, p) keeps the last', () => {
    runDiagram('`exhaustMap(p)`', ({ cold }, onDrop) => [
      ['exhaustMap(p)', exhaustMap(work(cold))],
      ['bufferDropping(0, p)', bufferDropping(0, work(cold), { onDrop: onDrop('bufferDropping(0, p)') })],
      ['bufferSliding(1, p)', bufferSliding(1, work(cold), { onDrop: onDrop('bufferSliding(1, p)') })],
    ]);
  });
});

describe('`switchMap(p)`', () => {
  it('both end on the latest value; switchMap cancels the running call, bufferSliding(1, p) lets it finish', () => {
    runDiagram('`switchMap(p)`', ({ cold }, onDrop) => [
      ['switchMap(p)', switchMap(work(cold))],
      ['bufferSliding(1, p)', bufferSliding(1, work(cold), { onDrop: onDrop('bufferSliding(1, p)') })],
    ]);
  });
});

describe('`throttleTime(d)`', () => {
  it('leakyBucket with capacity 0 emits what throttleTime emits, and reports what it drops', () => {
    runDiagram('`throttleTime(d)`', (_, onDrop) => [
      ['throttleTime(5)', throttleTime(5)],
      [
        'leakyBucket({ interval: 5, capacity: 0 })',
        leakyBucket({
          interval: 5,
          capacity: 0,
          onDrop: onDrop('leakyBucket({ interval: 5, capacity: 0 })'),
        }),
      ],
      [
        'throttleTime(5, s, { trailing: true })',
        throttleTime(5, undefined, { leading: true, trailing: true }),
      ],
      [
        "leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' })",
        leakyBucket({
          interval: 5,
          capacity: 1,
          overflow: 'drop-oldest',
          onDrop: onDrop("leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' })"),
        }),
      ],
      ['leakyBucket({ interval: 5 })', leakyBucket({ interval: 5 })],
    ]);
  });
});

describe('`auditTime(d)`', () => {
  it('auditTime delays the first value of a burst by d; the leaky bucket emits it at once', () => {
    runDiagram('`auditTime(d)`', () => [
      ['auditTime(5)', auditTime(5)],
      [
        "leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' })",
        leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' }),
      ],
    ]);
  });
});

describe('`sampleTime(d)`', () => {
  it('sampleTime emits on a fixed clock; the leaky bucket emits at once after a pause', () => {
    runDiagram('`sampleTime(d)`', () => [
      ['sampleTime(5)', sampleTime(5)],
      [
        "leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' })",
        leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' }),
      ],
    ]);
  });

  it('sampleTime keeps a timer while the source is idle; the leaky bucket keeps none', () => {
    const pending = (operator: OperatorFunction<string, string>): number => {
      return withVirtualTime((scheduler) => {
        const source = new Subject<string>();
        const subscription = source.pipe(operator).subscribe();
        source.next('a');
        scheduler.advanceBy(60_000); // a minute without a value
        const count = scheduler.pendingCount;
        subscription.unsubscribe();
        return count;
      });
    };
    expect(pending(sampleTime(5))).toBe(1);
    expect(pending(leakyBucket({ interval: 5, capacity: 1, overflow: 'drop-oldest' }))).toBe(0);
  });
});

// ---- Other libraries ----

/** A value arriving at a time (ms), with a Bottleneck priority (0 most important, 9 least; 5 default). */
interface Arrival {
  value: string;
  at: number;
  priority?: number;
}

interface Run {
  /** Values in the order their work started, with the start time. */
  started: [string, number][];
  dropped: string[];
}

/** Our operator in virtual time: `arrivals` pushed at their times, the work `jobMs` long. */
function runOurs(
  arrivals: Arrival[],
  jobMs: number,
  operator: (
    job: (a: Arrival) => Observable<string>,
    dropped: (a: Arrival) => void,
  ) => OperatorFunction<Arrival, string>,
): Run {
  return withVirtualTime((scheduler) => {
    const run: Run = { started: [], dropped: [] };
    const source = new Subject<Arrival>();
    const job = (a: Arrival) =>
      new Observable<string>((subscriber) => {
        run.started.push([a.value, scheduler.now()]);
        return timer(jobMs)
          .pipe(map(() => a.value))
          .subscribe(subscriber);
      });
    const subscription = source.pipe(operator(job, (a) => run.dropped.push(a.value))).subscribe();
    for (const a of arrivals) scheduler.schedule(() => source.next(a), a.at);
    scheduler.advanceBy(60_000);
    subscription.unsubscribe();
    return run;
  });
}

/** Bottleneck itself, on jest's fake clock: the same arrivals and work. */
async function runBottleneck(
  options: Bottleneck.ConstructorOptions,
  arrivals: Arrival[],
  jobMs: number,
): Promise<Run> {
  // Not at 0: Bottleneck's BLOCK strategy counts itself blocked until its unblock time, initially 0.
  const start = 1_000_000;
  jest.useFakeTimers({ now: start });
  try {
    const run: Run = { started: [], dropped: [] };
    const limiter = new Bottleneck(options);
    limiter.on('dropped', ({ args }: { args: unknown[] }) => run.dropped.push((args[0] as Arrival).value));
    const job = (a: Arrival) =>
      new Promise<string>((done) => {
        run.started.push([a.value, Date.now() - start]);
        setTimeout(() => done(a.value), jobMs);
      });
    for (const a of arrivals) {
      await jest.advanceTimersByTimeAsync(a.at - (Date.now() - start));
      limiter.schedule({ priority: a.priority ?? 5 }, job, a).catch(() => undefined);
    }
    await jest.advanceTimersByTimeAsync(60_000);
    await limiter.stop({ dropWaitingJobs: true });
    return run;
  } finally {
    jest.useRealTimers();
  }
}

/**
 * The same values started in the same order and the same dropped. Bottleneck's own promise chain
 * adds up to 3 ms to each hand-off, so its i-th start is never early and at most 3 × (i + 1) ms late.
 */
function expectSameRun(theirs: Run, ours: Run): void {
  expect(theirs.started.map(([v]) => v)).toEqual(ours.started.map(([v]) => v));
  expect([...theirs.dropped].sort()).toEqual([...ours.dropped].sort());
  theirs.started.forEach(([, time], i) => {
    const late = time - ours.started[i]![1];
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThanOrEqual(3 * (i + 1));
  });
}

/** One arrival per character of `values` (ASCII), `every` ms apart. */
const burst = (values: string, every = 0): Arrival[] =>
  values.split('').map((value, i) => ({ value, at: i * every }));

describe('Bottleneck', () => {
  it('maxConcurrent: n is bufferFixed(Infinity, p, { concurrency: n })', async () => {
    const arrivals = burst('abcde');
    const ours = runOurs(arrivals, 10, (job) => bufferFixed(Infinity, job, { concurrency: 2 }));
    expect(ours.started).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 10],
      ['d', 10],
      ['e', 20],
    ]);
    expectSameRun(await runBottleneck({ maxConcurrent: 2 }, arrivals, 10), ours);
  });

  it('minTime: t is leakyBucket({ interval: t }) in front of the work', async () => {
    const arrivals = burst('abcd');
    const ours = runOurs(
      arrivals,
      10,
      (job) => (source) => source.pipe(leakyBucket({ interval: 100 }), mergeMap(job)),
    );
    expect(ours.started).toEqual([
      ['a', 0],
      ['b', 100],
      ['c', 200],
      ['d', 300],
    ]);
    expectSameRun(await runBottleneck({ minTime: 100 }, arrivals, 10), ours);
  });

  it('reservoir with reservoirIncrease*: tokenBucket with the same maximum, amount and interval', async () => {
    const arrivals = burst('abcde');
    const ours = runOurs(
      arrivals,
      10,
      (job) => (source) =>
        source.pipe(
          tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 500, initialTokens: 2 }),
          mergeMap(job),
        ),
    );
    expect(ours.started).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 500],
      ['d', 1000],
      ['e', 1500],
    ]);
    const theirs = await runBottleneck(
      {
        reservoir: 2,
        reservoirIncreaseAmount: 1,
        reservoirIncreaseInterval: 500,
        reservoirIncreaseMaximum: 2,
      },
      arrivals,
      10,
    );
    expectSameRun(theirs, ours);
  });

  it('reservoir with reservoirRefresh*: refills in one step per window, the token bucket continuously', async () => {
    const arrivals = burst('abcd');
    const ours = runOurs(
      arrivals,
      10,
      (job) => (source) =>
        source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 2, interval: 1000 }), mergeMap(job)),
    );
    const theirs = await runBottleneck(
      { reservoir: 2, reservoirRefreshAmount: 2, reservoirRefreshInterval: 1000 },
      arrivals,
      10,
    );
    expect(theirs.started.map(([v, t]) => [v, Math.round(t / 100) * 100])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 1000],
      ['d', 1000],
    ]);
    expect(ours.started).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 500],
      ['d', 1000],
    ]);
  });

  // One job at a time, 10 ms each; arrivals 1 ms apart, so a runs while b and c wait and d meets highWater 2.
  const crowd = burst('abcd', 1);

  it('highWater + OVERFLOW is bufferDropping(highWater, p): the arrival is dropped', async () => {
    const ours = runOurs(crowd, 10, (job, dropped) => bufferDropping(2, job, { onDrop: dropped }));
    expect(ours).toEqual({
      started: [
        ['a', 0],
        ['b', 10],
        ['c', 20],
      ],
      dropped: ['d'],
    });
    expectSameRun(
      await runBottleneck(
        { maxConcurrent: 1, highWater: 2, strategy: Bottleneck.strategy.OVERFLOW },
        crowd,
        10,
      ),
      ours,
    );
  });

  it('highWater + LEAK is bufferSliding(highWater, p): the oldest waiting job is dropped', async () => {
    const ours = runOurs(crowd, 10, (job, dropped) => bufferSliding(2, job, { onDrop: dropped }));
    expect(ours).toEqual({
      started: [
        ['a', 0],
        ['c', 10],
        ['d', 20],
      ],
      dropped: ['b'],
    });
    expectSameRun(
      await runBottleneck({ maxConcurrent: 1, highWater: 2, strategy: Bottleneck.strategy.LEAK }, crowd, 10),
      ours,
    );
  });

  it('highWater + OVERFLOW_PRIORITY is bufferPriority(highWater, p, { priority }) with the scale turned over', async () => {
    const arrivals: Arrival[] = [
      { value: 'a', at: 0, priority: 5 },
      { value: 'b', at: 1, priority: 7 },
      { value: 'c', at: 2, priority: 5 },
      { value: 'd', at: 3, priority: 3 },
      { value: 'e', at: 4, priority: 9 },
    ];
    const ours = runOurs(arrivals, 10, (job, dropped) =>
      bufferPriority(2, job, { priority: (a) => -(a.priority ?? 5), onDrop: dropped }),
    );
    expect(ours).toEqual({
      started: [
        ['a', 0],
        ['d', 10],
        ['c', 20],
      ],
      dropped: ['b', 'e'],
    });
    expectSameRun(
      await runBottleneck(
        { maxConcurrent: 1, highWater: 2, strategy: Bottleneck.strategy.OVERFLOW_PRIORITY },
        arrivals,
        10,
      ),
      ours,
    );
  });

  it("highWater + BLOCK: the nearest is overflow 'drop-queue', which drops the backlog but queues the arrival", async () => {
    // a has started (Bottleneck starts it at 2 ms) when b and c arrive; d meets highWater.
    const arrivals = burst('abcde').map((a, i) => ({ ...a, at: i === 0 ? 0 : 4 + i }));
    const ours = runOurs(arrivals, 10, (job, dropped) =>
      bufferBounded(2, job, { overflow: 'drop-queue', onDrop: dropped }),
    );
    expect(ours).toEqual({
      started: [
        ['a', 0],
        ['d', 10],
        ['e', 20],
      ],
      dropped: ['b', 'c'],
    });
    const theirs = await runBottleneck(
      { maxConcurrent: 1, highWater: 2, strategy: Bottleneck.strategy.BLOCK, penalty: 1000 },
      arrivals,
      10,
    );
    // Bottleneck drops the backlog and the arrival, then refuses everything for `penalty` ms.
    expect(theirs.started.map(([v]) => v)).toEqual(['a']);
    expect([...theirs.dropped].sort()).toEqual(['b', 'c', 'd', 'e']);
  });
});

describe('p-queue', () => {
  type PQueueOptions = NonNullable<ConstructorParameters<typeof PQueue>[0]>;

  /**
   * p-queue itself (6.6.2, its last CommonJS release) on jest's fake clock: `arrivals` added at their
   * times, the work `jobMs` long. Not at 0: p-queue 6 takes its first window to end at time 0, so on
   * a clock reading 0 it resets its count just after the first starts (a burst would start 3 at 0).
   */
  async function runPQueue(options: PQueueOptions, arrivals: Arrival[], jobMs: number): Promise<Run> {
    const start = 1_000_000;
    jest.useFakeTimers({ now: start });
    try {
      const run: Run = { started: [], dropped: [] };
      const queue = new PQueue(options);
      const job = (a: Arrival) => () =>
        new Promise<string>((done) => {
          run.started.push([a.value, Date.now() - start]);
          setTimeout(() => done(a.value), jobMs);
        });
      for (const a of arrivals) {
        await jest.advanceTimersByTimeAsync(a.at - (Date.now() - start));
        void queue.add(job(a));
      }
      await jest.advanceTimersByTimeAsync(60_000);
      expect(queue.size + queue.pending).toBe(0);
      return run;
    } finally {
      jest.useRealTimers();
    }
  }

  /** The most starts in any window [x, x + ms). */
  const busiest = (run: Run, ms: number) =>
    Math.max(...run.started.map(([, t]) => run.started.filter(([, u]) => u >= t && u < t + ms).length));

  /** `intervalCap: 2, interval: 1000` in front of the work, as a token bucket and as a leaky bucket. */
  const bucket =
    (job: (a: Arrival) => Observable<string>): OperatorFunction<Arrival, string> =>
    (source) =>
      source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 2, interval: 1000 }), mergeMap(job));
  const leaky =
    (job: (a: Arrival) => Observable<string>): OperatorFunction<Arrival, string> =>
    (source) =>
      source.pipe(leakyBucket({ interval: 500 }), mergeMap(job));

  it('concurrency: n is bufferFixed(Infinity, p, { concurrency: n }): at most n at once, the next when one ends', async () => {
    const arrivals = burst('abcde');
    const ours = runOurs(arrivals, 10, (job) => bufferFixed(Infinity, job, { concurrency: 2 }));
    const theirs = await runPQueue({ concurrency: 2 }, arrivals, 10);
    const expected = [
      ['a', 0],
      ['b', 0],
      ['c', 10],
      ['d', 10],
      ['e', 20],
    ];
    expect(theirs.started).toEqual(expected);
    expect(ours.started).toEqual(expected);
  });

  it('intervalCap: n, interval: t: p-queue counts per fixed window; tokenBucket has the same burst and rate, leakyBucket caps any window', async () => {
    const arrivals = burst('abcd');
    const theirs = await runPQueue({ intervalCap: 2, interval: 1000 }, arrivals, 10);
    expect(theirs.started).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 1000],
      ['d', 1000],
    ]);
    expect(busiest(theirs, 1000)).toBe(2);
    const tokens = runOurs(arrivals, 10, bucket);
    expect(tokens.started).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 500],
      ['d', 1000],
    ]);
    expect(busiest(tokens, 1000)).toBe(3);
    const spaced = runOurs(arrivals, 10, leaky);
    expect(spaced.started).toEqual([
      ['a', 0],
      ['b', 500],
      ['c', 1000],
      ['d', 1500],
    ]);
    expect(busiest(spaced, 1000)).toBe(2);
  });

  it("across a window's end p-queue starts more than intervalCap within one interval; leakyBucket does not", async () => {
    const arrivals: Arrival[] = [
      { value: 'a', at: 0 },
      { value: 'b', at: 999 },
      { value: 'c', at: 999 },
      { value: 'd', at: 1000 },
    ];
    const theirs = await runPQueue({ intervalCap: 2, interval: 1000 }, arrivals, 10);
    expect(theirs.started).toEqual([
      ['a', 0],
      ['b', 999],
      ['c', 1000],
      ['d', 1000],
    ]);
    expect(busiest(theirs, 1000)).toBe(3);
    const spaced = runOurs(arrivals, 10, leaky);
    expect(spaced.started).toEqual([
      ['a', 0],
      ['b', 999],
      ['c', 1499],
      ['d', 1999],
    ]);
    expect(busiest(spaced, 1000)).toBe(2);
  });
});

describe('`limiter`', () => {
  /** `limiter`'s removeTokens(1) for each value at once, on jest's fake clock: when each resolved. */
  async function removals(remove: () => Promise<number>, count: number): Promise<number[]> {
    jest.useFakeTimers({ now: 0 });
    try {
      const start = performance.now();
      const times: number[] = [];
      for (let i = 0; i < count; i++) void remove().then(() => times.push(performance.now() - start));
      await jest.advanceTimersByTimeAsync(10_000);
      return times;
    } finally {
      jest.useRealTimers();
    }
  }

  /** Our bucket in virtual time: when each of `count` values arriving at once is emitted. */
  const emissions = (operator: OperatorFunction<number, number>, count: number) =>
    withVirtualTime((scheduler) => {
      const times: number[] = [];
      const source = new Subject<number>();
      const subscription = source.pipe(operator).subscribe(() => times.push(scheduler.now()));
      for (let i = 0; i < count; i++) source.next(i);
      scheduler.advanceBy(10_000);
      subscription.unsubscribe();
      return times;
    });

  it("TokenBucket({ bucketSize, tokensPerInterval, interval }) is tokenBucket with initialTokens 0 (limiter's starts empty)", async () => {
    const bucket = new TokenBucket({ bucketSize: 2, tokensPerInterval: 2, interval: 1000 });
    const theirs = await removals(() => bucket.removeTokens(1), 4);
    const ours = emissions(
      tokenBucket({ capacity: 2, tokensPerInterval: 2, interval: 1000, initialTokens: 0 }),
      4,
    );
    expect(ours).toEqual([500, 1000, 1500, 2000]);
    expect(theirs).toEqual(ours);
  });

  it('RateLimiter({ tokensPerInterval: n, interval }): the same burst and rate as tokenBucket, but counted per fixed window too', async () => {
    const limiter = new RateLimiter({ tokensPerInterval: 2, interval: 1000 });
    const theirs = await removals(() => limiter.removeTokens(1), 4);
    const ours = emissions(tokenBucket({ capacity: 2, tokensPerInterval: 2, interval: 1000 }), 4);
    expect(theirs).toEqual([0, 0, 1000, 1000]);
    expect(ours).toEqual([0, 0, 500, 1000]);
  });

  it("tryRemoveTokens (refuse instead of wait) is mode: 'police'", () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const limiter = new RateLimiter({ tokensPerInterval: 2, interval: 1000 });
      expect([1, 2, 3, 4].map(() => limiter.tryRemoveTokens(1))).toEqual([true, true, false, false]);
    } finally {
      jest.useRealTimers();
    }
    const drops = recordDropsOf<number>();
    const passed = emissions(
      tokenBucket({
        capacity: 2,
        tokensPerInterval: 2,
        interval: 1000,
        mode: 'police',
        onDrop: drops.onDrop,
      }),
      4,
    );
    expect(passed).toEqual([0, 0]);
    expect(drops.valuesFor('rejected')).toEqual([2, 3]);
  });
});

describe('core.async channels', () => {
  // The producer puts 0..9 at once; the consumer takes one at a time, 10 ms each.
  const puts = burst('0123456789');

  it('(chan (dropping-buffer n)) is bufferDropping(n, p): puts beyond n are dropped', () => {
    const run = runOurs(puts, 10, (job, dropped) => bufferDropping(5, job, { onDrop: dropped }));
    expect(run.started.map(([v]) => v)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(run.dropped).toEqual(['6', '7', '8', '9']);
  });

  it('(chan (sliding-buffer n)) is bufferSliding(n, p): the oldest buffered value makes room', () => {
    const run = runOurs(puts, 10, (job, dropped) => bufferSliding(5, job, { onDrop: dropped }));
    expect(run.started.map(([v]) => v)).toEqual(['0', '5', '6', '7', '8', '9']);
    expect(run.dropped).toEqual(['1', '2', '3', '4']);
  });

  it('(chan n) with a producer that cannot wait is bufferFixed(n, p): a put to a full buffer is an error', () => {
    withVirtualTime((scheduler) => {
      let error: unknown;
      const source = new Subject<string>();
      source
        .pipe(bufferFixed(5, (v) => timer(10).pipe(map(() => v))))
        .subscribe({ error: (e: unknown) => (error = e) });
      for (const { value } of puts) source.next(value);
      scheduler.advanceBy(100);
      expect(error).toEqual(new BufferOverflowError(5, '6', 'bufferFixed'));
    });
  });

  it('(chan) with a producer that can wait is pullMap: the next value is taken only when the consumer is done', () => {
    withVirtualTime((scheduler) => {
      const log: string[] = [];
      function* producer() {
        for (let i = 0; i < 3; i++) {
          log.push(`put ${i} at ${scheduler.now()}`);
          yield i;
        }
      }
      const subscription = pullMap(producer(), (v) => timer(10).pipe(map(() => v))).subscribe((v) =>
        log.push(`took ${v} at ${scheduler.now()}`),
      );
      scheduler.advanceBy(100);
      subscription.unsubscribe();
      expect(log).toEqual([
        'put 0 at 0',
        'took 0 at 10',
        'put 1 at 10',
        'took 1 at 20',
        'put 2 at 20',
        'took 2 at 30',
      ]);
    });
  });
});
