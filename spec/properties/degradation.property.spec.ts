import fc from 'fast-check';
import { BehaviorSubject, Observable, of, Subject, type Subscriber } from 'rxjs';
import { isBufferOverflowError, ManualTimeScheduler, type DropReason } from 'rxjs-backpressure';
import { BUFFERS, type AnyBufferOptions, type BufferCase } from '../helpers/buffers';

/*
 * Issue 8 over random schedules: random arrivals (with random priorities), inners finished or failed
 * by hand, virtual time moved by hand on a ManualTimeScheduler (the operator's only timer is its expiry
 * action), capacity and concurrency changed at random through BehaviorSubjects, a random ttl and a
 * random onError. A reference model written from the rules of issue 8 runs beside the operator; after
 * every step both must agree on what reached `project` (value, index and time), what was reported to
 * `onDrop` (value, reason and time), what runs, what was emitted and how the output ended.
 *
 * The invariants the issue names are also checked directly, without the model:
 * - conservation: every value that arrived was released or dropped, exactly once, and the drops add
 *   up by reason;
 * - order: a value leaves the queue before every value still waiting that arrived after it (the
 *   arrival-order buffers), or before every value of lower priority and every later one of equal
 *   priority (bufferPriority);
 * - nothing waits longer than ttl: released values waited at most ttl, expired ones exactly ttl;
 * - bounds: project is only called while fewer than the concurrency in force run, and the number
 *   waiting never grows beyond the capacity in force (what already waited when it was lowered may
 *   stay).
 * - at most one expiry action is pending, and none while nothing waits or once the output has ended.
 */

type Step =
  | { kind: 'arrive'; rank: number }
  | { kind: 'finish'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'capacity'; value: number }
  | { kind: 'concurrency'; value: number };

type Ending = 'complete' | 'unsubscribe' | 'sourceError' | 'limitError' | 'badLimit';
type OnErrorMode = 'error' | 'continue' | 'fallback';

interface Scenario {
  buffer: number;
  capacity: number;
  concurrency: number;
  /** Limits as BehaviorSubjects (changed by the steps) or as numbers (the steps that change them do nothing). */
  dynamic: boolean;
  ttl: number;
  onError: OnErrorMode;
  delayError: boolean;
  /** Value `v` completes synchronously in project when `syncMask[v % syncMask.length]`. */
  syncMask: boolean[];
  steps: Step[];
  ending: Ending;
}

/** What a fallback emits for value `v`. */
const fallbackValue = (v: number): number => 1000 + v;

type Outcome = { kind: 'open' } | { kind: 'complete' } | { kind: 'error'; error: unknown };

/** Stands for the BufferOverflowError (with the capacity then in force) in the model's outcome. */
interface OverflowMarker {
  overflow: true;
  capacity: number;
  value: number;
}
/** Stands for the RangeError of a limit value that fails its check. */
const BAD_LIMIT = Symbol('RangeError');

interface Waiting {
  v: number;
  arrival: number;
  rank: number;
}

/** The rules of issue 8 for the five buffers, as plain state. */
class Model {
  readonly projected: [number, number, number][] = [];
  readonly drops: [number, DropReason, number][] = [];
  readonly emitted: number[] = [];
  running: number[] = [];
  queue: Waiting[] = [];
  outcome: Outcome = { kind: 'open' };
  unsubscribed = false;
  now = 0;
  capacity: number;
  concurrency: number;
  private sourceDone = false;
  private pendingError: { error: unknown } | undefined;

  constructor(
    private readonly s: Scenario,
    private readonly buffer: BufferCase,
    private readonly isSync: (v: number) => boolean,
  ) {
    this.capacity = s.capacity;
    this.concurrency = s.concurrency;
  }

  get closed(): boolean {
    return this.outcome.kind !== 'open' || this.unsubscribed;
  }

  arrive(v: number, rank: number): void {
    const { overflow } = this.buffer;
    if (this.running.length < this.concurrency && this.queue.length === 0) {
      this.start(v);
    } else if (this.queue.length < this.capacity) {
      this.queue.push({ v, arrival: this.now, rank });
    } else if (overflow === 'error') {
      this.drop(v, 'overflow');
      this.fail({ overflow: true, capacity: this.capacity, value: v } satisfies OverflowMarker);
      return;
    } else if (overflow === 'priority') {
      let lowest: Waiting | undefined;
      for (const w of this.queue) if (!lowest || w.rank < lowest.rank) lowest = w;
      if (lowest && lowest.rank < rank) {
        this.queue = this.queue.filter((w) => w !== lowest);
        this.queue.push({ v, arrival: this.now, rank });
        this.drop(lowest.v, 'shed');
      } else {
        this.drop(v, 'shed');
      }
    } else if (this.queue.length === 0 || overflow === 'drop-incoming') {
      this.drop(v, 'overflow');
    } else if (overflow === 'drop-oldest') {
      const evicted = this.queue.shift()!;
      this.queue.push({ v, arrival: this.now, rank });
      this.drop(evicted.v, 'overflow');
    } else if (overflow === 'drop-newest-queued') {
      const evicted = this.queue.pop()!;
      this.queue.push({ v, arrival: this.now, rank });
      this.drop(evicted.v, 'overflow');
    } else {
      const evicted = this.queue;
      this.queue = [{ v, arrival: this.now, rank }];
      for (const w of evicted) this.drop(w.v, 'overflow');
    }
    this.drain();
  }

