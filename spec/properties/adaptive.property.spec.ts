import fc from 'fast-check';
import { Observable, Subject, tap, type Subscriber } from 'rxjs';
import {
  adaptiveCapacity,
  adaptiveConcurrency,
  CircuitBreaker,
  ManualTimeScheduler,
  OVERFLOW_STRATEGIES,
  pullFeedback,
  pullMap,
  type AdaptiveCapacity,
  type AdaptiveConcurrency,
  type DropReason,
  type OverflowStrategy,
  type ProtectOptions,
} from 'rxjs-backpressure';
import { withVirtualTime } from 'rxjs-backpressure/testing';
import { BUFFERS, type AnyBufferOptions } from '../helpers/buffers';

/*
 * Issue 12, "conservation unchanged on every operator that accepts it": random schedules in virtual
 * time (a ManualTimeScheduler moved by hand, as in the other property specs) through every operator
 * that takes an adaptive limit, with `adaptiveConcurrency()` as `concurrency` (the buffers,
 * bufferPriority, protect, pullMap) and `adaptiveCapacity()` as `capacity` (the buffers,
 * bufferPriority, protect, pullFeedback), alone or together. Inners are finished or failed by hand
 * after random amounts of virtual time, so the round-trip times vary and the limits move.
 *
 * Checked on every run:
 * - conservation: every value that reached the operator was, exactly once, passed on (to `project`,
 *   to a `whenOpen` fallback, or emitted by pullFeedback) or reported to `onDrop`; pullMap (no
 *   `onDrop`) passes every value it pulled to `project` exactly once and delivers every success;
 * - the adaptive limit in force (as `onChange` tells it) stays within [min, max], and `project` is
 *   only called while fewer than that limit run;
 * - determinism: the same schedule run twice gives the same limit history (time, limit).
 */

const ALGORITHMS = ['gradient', 'aimd', 'vegas'] as const;

interface ConcurrencyChoice {
  algorithm: (typeof ALGORITHMS)[number];
  min: number;
  /** max = min + span, initial = min + (offset % (span + 1)). */
  span: number;
  offset: number;
}

interface CapacityChoice {
  maxWait: number;
  min: number;
  max: number;
}

const concurrencyArb: fc.Arbitrary<ConcurrencyChoice> = fc.record({
  algorithm: fc.constantFrom(...ALGORITHMS),
  min: fc.integer({ min: 1, max: 3 }),
  span: fc.integer({ min: 0, max: 5 }),
  offset: fc.nat(5),
});

const capacityArb: fc.Arbitrary<CapacityChoice> = fc.record({
  maxWait: fc.constantFrom(1, 5, 20, 100),
  min: fc.integer({ min: 0, max: 2 }),
  max: fc.constantFrom(2, 3, 5, Infinity),
});

const bounds = (c: ConcurrencyChoice) => ({
  min: c.min,
  max: c.min + c.span,
  initial: c.min + (c.offset % (c.span + 1)),
});

type Step =
  | { kind: 'arrive' }
  | { kind: 'finish'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'grant'; n: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Step>({ kind: 'arrive' }) },
  { weight: 3, arbitrary: fc.nat(7).map<Step>((pick) => ({ kind: 'finish', pick })) },
  { weight: 1, arbitrary: fc.nat(7).map<Step>((pick) => ({ kind: 'fail', pick })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }).map<Step>((ms) => ({ kind: 'advance', ms })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }).map<Step>((n) => ({ kind: 'grant', n })) },
);
// size 'max': long enough schedules for the limits to move.
const stepsArb = fc.array(stepArb, { maxLength: 80, size: 'max' });

type Ending = 'complete' | 'unsubscribe';
const endingArb = fc.constantFrom<Ending>('complete', 'unsubscribe');

/** What one run tells: each value's fates, and the limit history. */
interface Trace {
  arrived: number[];
  fates: Map<number, string[]>;
  limits: [number, number][];
}

/** An adaptive concurrency that records its changes, checks its bounds, and knows the limit in force. */
function recordedConcurrency(
  c: ConcurrencyChoice,
  now: () => number,
  limits: [number, number][],
): { concurrency: AdaptiveConcurrency; limit: () => number } {
  const { min, max, initial } = bounds(c);
  let limit = initial;
  const concurrency = adaptiveConcurrency({
    algorithm: c.algorithm,
    min,
    max,
    initial,
    onChange: (n) => {
      expect(n).toBeGreaterThanOrEqual(min);
      expect(n).toBeLessThanOrEqual(max);
      expect(n).not.toBe(limit); // once per change
      limit = n;
      limits.push([now(), n]);
    },
  });
  return { concurrency, limit: () => limit };
}

