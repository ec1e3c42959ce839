import fc from 'fast-check';
import { concat, concatMap, exhaustMap, from, ignoreElements, Observable, of, Subject, throttle } from 'rxjs';
import type { ObservableInput, OperatorFunction, Subscriber } from 'rxjs';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferSliding,
  isBufferOverflowError,
  OVERFLOW_STRATEGIES,
  type DropReason,
  type OverflowStrategy,
} from 'rxjs-backpressure';
import { testScheduler } from '../helpers/marbles';

/*
 * Hand-driven schedules: the source is a Subject, every inner is held open until the schedule
 * finishes it (or completes at once, for values marked synchronous). A reference model written from
 * the rules of issue 2 runs beside the operator; after every step both must agree on what reached
 * `project` (value and index), what was reported to `onDrop` (value and reason), which inners run,
 * and how the output ended. The invariants (conservation, arrival order, the bounds, completion) are
 * also checked directly.
 */

type Step = { kind: 'arrive' } | { kind: 'finish'; pick: number };
type Ending = 'complete' | 'unsubscribe' | 'innerError' | 'sourceError';

interface Scenario {
  capacity: number;
  concurrency: number;
  overflow: OverflowStrategy;
  delayError: boolean;
  /** Value `v` completes synchronously when `syncMask[v % syncMask.length]`. */
  syncMask: boolean[];
  steps: Step[];
  ending: Ending;
  /** Use bufferFixed/bufferDropping/bufferSliding instead of bufferBounded when the strategy is theirs. */
  named: boolean;
}

type BufferOperator = (
  capacity: number,
  project: (value: number, index: number) => Observable<number>,
  options: { concurrency: number; delayError: boolean; onDrop: (value: number, reason: DropReason) => void },
) => OperatorFunction<number, number>;

const NAMED: Partial<Record<OverflowStrategy, BufferOperator>> = {
  error: bufferFixed,
  'drop-incoming': bufferDropping,
  'drop-oldest': bufferSliding,
};

function operatorFor(s: Scenario): BufferOperator {
  const named = NAMED[s.overflow];
  if (s.named && named) return named;
  return (capacity, project, options) =>
    bufferBounded(capacity, project, { ...options, overflow: s.overflow });
}

type Outcome = { kind: 'open' } | { kind: 'complete' } | { kind: 'error'; error: unknown };

/** Stands for the BufferOverflowError in the model's outcome. */
const OVERFLOW = Symbol('BufferOverflowError');

/** The rules of the bounded buffers, as plain state. */
class Model {
  readonly projected: [number, number][] = [];
  readonly drops: [number, DropReason][] = [];
  running: number[] = [];
  queue: number[] = [];
  outcome: Outcome = { kind: 'open' };
  unsubscribed = false;
  private arrived = 0;
  private sourceDone = false;
  private pendingError: { error: unknown } | undefined;

  constructor(
    private readonly s: Scenario,
    private readonly isSync: (v: number) => boolean,
  ) {}

  get closed(): boolean {
    return this.outcome.kind !== 'open' || this.unsubscribed;
  }

  arrive(): number {
    const v = this.arrived++;
    const { capacity, concurrency, overflow } = this.s;
    if (this.running.length < concurrency && this.queue.length === 0) {
      this.start(v);
    } else if (this.queue.length < capacity) {
      this.queue.push(v);
    } else if (overflow === 'error') {
      this.drops.push([v, 'overflow']);
      this.fail(OVERFLOW);
      return v;
    } else if (capacity === 0 || overflow === 'drop-incoming') {
      this.drops.push([v, 'overflow']);
    } else if (overflow === 'drop-oldest') {
      this.drops.push([this.queue.shift()!, 'overflow']);
      this.queue.push(v);
    } else if (overflow === 'drop-newest-queued') {
      this.drops.push([this.queue.pop()!, 'overflow']);
      this.queue.push(v);
    } else {
      for (const evicted of this.queue) this.drops.push([evicted, 'overflow']);
      this.queue = [v];
    }
    this.drain();
    return v;
  }

  finish(v: number): void {
    this.running = this.running.filter((r) => r !== v);
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
    this.clear();
    this.outcome = { kind: 'error', error };
  }

  unsubscribe(): void {
    this.clear();
    this.unsubscribed = true;
  }

  private clear(): void {
    for (const v of this.queue) this.drops.push([v, 'cleared']);
    this.queue = [];
    this.running = [];
  }

  private start(v: number): void {
    this.projected.push([v, v]);
    if (!this.isSync(v)) this.running.push(v);
  }