  finish(v: number): void {
    this.running = this.running.filter((r) => r !== v);
    this.emitted.push(v);
    this.drain();
  }

  failInner(v: number, error: unknown): void {
    if (this.s.onError === 'error') {
      this.fail(error);
      return;
    }
    this.running = this.running.filter((r) => r !== v);
    if (this.s.onError === 'fallback') this.emitted.push(fallbackValue(v));
    this.drain();
  }

  advance(ms: number): void {
    const target = this.now + ms;
    const { ttl } = this.s;
    // The expiry action runs at each deadline on the way; nothing else changes meanwhile.
    while (this.queue.length > 0 && this.queue[0]!.arrival + ttl <= target) {
      const deadline = this.queue[0]!.arrival + ttl;
      this.now = Math.max(this.now, deadline);
      while (this.queue.length > 0 && this.queue[0]!.arrival + ttl <= this.now) {
        this.drop(this.queue.shift()!.v, 'expired');
      }
      this.drain();
    }
    this.now = target;
  }

  setCapacity(n: number): void {
    this.capacity = n;
  }

  setConcurrency(n: number): void {
    this.concurrency = n;
    this.drain();
  }

  complete(): void {
    this.sourceDone = true;
    this.drain();
  }

  sourceError(error: unknown): void {
    if (this.s.delayError) {
      this.sourceDone = true;
      this.pendingError = { error };
      this.drain();
    } else {
      this.fail(error);
    }
  }

  fail(error: unknown): void {
    for (const w of this.queue) this.drop(w.v, 'cleared');
    this.queue = [];
    this.running = [];
    this.outcome = { kind: 'error', error };
  }

  unsubscribe(): void {
    for (const w of this.queue) this.drop(w.v, 'cleared');
    this.queue = [];
    this.running = [];
    this.unsubscribed = true;
  }

  private drop(v: number, reason: DropReason): void {
    this.drops.push([v, reason, this.now]);
  }

  private next(): Waiting {
    if (this.buffer.overflow !== 'priority') return this.queue.shift()!;
    let best = this.queue[0]!;
    for (const w of this.queue) if (w.rank > best.rank) best = w;
    this.queue = this.queue.filter((w) => w !== best);
    return best;
  }

  private start(v: number): void {
    this.projected.push([v, v, this.now]);
    if (this.isSync(v)) this.emitted.push(v);
    else this.running.push(v);
  }

  private drain(): void {
    if (this.closed) return;
    while (this.queue.length > 0 && this.running.length < this.concurrency) this.start(this.next().v);
    if (this.sourceDone && this.queue.length === 0 && this.running.length === 0) {
      this.outcome = this.pendingError
        ? { kind: 'error', error: this.pendingError.error }
        : { kind: 'complete' };
    }
  }
}

interface Held {
  value: number;
  subscriber: Subscriber<number>;
}

