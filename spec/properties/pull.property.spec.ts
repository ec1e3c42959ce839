import fc from 'fast-check';
import { defer, finalize, map, of, Subject, timer, type Observable } from 'rxjs';
import {
  isBufferOverflowError,
  OVERFLOW_STRATEGIES,
  pullFeedback,
  pullMap,
  type DropReason,
  type OverflowStrategy,
} from 'rxjs-backpressure';
import { testScheduler } from '../helpers/marbles';

/*
 * pullFeedback: a Subject source and a Subject demand$ driven by a random schedule of arrivals and
 * grants (plus grants the consumer makes from inside its next handler). A reference model written
 * from the rules of issue 4 runs beside the operator; both must agree on what was emitted and what
 * was reported to onDrop. The invariants are also checked directly: never more emitted than granted,
 * arrival order, and every value accounted for exactly once at the end.
 */

type Step = { kind: 'value' } | { kind: 'grant'; n: number };
type Ending = 'complete' | 'unsubscribe';

interface FeedbackScenario {
  initialDemand: number;
  capacity: number;
  overflow: OverflowStrategy;
  /** The consumer grants `feedback[v % feedback.length]` from inside next for value `v`. */
  feedback: number[];
  steps: Step[];
  ending: Ending;
}

/** The rules of pullFeedback, as plain state. */
class FeedbackModel {
  readonly emitted: number[] = [];
  readonly drops: [number, DropReason][] = [];
  closed = false;
  errored = false;
  completed = false;
  private demand: number;
  private queue: number[] = [];
  private sourceDone = false;

  constructor(private readonly s: FeedbackScenario) {
    this.demand = s.initialDemand;
  }

  private emit(v: number): void {
    this.demand--;
    this.emitted.push(v);
    this.demand += this.s.feedback[v % this.s.feedback.length]!;
  }

  private drain(): void {
    while (this.queue.length > 0 && this.demand > 0) this.emit(this.queue.splice(0, 1)[0]!);
    if (this.sourceDone && this.queue.length === 0 && !this.closed) {
      this.closed = true;
      this.completed = true;
    }
  }

  value(v: number): void {
    if (this.closed) return;
    const { queue, s } = this;
    if (queue.length === 0 && this.demand > 0) {
      this.emit(v);
    } else if (queue.length < s.capacity) {
      queue.push(v);
    } else if (s.overflow === 'error') {
      this.drops.push([v, 'overflow']);
      this.clear();
      this.closed = true;
      this.errored = true;
      return;
    } else if (queue.length === 0 || s.overflow === 'drop-incoming') {
      this.drops.push([v, 'overflow']);
    } else if (s.overflow === 'drop-oldest') {
      this.drops.push([queue.splice(0, 1)[0]!, 'overflow']);
      queue.push(v);
    } else if (s.overflow === 'drop-newest-queued') {
      this.drops.push([queue.pop()!, 'overflow']);
      queue.push(v);
    } else {
      for (const old of queue) this.drops.push([old, 'overflow']);
      this.queue = [v];
    }
    this.drain();
  }

  grant(n: number): void {
    if (this.closed) return;
    this.demand += n;
    this.drain();
  }

  complete(): void {
    if (this.closed) return;
    this.sourceDone = true;
    this.drain();
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.clear();
  }

  private clear(): void {
    for (const v of this.queue) this.drops.push([v, 'cleared']);
    this.queue = [];
  }
}

const grantArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 1, arbitrary: fc.constant(Infinity) },
);

const feedbackScenario: fc.Arbitrary<FeedbackScenario> = fc.record({
  initialDemand: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(Infinity)),
  capacity: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }) },
    { weight: 1, arbitrary: fc.constant(Infinity) },
  ),
  overflow: fc.constantFrom(...OVERFLOW_STRATEGIES),
  feedback: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 4 }),
  steps: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constant<Step>({ kind: 'value' }) },
      { weight: 2, arbitrary: grantArb.map((n): Step => ({ kind: 'grant', n })) },
    ),
    { maxLength: 40 },
  ),
  ending: fc.constantFrom<Ending>('complete', 'unsubscribe'),
});