  private drain(): void {
    while (this.queue.length > 0 && this.running.length < this.s.concurrency) this.start(this.queue.shift()!);
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
  const isSync = (v: number): boolean => s.syncMask[v % s.syncMask.length]!;
  const model = new Model(s, isSync);
  const source = new Subject<number>();
  const running: Held[] = [];
  let live = 0;
  let arrived = 0;
  const projected: [number, number][] = [];
  const drops: [number, DropReason][] = [];
  const output: number[] = [];
  const finishedOrder: number[] = [];
  let outcome = { kind: 'open' } as Outcome;
  let sourceEnded = false;

  const project = (value: number, index: number): Observable<number> => {
    // The bound on running inners, seen from project: this value takes a free slot.
    expect(live).toBeLessThan(s.concurrency);
    projected.push([value, index]);
    if (isSync(value)) {
      return new Observable<number>((subscriber) => {
        live++;
        finishedOrder.push(value);
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

  const subscription = source
    .pipe(
      operatorFor(s)(s.capacity, project, {
        concurrency: s.concurrency,
        delayError: s.delayError,
        onDrop: (v, reason) => drops.push([v, reason]),
      }),
    )
    .subscribe({
      next: (v) => output.push(v),
      error: (error: unknown) => (outcome = { kind: 'error', error }),
      complete: () => (outcome = { kind: 'complete' }),
    });

  const check = (): void => {
    expect(projected).toEqual(model.projected);
    expect(drops).toEqual(model.drops);
    expect(running.map((h) => h.value).sort((a, b) => a - b)).toEqual(
      [...model.running].sort((a, b) => a - b),
    );
    expect(live).toBe(running.length);
    expect(outcome.kind).toBe(model.outcome.kind);
    if (outcome.kind === 'error' && model.outcome.kind === 'error') {
      if (model.outcome.error === OVERFLOW) {
        expect(isBufferOverflowError(outcome.error)).toBe(true);
        expect(outcome.error).toMatchObject({ capacity: s.capacity, value: arrived - 1 });
      } else {
        expect(outcome.error).toBe(model.outcome.error);
      }
    }
    // The bounds: never more than `concurrency` running, never more than `capacity` waiting.
    expect(running.length).toBeLessThanOrEqual(s.concurrency);
    const overflowed = drops.filter(([, reason]) => reason === 'overflow').length;
    const cleared = drops.filter(([, reason]) => reason === 'cleared').length;
    expect(arrived - projected.length - overflowed - cleared).toBeLessThanOrEqual(s.capacity);
    // The source is listened to until it ends or the output closes.
    expect(source.observed).toBe(!model.closed && !sourceEnded);
  };

  const finish = (held: Held): void => {
    model.finish(held.value);
    finishedOrder.push(held.value);
    held.subscriber.next(held.value);
    held.subscriber.complete();
  };

  for (const step of s.steps) {
    if (!source.observed) break;
    if (step.kind === 'arrive') {
      const v = model.arrive();
      arrived++;
      source.next(v);
    } else if (running.length > 0) {
      finish(running[step.pick % running.length]!);
    }
    check();
  }

  if (source.observed) {
    sourceEnded = s.ending !== 'unsubscribe';
    switch (s.ending) {
      case 'complete':
        model.complete();
        source.complete();
        break;
      case 'unsubscribe':
        model.unsubscribe();
        subscription.unsubscribe();
        break;
      case 'innerError': {
        const failure = new Error('inner failed');
        if (running.length > 0) {
          model.fail(failure);
          running[0]!.subscriber.error(failure);
        } else {
          model.complete();
          source.complete();
        }
        break;
      }
      case 'sourceError': {
        const failure = new Error('source failed');
        model.sourceError(failure);
        source.error(failure);
        break;
      }
    }
    check();
    // Work off whatever still runs (delayError, or completion waiting for inners).
    while (running.length > 0) {
      finish(running[0]!);
      check();
    }
  }

  // Completion: unless unsubscribed, the output has ended; nothing runs or waits.
  expect(outcome.kind === 'open').toBe(model.unsubscribed);
  expect(running).toEqual([]);
  expect(live).toBe(0);
  if (isBufferOverflowError(outcome.kind === 'error' ? outcome.error : undefined))
    expect(s.overflow).toBe('error');

  // Conservation: every value that arrived reached project or onDrop, exactly once.
  const accounted = [...projected.map(([v]) => v), ...drops.map(([v]) => v)].sort((a, b) => a - b);
  expect(accounted).toEqual(Array.from({ length: arrived }, (_, i) => i));
  // Arrival order: values reach project in increasing order, with their position in the source.
  for (let i = 1; i < projected.length; i++) expect(projected[i]![0]).toBeGreaterThan(projected[i - 1]![0]);
  for (const [v, index] of projected) expect(index).toBe(v);
  // The output is the inners' values in the order they emitted; with concurrency 1 that is project order.
  expect(output).toEqual(finishedOrder);
  if (s.concurrency === 1) {
    // Each inner ends before the next starts; only the last may have been cut short.
    expect(output).toEqual(projected.map(([v]) => v).slice(0, output.length));
    expect(output.length).toBeGreaterThanOrEqual(projected.length - 1);
  }
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'arrive' }) },
  { weight: 2, arbitrary: fc.nat(7).map<Step>((pick) => ({ kind: 'finish', pick })) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  capacity: fc.constantFrom(0, 1, 2, 3, Infinity),
  concurrency: fc.constantFrom(1, 1, 2, 3, Infinity),
  overflow: fc.constantFrom(...OVERFLOW_STRATEGIES),
  delayError: fc.boolean(),
  syncMask: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  steps: fc.array(stepArb, { maxLength: 40 }),
  ending: fc.constantFrom<Ending>('complete', 'complete', 'unsubscribe', 'innerError', 'sourceError'),
  named: fc.boolean(),
});

describe('bounded buffers, over random schedules', () => {
  it('agree with the rules: conservation, arrival order, bounds and completion', () => {
    fc.assert(fc.property(scenarioArb, runScenario), { numRuns: 250 });
  });
});

/*
 * Virtual time: random arrival frames (several may share a frame) and random inner durations, run
 * through the operator and through its familiar RxJS equivalent side by side.
 */

interface Timed {
  /** Frames since the previous value (0: same frame). */
  gap: number;
  /** Frames the value's work takes before it emits and completes. */
  duration: number;
}

const LETTERS = 'abcdefghijklmnopqrst';

const timedArb = fc.array(fc.record({ gap: fc.nat(4), duration: fc.integer({ min: 1, max: 6 }) }), {
  maxLength: LETTERS.length,
});

/** A hot marble for the schedule: values sharing a frame are grouped, the source completes at the end. */
function marble(schedule: Timed[]): string {
  let out = '-';
  schedule.forEach(({ gap }, i) => {
    const letter = LETTERS[i]!;
    if (i > 0 && gap === 0) {
      out = out.endsWith(')')
        ? `${out.slice(0, -1)}${letter})`
        : `${out.slice(0, -1)}(${out.slice(-1)}${letter})`;
    } else {
      out += '-'.repeat(Math.max(0, gap - 1)) + letter;
    }
  });
  return `${out}---|`;
}

function exhaustMapWithTrailing<T, R>(project: (value: T) => ObservableInput<R>): OperatorFunction<T, R> {
  return (source) =>
    source.pipe(
      throttle((value) => concat(from(project(value)).pipe(ignoreElements()), of(true)), {
        leading: true,
        trailing: true,
      }),
      concatMap(project),
    );
}

function compareInVirtualTime(
  schedule: Timed[],
  ours: (p: (v: string) => Observable<string>) => OperatorFunction<string, string>,
  theirs: (p: (v: string) => Observable<string>) => OperatorFunction<string, string>,
): void {
  testScheduler().run(({ hot, cold, expectObservable }) => {
    const durations = new Map(schedule.map(({ duration }, i) => [LETTERS[i]!, duration]));
    const p = (v: string): Observable<string> => cold(`${'-'.repeat(durations.get(v)!)}(x|)`, { x: v });
    const source = hot(marble(schedule));
    expectObservable(source.pipe(ours(p))).toEqual(source.pipe(theirs(p)));
  });
}

describe('the familiar equivalences, over random schedules in virtual time', () => {
  it('bufferFixed(Infinity, p) behaves as concatMap(p)', () => {
    fc.assert(
      fc.property(timedArb, (schedule) =>
        compareInVirtualTime(
          schedule,
          (p) => bufferFixed(Infinity, p),
          (p) => concatMap(p),
        ),
      ),
      { numRuns: 150 },
    );
  });

  it('bufferDropping(0, p) behaves as exhaustMap(p)', () => {
    fc.assert(
      fc.property(timedArb, (schedule) =>
        compareInVirtualTime(
          schedule,
          (p) => bufferDropping(0, p),
          (p) => exhaustMap(p),
        ),
      ),
      { numRuns: 150 },
    );
  });

  it('bufferSliding(1, p) is exhaustMap with trailing, and always processes the last value', () => {
    fc.assert(
      fc.property(timedArb, (schedule) => {
        compareInVirtualTime(
          schedule,
          (p) => bufferSliding(1, p),
          (p) => exhaustMapWithTrailing(p),
        );
        const seen: string[] = [];
        testScheduler().run(({ hot, cold }) => {
          const source = hot(marble(schedule));
          source
            .pipe(
              bufferSliding(1, (v: string) =>
                cold(`${'-'.repeat(schedule[LETTERS.indexOf(v)]!.duration)}(x|)`, { x: v }),
              ),
            )
            .subscribe((v) => seen.push(v));
        });
        if (schedule.length > 0) expect(seen[seen.length - 1]).toBe(LETTERS[schedule.length - 1]);
      }),
      { numRuns: 150 },
    );
  });
});