const capacityOf = (c: CapacityChoice): AdaptiveCapacity => adaptiveCapacity(c);

interface Held {
  value: number;
  subscriber: Subscriber<number>;
}

/** Inners held open until a step finishes or fails them; `live` counts the subscribed ones. */
function heldInners() {
  const running: Held[] = [];
  return {
    running,
    inner(value: number): Observable<number> {
      return new Observable<number>((subscriber) => {
        const held = { value, subscriber };
        running.push(held);
        return () => {
          running.splice(running.indexOf(held), 1);
        };
      });
    },
    finish(pick: number): void {
      const held = running[pick % running.length];
      if (!held) return;
      held.subscriber.next(held.value);
      held.subscriber.complete();
    },
    fail(pick: number): void {
      const held = running[pick % running.length];
      held?.subscriber.error(new Error(`${String(held.value)} failed`));
    },
  };
}

function checkConservation({ arrived, fates }: Trace): void {
  for (const v of arrived) expect([v, fates.get(v)]).toEqual([v, [expect.any(String)]]);
  expect([...fates.keys()].filter((v) => !arrived.includes(v))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// The buffers and protect: a Subject source, inners held by hand
// ---------------------------------------------------------------------------------------------

type SlotTarget = { kind: 'buffer'; index: number } | { kind: 'protect'; whenOpen: WhenOpen };
type WhenOpen = 'error' | 'drop' | 'wait' | 'fallback';

interface SlotScenario {
  target: SlotTarget;
  /** At least one of the two is adaptive. */
  concurrency: ConcurrencyChoice | number;
  capacity: CapacityChoice | number;
  onError: 'continue' | 'error';
  overflow: OverflowStrategy;
  steps: Step[];
  ending: Ending;
}

const slotTargetArb: fc.Arbitrary<SlotTarget> = fc.oneof(
  {
    weight: BUFFERS.length,
    arbitrary: fc
      .integer({ min: 0, max: BUFFERS.length - 1 })
      .map<SlotTarget>((index) => ({ kind: 'buffer', index })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<WhenOpen>('error', 'drop', 'wait', 'fallback')
      .map<SlotTarget>((whenOpen) => ({ kind: 'protect', whenOpen })),
  },
);

const limitsArb = fc.oneof(
  fc.record({ concurrency: concurrencyArb, capacity: capacityArb }),
  fc.record({ concurrency: concurrencyArb, capacity: fc.constantFrom(0, 1, 3, Infinity) }),
  fc.record({ concurrency: fc.constantFrom(1, 2, Infinity), capacity: capacityArb }),
);

const slotScenarioArb: fc.Arbitrary<SlotScenario> = fc
  .record({
    target: slotTargetArb,
    limits: limitsArb,
    onError: fc.constantFrom<'continue' | 'error'>('continue', 'continue', 'error'),
    overflow: fc.constantFrom(...OVERFLOW_STRATEGIES),
    steps: stepsArb,
    ending: endingArb,
  })
  .map(({ limits, ...rest }) => ({ ...rest, ...limits }));

function runSlots(s: SlotScenario): Trace {
  const scheduler = new ManualTimeScheduler();
  const limits: [number, number][] = [];
  const adaptive =
    typeof s.concurrency === 'number'
      ? undefined
      : recordedConcurrency(s.concurrency, () => scheduler.now(), limits);
  const concurrency = adaptive?.concurrency ?? (s.concurrency as number);
  const limitNow = adaptive ? adaptive.limit : () => s.concurrency as number;
  const capacity = typeof s.capacity === 'number' ? s.capacity : capacityOf(s.capacity);

  const arrived: number[] = [];
  const fates = new Map<number, string[]>();
  const fate = (v: number, what: string): void => {
    fates.set(v, [...(fates.get(v) ?? []), what]);
  };
  const inners = heldInners();
  const project = (v: number): Observable<number> => {
    // The limit in force governs: this value takes a free slot under it.
    expect(inners.running.length).toBeLessThan(limitNow());
    fate(v, 'project');
    return inners.inner(v);
  };
  const onDrop = (v: number, reason: DropReason): void => fate(v, reason);

  const source = new Subject<number>();
  let operator;
  if (s.target.kind === 'buffer') {
    const options: AnyBufferOptions<number, number> = {
      concurrency,
      onError: s.onError,
      onDrop,
      scheduler,
      priority: (v) => v % 3,
    };
    operator = BUFFERS[s.target.index]!.make(capacity, project, options);
  } else {
    const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 20, scheduler });
    const { whenOpen } = s.target;
    const options: ProtectOptions<number, number> = {
      concurrency,
      capacity,
      overflow: s.overflow,
      onError: s.onError,
      onDrop,
      whenOpen:
        whenOpen === 'fallback'
          ? (v: number) => {
              fate(v, 'fallback');
              return [-v];
            }
          : whenOpen,
    };
    operator = breaker.protect(project, options);
  }
  const subscription = source
    .pipe(
      tap((v) => arrived.push(v)),
      operator,
    )
    .subscribe({ error: () => undefined });

  let next = 0;
  for (const step of s.steps) {
    if (!source.observed) break;
    if (step.kind === 'arrive') source.next(next++);
    else if (step.kind === 'finish') inners.finish(step.pick);
    else if (step.kind === 'fail') inners.fail(step.pick);
    else if (step.kind === 'advance') scheduler.advanceBy(step.ms);
  }
  if (s.ending === 'complete') {
    source.complete();
    // Work off what runs and waits (an open breaker lets calls through again after openDuration).
    for (let i = 0; i < 200 && !subscription.closed; i++) {
      scheduler.advanceBy(3);
      inners.finish(0);
    }
  }
  subscription.unsubscribe();
  expect(inners.running).toEqual([]);
  return { arrived, fates, limits };
}

// ---------------------------------------------------------------------------------------------
// pullFeedback: adaptive capacity, sized by how fast demand takes values
// ---------------------------------------------------------------------------------------------

interface FeedbackScenario {
  capacity: CapacityChoice;
  overflow: OverflowStrategy;
  initialDemand: number;
  steps: Step[];
  ending: Ending;
}

const feedbackScenarioArb: fc.Arbitrary<FeedbackScenario> = fc.record({
  capacity: capacityArb,
  overflow: fc.constantFrom(...OVERFLOW_STRATEGIES),
  initialDemand: fc.integer({ min: 0, max: 3 }),
  steps: stepsArb,
  ending: endingArb,
});

function runFeedback(s: FeedbackScenario): Trace {
  const scheduler = new ManualTimeScheduler();
  const arrived: number[] = [];
  const fates = new Map<number, string[]>();
  const fate = (v: number, what: string): void => {
    fates.set(v, [...(fates.get(v) ?? []), what]);
  };
  const source = new Subject<number>();
  const demand = new Subject<number>();
  const subscription = source
    .pipe(
      tap((v) => arrived.push(v)),
      pullFeedback(demand, {
        capacity: capacityOf(s.capacity),
        overflow: s.overflow,
        initialDemand: s.initialDemand,
        scheduler,
        onDrop: (v, reason) => fate(v, reason),
      }),
    )
    .subscribe({ next: (v) => fate(v, 'emitted'), error: () => undefined });
  let next = 0;
  for (const step of s.steps) {
    if (!source.observed) break;
    if (step.kind === 'arrive') source.next(next++);
    else if (step.kind === 'grant') demand.next(step.n);
    else if (step.kind === 'advance') scheduler.advanceBy(step.ms);
    else demand.next(1); // finish/fail: the consumer takes one more
  }
  if (s.ending === 'complete' && source.observed) {
    source.complete();
    demand.next(Infinity);
    expect(subscription.closed).toBe(true);
  }
  subscription.unsubscribe();
  return { arrived, fates, limits: [] };
}

// ---------------------------------------------------------------------------------------------
// pullMap: adaptive concurrency, timed on the default scheduler (virtual under withVirtualTime)
// ---------------------------------------------------------------------------------------------

interface PullMapScenario {
  concurrency: ConcurrencyChoice;
  length: number;
  ordered: boolean;
  steps: Step[];
  ending: Ending;
}

const pullMapScenarioArb: fc.Arbitrary<PullMapScenario> = fc.record({
  concurrency: concurrencyArb,
  length: fc.integer({ min: 0, max: 40 }),
  ordered: fc.boolean(),
  steps: stepsArb,
  ending: endingArb,
});

function runPullMap(s: PullMapScenario): Trace {
  return withVirtualTime((scheduler) => {
    const limits: [number, number][] = [];
    const { concurrency, limit } = recordedConcurrency(s.concurrency, () => scheduler.now(), limits);
    const pulled: number[] = [];
    const fates = new Map<number, string[]>();
    const fate = (v: number, what: string): void => {
      fates.set(v, [...(fates.get(v) ?? []), what]);
    };
    const inners = heldInners();
    const failed = new Set<number>();
    const delivered: number[] = [];
    const input: Iterable<number> = {
      *[Symbol.iterator]() {
        for (let i = 0; i < s.length; i++) {
          pulled.push(i);
          yield i;
        }
      },
    };
    let completed = false;
    const subscription = pullMap(
      input,
      (v: number) => {
        expect(inners.running.length).toBeLessThan(limit());
        fate(v, 'project');
        return inners.inner(v);
      },
      { concurrency, ordered: s.ordered, onError: 'continue' },
    ).subscribe({ next: (v) => delivered.push(v), complete: () => (completed = true) });
    const fail = (pick: number): void => {
      const held = inners.running[pick % inners.running.length];
      if (held) failed.add(held.value);
      inners.fail(pick);
    };
    for (const step of s.steps) {
      if (step.kind === 'finish') inners.finish(step.pick);
      else if (step.kind === 'fail') fail(step.pick);
      else if (step.kind === 'advance') scheduler.advanceBy(step.ms);
    }
    if (s.ending === 'complete') {
      while (inners.running.length > 0) {
        scheduler.advanceBy(2);
        inners.finish(0);
      }
      expect(completed).toBe(true);
      expect(pulled).toHaveLength(s.length);
      // Every success delivered, once; every failure swallowed ('continue').
      expect([...delivered].sort((a, b) => a - b)).toEqual(pulled.filter((v) => !failed.has(v)));
    }
    subscription.unsubscribe();
    expect(inners.running).toEqual([]);
    return { arrived: pulled, fates, limits };
  });
}

// ---------------------------------------------------------------------------------------------

/** Runs a scenario twice: conservation on the first run, the same limit history on the second. */
function twice<S>(run: (s: S) => Trace): (s: S) => void {
  return (s) => {
    const first = run(s);
    checkConservation(first);
    const second = run(s);
    expect(second.limits).toEqual(first.limits);
    expect(second.fates).toEqual(first.fates);
  };
}

describe('adaptive limits over random schedules in virtual time (issue 12)', () => {
  it('the buffers, bufferPriority and protect: conservation, the limit in force, determinism', () => {
    fc.assert(fc.property(slotScenarioArb, twice(runSlots)), { numRuns: 300 });
  });

  /** Scenarios for one target, both limits adaptive. */
  const bothAdaptive = (target: fc.Arbitrary<SlotTarget>): fc.Arbitrary<SlotScenario> =>
    fc
      .tuple(slotScenarioArb, target, concurrencyArb, capacityArb)
      .map(([s, t, concurrency, capacity]) => ({ ...s, target: t, concurrency, capacity }));

  it.each(BUFFERS.map((b, index) => [b.label, index] as const))(
    '%s with both limits adaptive',
    (_, index) => {
      fc.assert(
        fc.property(bothAdaptive(fc.constant<SlotTarget>({ kind: 'buffer', index })), twice(runSlots)),
        {
          numRuns: 60,
        },
      );
    },
  );

  it('protect with both limits adaptive, every whenOpen', () => {
    const protect = fc
      .constantFrom<WhenOpen>('error', 'drop', 'wait', 'fallback')
      .map<SlotTarget>((whenOpen) => ({ kind: 'protect', whenOpen }));
    fc.assert(fc.property(bothAdaptive(protect), twice(runSlots)), { numRuns: 100 });
  });

  it('pullFeedback with an adaptive capacity: every value emitted or dropped, once', () => {
    fc.assert(fc.property(feedbackScenarioArb, twice(runFeedback)), { numRuns: 200 });
  });

  it('pullMap with an adaptive concurrency: every pulled value reaches project once, every success is delivered', () => {
    fc.assert(fc.property(pullMapScenarioArb, twice(runPullMap)), { numRuns: 150 });
  });
});