function runScenario(s: Scenario): void {
  const buffer = BUFFERS[s.buffer]!;
  const isSync = (v: number): boolean => s.syncMask[v % s.syncMask.length]!;
  const model = new Model(s, buffer, isSync);
  const scheduler = new ManualTimeScheduler();
  const source = new Subject<number>();
  const capacity$ = new BehaviorSubject(s.capacity);
  const concurrency$ = new BehaviorSubject(s.concurrency);
  const ranks: number[] = [];
  const arrivals: number[] = [];
  const running: Held[] = [];
  let live = 0;
  let capacityNow = s.capacity;
  let concurrencyNow = s.concurrency;
  const projected: [number, number, number][] = [];
  const drops: [number, DropReason, number][] = [];
  const out: number[] = [];
  let outcome = { kind: 'open' } as Outcome;
  let sourceEnded = false;

  const released = new Set<number>();
  const dropped = new Set<number>();
  const waitingNow = (): number[] =>
    arrivals.map((_, v) => v).filter((v) => !released.has(v) && !dropped.has(v));

  const project = (value: number, index: number): Observable<number> => {
    // Bounds: this value takes a free slot under the concurrency in force.
    expect(live).toBeLessThan(concurrencyNow);
    // Order: it leaves before every value still waiting that should leave after it.
    for (const w of waitingNow()) {
      if (w === value) continue;
      if (buffer.overflow === 'priority') {
        const ahead = ranks[w]! > ranks[value]! || (ranks[w] === ranks[value] && w < value);
        expect(ahead).toBe(false);
      } else {
        expect(w).toBeGreaterThan(value);
      }
    }
    // Never waits longer than ttl.
    expect(scheduler.now() - arrivals[value]!).toBeLessThanOrEqual(s.ttl);
    projected.push([value, index, scheduler.now()]);
    released.add(value);
    if (isSync(value)) {
      return new Observable<number>((subscriber) => {
        live++;
        subscriber.next(value);
        subscriber.complete();
        return () => live--;
      });
    }
    return new Observable<number>((subscriber) => {
      live++;
      const held = { value, subscriber };
      running.push(held);
      return () => {
        live--;
        running.splice(running.indexOf(held), 1);
      };
    });
  };

  const options: AnyBufferOptions<number, number> = {
    concurrency: s.dynamic ? concurrency$ : s.concurrency,
    delayError: s.delayError,
    ttl: s.ttl,
    scheduler,
    onDrop: (v, reason) => {
      drops.push([v, reason, scheduler.now()]);
      expect(dropped.has(v) || released.has(v)).toBe(false);
      dropped.add(v);
    },
    priority: (v: number) => ranks[v]!,
  };
  if (s.onError === 'continue') options.onError = 'continue';
  if (s.onError === 'fallback') options.onError = (_, v) => of(fallbackValue(v));
  const subscription = source
    .pipe(buffer.make(s.dynamic ? capacity$ : s.capacity, project, options))
    .subscribe({
      next: (v) => out.push(v),
      error: (error: unknown) => (outcome = { kind: 'error', error }),
      complete: () => (outcome = { kind: 'complete' }),
    });

  let waitingBefore = 0;
  const check = (): void => {
    expect(projected).toEqual(model.projected);
    expect(drops).toEqual(model.drops);
    expect(out).toEqual(model.emitted);
    expect(running.map((h) => h.value).sort((a, b) => a - b)).toEqual(
      [...model.running].sort((a, b) => a - b),
    );
    expect(live).toBe(running.length);
    expect(outcome.kind).toBe(model.outcome.kind);
    if (outcome.kind === 'error' && model.outcome.kind === 'error') {
      const expected = model.outcome.error;
      if (expected === BAD_LIMIT) {
        expect(outcome.error).toBeInstanceOf(RangeError);
      } else if (typeof expected === 'object' && expected !== null && 'overflow' in expected) {
        const marker = expected as OverflowMarker;
        expect(isBufferOverflowError(outcome.error)).toBe(true);
        expect(outcome.error).toMatchObject({ capacity: marker.capacity, value: marker.value });
      } else {
        expect(outcome.error).toBe(expected);
      }
    }
    // Bounds: what waits only grows while fewer than the capacity in force wait.
    const waiting = waitingNow().length;
    expect(waiting).toBeLessThanOrEqual(Math.max(capacityNow, waitingBefore));
    waitingBefore = waiting;
    // One expiry action while something waits (with a finite ttl), none otherwise.
    const open = outcome.kind === 'open' && !model.unsubscribed;
    expect(scheduler.pendingCount).toBe(open && s.ttl !== Infinity && waiting > 0 ? 1 : 0);
    // The source is listened to until it ends or the output closes.
    expect(source.observed).toBe(!model.closed && !sourceEnded);
  };

  const finish = (held: Held): void => {
    model.finish(held.value);
    held.subscriber.next(held.value);
    held.subscriber.complete();
  };
  const failHeld = (held: Held): void => {
    const error = new Error(`${held.value} failed`);
    model.failInner(held.value, error);
    held.subscriber.error(error);
  };

  for (const step of s.steps) {
    if (model.closed) break;
    switch (step.kind) {
      case 'arrive': {
        const v = arrivals.length;
        arrivals.push(scheduler.now());
        ranks.push(step.rank);
        model.arrive(v, step.rank);
        source.next(v);
        break;
      }
      case 'finish':
        if (running.length > 0) finish(running[step.pick % running.length]!);
        break;
      case 'fail':
        if (running.length > 0) failHeld(running[step.pick % running.length]!);
        break;
      case 'advance':
        model.advance(step.ms);
        scheduler.advanceBy(step.ms);
        break;
      case 'capacity':
        if (s.dynamic) {
          capacityNow = step.value;
          model.setCapacity(step.value);
          capacity$.next(step.value);
        }
        break;
      case 'concurrency':
        if (s.dynamic) {
          concurrencyNow = step.value;
          model.setConcurrency(step.value);
          concurrency$.next(step.value);
        }
        break;
    }
    check();
  }

  if (!model.closed) {
    sourceEnded = s.ending !== 'unsubscribe';
    const ending =
      !s.dynamic && (s.ending === 'limitError' || s.ending === 'badLimit') ? 'complete' : s.ending;
    switch (ending) {
      case 'complete':
        model.complete();
        source.complete();
        break;
      case 'unsubscribe':
        model.unsubscribe();
        subscription.unsubscribe();
        break;
      case 'sourceError': {
        const failure = new Error('source failed');
        model.sourceError(failure);
        source.error(failure);
        break;
      }
      case 'limitError': {
        const failure = new Error('remote config failed');
        sourceEnded = false;
        model.fail(failure);
        capacity$.error(failure);
        break;
      }
      case 'badLimit':
        sourceEnded = false;
        model.fail(BAD_LIMIT);
        concurrency$.next(0);
        break;
    }
    check();
    // Work off whatever still runs or waits, letting a little time pass before each inner ends.
    while (running.length > 0) {
      model.advance(1);
      scheduler.advanceBy(1);
      check();
      if (running.length > 0) finish(running[0]!);
      check();
    }
  }

  // Completion: unless unsubscribed, the output has ended; nothing runs or waits; no action is left.
  expect(outcome.kind === 'open').toBe(model.unsubscribed);
  expect(running).toEqual([]);
  expect(live).toBe(0);
  expect(scheduler.pendingCount).toBe(0);
  expect(capacity$.observed).toBe(false);
  expect(concurrency$.observed).toBe(false);

  // Conservation: received = released + dropped (by reason), each value exactly once.
  const accounted = [...projected.map(([v]) => v), ...drops.map(([v]) => v)].sort((a, b) => a - b);
  expect(accounted).toEqual(arrivals.map((_, v) => v));
  const byReason = new Map<DropReason, number>();
  for (const [, reason] of drops) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  expect(projected.length + [...byReason.values()].reduce((a, b) => a + b, 0)).toBe(arrivals.length);
  // Only the reasons this buffer can give.
  for (const reason of byReason.keys()) {
    expect(['cleared', buffer.dropReason, ...(s.ttl === Infinity ? [] : ['expired'])]).toContain(reason);
  }
  // Index: each value reaches project with its position in the source.
  for (const [v, index] of projected) expect(index).toBe(v);
  // Never waits longer than ttl: an expired value was reported exactly at its deadline.
  for (const [v, reason, time] of drops) {
    if (reason === 'expired') expect(time - arrivals[v]!).toBe(s.ttl);
  }
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 2 }).map<Step>((rank) => ({ kind: 'arrive', rank })) },
  { weight: 2, arbitrary: fc.nat(7).map<Step>((pick) => ({ kind: 'finish', pick })) },
  { weight: 1, arbitrary: fc.nat(7).map<Step>((pick) => ({ kind: 'fail', pick })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 4 }).map<Step>((ms) => ({ kind: 'advance', ms })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(0, 1, 2, 3, Infinity).map<Step>((value) => ({ kind: 'capacity', value })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1, 2, 3, Infinity).map<Step>((value) => ({ kind: 'concurrency', value })),
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  buffer: fc.integer({ min: 0, max: BUFFERS.length - 1 }),
  capacity: fc.constantFrom(0, 1, 2, 3, Infinity),
  concurrency: fc.constantFrom(1, 1, 2, 3, Infinity),
  dynamic: fc.boolean(),
  ttl: fc.constantFrom(Infinity, Infinity, 0, 1, 3, 10),
  onError: fc.constantFrom<OnErrorMode>('continue', 'continue', 'fallback', 'error'),
  delayError: fc.boolean(),
  syncMask: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  // size 'max': fast-check would otherwise keep arrays to about ten steps, too few for long queues.
  steps: fc.array(stepArb, { maxLength: 60, size: 'max' }),
  ending: fc.constantFrom<Ending>(
    'complete',
    'complete',
    'unsubscribe',
    'sourceError',
    'limitError',
    'badLimit',
  ),
});

describe('graceful degradation over random schedules (issue 8)', () => {
  it('agrees with the rules: conservation, order, ttl, the limits in force, one expiry action', () => {
    fc.assert(fc.property(scenarioArb, runScenario), { numRuns: 200 });
  });

  describe.each(BUFFERS.map((b, i) => [b.label, i] as const))('%s alone', (_, index) => {
    it('with ttl, changing limits and failing inners', () => {
      fc.assert(
        fc.property(
          scenarioArb.map((s) => ({
            ...s,
            buffer: index,
            dynamic: true,
            ttl: s.ttl === Infinity ? 5 : s.ttl,
          })),
          runScenario,
        ),
        { numRuns: 60 },
      );
    });
  });
});