describe('pullFeedback properties', () => {
  it('matches the model: never more than granted, in arrival order, every value accounted for once', () => {
    fc.assert(
      fc.property(feedbackScenario, (s) => {
        const model = new FeedbackModel(s);
        const source = new Subject<number>();
        const demand = new Subject<number>();
        const emitted: number[] = [];
        const drops: [number, DropReason][] = [];
        let granted = s.initialDemand;
        let overGranted = false;
        let error: unknown;
        let completed = false;
        const subscription = source
          .pipe(
            pullFeedback(demand, {
              initialDemand: s.initialDemand,
              capacity: s.capacity,
              overflow: s.overflow,
              onDrop: (v, reason) => drops.push([v, reason]),
            }),
          )
          .subscribe({
            next: (v) => {
              emitted.push(v);
              if (emitted.length > granted) overGranted = true;
              const n = s.feedback[v % s.feedback.length]!;
              granted += n;
              demand.next(n);
            },
            error: (err: unknown) => (error = err),
            complete: () => (completed = true),
          });

        let arrived = 0;
        /** Values the operator received: once it has errored, the source is no longer subscribed. */
        let received = 0;
        for (const step of s.steps) {
          if (step.kind === 'value') {
            model.value(arrived);
            if (source.observed) received++;
            source.next(arrived++);
          } else {
            model.grant(step.n);
            granted += step.n;
            demand.next(step.n);
          }
          expect(emitted).toEqual(model.emitted);
          expect(drops).toEqual(model.drops);
        }
        if (s.ending === 'complete') {
          model.complete();
          source.complete();
        }
        subscription.unsubscribe();
        model.unsubscribe();

        expect(emitted).toEqual(model.emitted);
        expect(drops).toEqual(model.drops);
        expect(overGranted).toBe(false);
        expect(emitted).toEqual([...emitted].sort((a, b) => a - b));
        const accounted = [...emitted, ...drops.map(([v]) => v)].sort((a, b) => a - b);
        expect(accounted).toEqual(Array.from({ length: received }, (_, i) => i));
        expect(error !== undefined).toBe(model.errored);
        if (model.errored) expect(isBufferOverflowError(error)).toBe(true);
        expect(completed).toBe(model.completed);
        expect(source.observed).toBe(false);
        expect(demand.observed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

/*
 * pullMap in virtual time: random concurrency, random work durations (some synchronous), ordered or
 * not, with or without downstream demand granted at random frames.
 */

interface MapScenario {
  concurrency: number;
  ordered: boolean;
  /** Frames each value's work takes; -1 is synchronous. */
  durations: number[];
  /** Grants of downstream demand at frames, or none (no demand$). */
  grants: { frame: number; n: number }[] | null;
}

const mapScenario: fc.Arbitrary<MapScenario> = fc.record({
  concurrency: fc.integer({ min: 1, max: 5 }),
  ordered: fc.boolean(),
  durations: fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 15 }),
  grants: fc.option(
    fc.array(fc.record({ frame: fc.integer({ min: 0, max: 40 }), n: fc.integer({ min: 0, max: 3 }) }), {
      maxLength: 10,
    }),
    {
      nil: null,
    },
  ),
});

describe('pullMap properties', () => {
  it('keeps in-flight work within concurrency, pulls within concurrency + delivered, and delivers everything', () => {
    fc.assert(
      fc.property(mapScenario, (s) => {
        const N = s.durations.length;
        let pulls = 0;
        let delivered = 0;
        let inFlight = 0;
        let maxInFlight = 0;
        let pullsBeyondBound = 0;
        let granted = 0;
        let overGranted = false;
        const out: number[] = [];
        let completed = false;
        let error: unknown;
        const input: Iterable<number> = {
          [Symbol.iterator]() {
            let i = 0;
            return {
              next: (): IteratorResult<number> => {
                pulls++;
                if (pulls > s.concurrency + delivered) pullsBeyondBound++;
                return i < N ? { value: i++, done: false } : { value: undefined, done: true };
              },
            };
          },
        };
        const work = (v: number): Observable<number> =>
          defer(() => {
            inFlight++;
            maxInFlight = Math.max(maxInFlight, inFlight);
            const d = s.durations[v]!;
            return (d < 0 ? of(v) : timer(d).pipe(map(() => v))).pipe(finalize(() => inFlight--));
          });

        const scheduler = testScheduler();
        scheduler.run(() => {
          const demand = new Subject<number>();
          if (s.grants) {
            for (const { frame, n } of s.grants) {
              scheduler.schedule(() => {
                granted += n;
                demand.next(n);
              }, frame);
            }
            // Enough in the end for everything.
            scheduler.schedule(() => {
              granted = Infinity;
              demand.next(Infinity);
            }, 50);
          }
          const options = {
            concurrency: s.concurrency,
            ordered: s.ordered,
            ...(s.grants ? { demand$: demand } : {}),
          };
          pullMap(input, work, options).subscribe({
            next: (v) => {
              delivered++;
              if (s.grants && delivered > granted) overGranted = true;
              out.push(v);
            },
            complete: () => (completed = true),
            error: (err: unknown) => (error = err),
          });
        });

        expect(error).toBeUndefined();
        expect(completed).toBe(true);
        expect(maxInFlight).toBeLessThanOrEqual(s.concurrency);
        expect(pullsBeyondBound).toBe(0);
        expect(pulls).toBe(N + 1); // every value, then the call that found the end
        expect(overGranted).toBe(false);
        expect(inFlight).toBe(0);
        if (s.ordered) expect(out).toEqual(Array.from({ length: N }, (_, i) => i));
        else expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      }),
      { numRuns: 300 },
    );
  });

  it('with promise-based work of random durations, stays within concurrency and delivers in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 12 }),
        fc.boolean(),
        async (concurrency, turns, ordered) => {
          let inFlight = 0;
          let maxInFlight = 0;
          let pulls = 0;
          let delivered = 0;
          let beyond = 0;
          async function* values(): AsyncGenerator<number> {
            for (let i = 0; i < turns.length; i++) {
              pulls++;
              if (pulls > concurrency + delivered) beyond++;
              yield i;
            }
          }
          const out: number[] = [];
          await new Promise<void>((resolve, reject) => {
            pullMap(
              values(),
              async (v: number) => {
                inFlight++;
                maxInFlight = Math.max(maxInFlight, inFlight);
                for (let k = 0; k < turns[v]!; k++) await new Promise<void>((r) => setImmediate(r));
                inFlight--;
                return v;
              },
              { concurrency, ordered },
            ).subscribe({
              next: (v) => {
                delivered++;
                out.push(v);
              },
              complete: resolve,
              error: reject,
            });
          });
          expect(maxInFlight).toBeLessThanOrEqual(concurrency);
          expect(beyond).toBe(0);
          const all = Array.from({ length: turns.length }, (_, i) => i);
          if (ordered) expect(out).toEqual(all);
          else expect([...out].sort((a, b) => a - b)).toEqual(all);
        },
      ),
      { numRuns: 60 },
    );
  });
});
