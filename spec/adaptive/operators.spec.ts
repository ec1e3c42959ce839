import {
  defer,
  finalize,
  map,
  mergeMap,
  NEVER,
  Observable,
  Subject,
  throwError,
  timer,
  type ObservableInput,
} from 'rxjs';
import {
  adaptiveCapacity,
  adaptiveConcurrency,
  CircuitBreaker,
  FlowMeter,
  pullFeedback,
  pullMap,
  type AdaptiveCapacity,
  type AdaptiveConcurrency,
} from 'rxjs-backpressure';
import { resetVirtualTime, withVirtualTime, type ManualTimeScheduler } from 'rxjs-backpressure/testing';
import { BUFFERS } from '../helpers/buffers';

/*
 * Issue 12's tests of the adaptive limits in the operators: accepted wherever `concurrency` (or a
 * queue `capacity`) is, and governing there; no change while no call ends; the same limit history for
 * the same run in virtual time. Everything runs under withVirtualTime, which makes the default
 * scheduler (where every operator here times its calls) virtual.
 */

const ALGORITHMS = ['gradient', 'aimd', 'vegas'] as const;

afterEach(() => {
  resetVirtualTime();
});

/** An operator that takes `concurrency`: values in, each value's call run through `call`. */
interface ConcurrencyCase {
  label: string;
  /** Subscribes `values$` through the operator; returns the output. */
  run(
    values$: Observable<number>,
    call: (v: number) => ObservableInput<number>,
    concurrency: AdaptiveConcurrency,
    meter: FlowMeter,
  ): Observable<number>;
}

const CONCURRENCY_CASES: readonly ConcurrencyCase[] = [
  ...BUFFERS.map<ConcurrencyCase>((buffer) => ({
    label: buffer.label,
    run: (values$, call, concurrency, meter) =>
      values$.pipe(buffer.make(Infinity, call, { concurrency, meter, onError: 'continue' })),
  })),
  {
    label: 'CircuitBreaker.protect',
    run: (values$, call, concurrency, meter) =>
      values$.pipe(
        new CircuitBreaker({ consecutiveFailures: 1000 }).protect(call, {
          concurrency,
          meter,
          onError: 'continue',
        }),
      ),
  },
  {
    label: 'pullMap',
    run: (values$, call, concurrency, meter) => {
      // pullMap pulls from an input: the values that arrived so far, handed over as they come.
      const arrived: number[] = [];
      let wake: (() => void) | undefined;
      let done = false;
      values$.subscribe({
        next: (v) => {
          arrived.push(v);
          wake?.();
        },
        complete: () => {
          done = true;
          wake?.();
        },
      });
      const input: AsyncIterable<number> = {
        async *[Symbol.asyncIterator]() {
          for (;;) {
            if (arrived.length > 0) yield arrived.shift()!;
            else if (done) return;
            else await new Promise<void>((resolve) => (wake = resolve));
          }
        },
      };
      return pullMap(input, call, { concurrency, meter, onError: 'continue' });
    },
  },
];

/** Runs `count` values (all at once) through the case, each call taking `duration(v)` ms; counts the calls running. */
async function runThrough(
  c: ConcurrencyCase,
  concurrency: AdaptiveConcurrency,
  count: number,
  duration: (v: number) => number,
): Promise<{ maxRunning: number; out: number[]; meter: FlowMeter }> {
  const meter = new FlowMeter({ name: c.label });
  let running = 0;
  let maxRunning = 0;
  const call = (v: number): Observable<number> =>
    defer(() => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      return timer(duration(v)).pipe(
        map(() => v),
        finalize(() => running--),
      );
    });
  const out: number[] = [];
  await withVirtualTime(async (scheduler: ManualTimeScheduler) => {
    const values$ = new Subject<number>();
    let completed = false;
    c.run(values$, call, concurrency, meter).subscribe({
      next: (v) => out.push(v),
      complete: () => (completed = true),
    });
    for (let v = 0; v < count; v++) values$.next(v);
    values$.complete();
    // pullMap's async input hands values over in microtasks: let them through between steps.
    for (let i = 0; i < 10_000 && !completed; i++) {
      await Promise.resolve();
      scheduler.advanceBy(1);
    }
    expect(completed).toBe(true);
  });
  return { maxRunning, out, meter };
}

describe('adaptiveConcurrency is accepted wherever concurrency is, and governs there', () => {
  describe.each(CONCURRENCY_CASES.map((c) => [c.label, c] as const))('%s', (_, c) => {
    it.each(ALGORITHMS.flatMap((algorithm) => [2, 5].map((n) => [algorithm, n] as const)))(
      '%s with min = max = %d: exactly that many calls run at once, never more',
      async (algorithm, n) => {
        const concurrency = adaptiveConcurrency({ algorithm, min: n, max: n, initial: n });
        const { maxRunning, out, meter } = await runThrough(c, concurrency, 30, (v) => 10 + (v % 4) * 5);
        expect(maxRunning).toBe(n);
        expect(meter.snapshot().maxRunning).toBe(n);
        expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      },
    );

    it('a limit that moves: the calls running never exceed the limit in force', async () => {
      let limit = 3;
      let over = 0;
      const concurrency = adaptiveConcurrency({
        algorithm: 'aimd',
        initial: 3,
        min: 1,
        max: 8,
        onChange: (l) => (limit = l),
      });
      const meter = new FlowMeter({ name: c.label });
      let running = 0;
      const changes: number[] = [];
      const call = (v: number): Observable<number> =>
        defer(() => {
          running++;
          if (running > limit) over++;
          changes.push(limit);
          // Every fifth call fails: AIMD backs off, then grows again.
          return timer(5 + (v % 3) * 5).pipe(
            mergeMap(() => (v % 5 === 4 ? throwError(() => new Error('503')) : [v])),
            finalize(() => running--),
          );
        });
      await withVirtualTime(async (scheduler: ManualTimeScheduler) => {
        const values$ = new Subject<number>();
        let completed = false;
        c.run(values$, call, concurrency, meter).subscribe({ complete: () => (completed = true) });
        for (let v = 0; v < 100; v++) values$.next(v);
        values$.complete();
        for (let i = 0; i < 10_000 && !completed; i++) {
          await Promise.resolve();
          scheduler.advanceBy(1);
        }
        expect(completed).toBe(true);
      });
      expect(over).toBe(0);
      expect(new Set(changes).size).toBeGreaterThan(2); // the limit did move
    });
  });
});

/** An operator that takes a queue `capacity`. */
interface CapacityCase {
  label: string;
  /** The output of `values$` through the operator, its consumer taking one value per `call`. */
  run(
    values$: Observable<number>,
    call: (v: number) => Observable<number>,
    capacity: AdaptiveCapacity,
    meter: FlowMeter,
  ): Observable<number>;
}

const CAPACITY_CASES: readonly CapacityCase[] = [
  ...BUFFERS.filter((b) => b.overflow !== 'error').map<CapacityCase>((buffer) => ({
    label: buffer.label,
    run: (values$, call, capacity, meter) => values$.pipe(buffer.make(capacity, call, { meter })),
  })),
  {
    label: 'CircuitBreaker.protect',
    run: (values$, call, capacity, meter) =>
      values$.pipe(
        new CircuitBreaker({ consecutiveFailures: 5 }).protect(call, { capacity, concurrency: 1, meter }),
      ),
  },
  {
    label: 'pullFeedback',
    run: (values$, call, capacity, meter) => {
      // Demand: one value at the start, then one more each time the consumer finishes one.
      const demand = new Subject<number>();
      return values$.pipe(
        pullFeedback(demand, { capacity, initialDemand: 1, meter }),
        mergeMap((v) => call(v).pipe(finalize(() => demand.next(1)))),
      );
    },
  },
];

describe('adaptiveCapacity is accepted wherever a queue capacity is, and governs there', () => {
  it.each(CAPACITY_CASES.map((c) => [c.label, c] as const))(
    '%s with min = max = 2: at most 2 values wait, the rest are refused at once by its overflow strategy',
    (_, c) => {
      withVirtualTime((scheduler: ManualTimeScheduler) => {
        const meter = new FlowMeter({ name: c.label });
        const values$ = new Subject<number>();
        const out: number[] = [];
        c.run(
          values$,
          (v) => timer(10).pipe(map(() => v)),
          adaptiveCapacity({ maxWait: 100, min: 2, max: 2 }),
          meter,
        ).subscribe((v) => out.push(v));
        for (let v = 0; v < 10; v++) values$.next(v);
        // One runs (or was taken by demand), two wait, seven are refused; 'drop-queue' empties the
        // queue for the newest instead (one waits, eight refused).
        const waiting = c.label.includes('drop-queue') ? 1 : 2;
        expect(meter.snapshot()).toMatchObject({
          waiting,
          capacity: 2,
          droppedTotal: 9 - waiting,
          maxWaiting: 2,
        });
        scheduler.advanceBy(100);
        expect(out).toHaveLength(1 + waiting);
      });
    },
  );

  it('bufferFixed with min = max = 2: the third value to wait errors the stream, as a full fixed queue does', () => {
    withVirtualTime(() => {
      const values$ = new Subject<number>();
      let error: unknown;
      values$
        .pipe(BUFFERS[0]!.make(adaptiveCapacity({ maxWait: 100, min: 2, max: 2 }), () => NEVER))
        .subscribe({ error: (e: unknown) => (error = e) });
      for (let v = 0; v < 3; v++) values$.next(v);
      expect(error).toBeUndefined();
      values$.next(3);
      expect(error).toMatchObject({ name: 'BufferOverflowError', capacity: 2, value: 3 });
    });
  });
});

describe('no change when no samples', () => {
  describe.each(CONCURRENCY_CASES.map((c) => [c.label, c] as const))('%s', (_, c) => {
    it.each(ALGORITHMS)(
      '%s: the limit stays at initial while calls run and none ends, however long',
      async (algorithm) => {
        const changes: number[] = [];
        const concurrency = adaptiveConcurrency({ algorithm, initial: 7, onChange: (n) => changes.push(n) });
        const meter = new FlowMeter({ name: c.label });
        await withVirtualTime(async (scheduler: ManualTimeScheduler) => {
          const values$ = new Subject<number>();
          const subscription = c.run(values$, () => NEVER, concurrency, meter).subscribe();
          for (let v = 0; v < 20; v++) values$.next(v);
          for (let i = 0; i < 60; i++) {
            await Promise.resolve();
            scheduler.advanceBy(60_000); // an hour in all
          }
          expect(meter.snapshot()).toMatchObject({ concurrency: 7, running: 7 });
          subscription.unsubscribe();
        });
        expect(changes).toEqual([]);
      },
    );
  });

  it('adaptiveCapacity stays at min while nothing completes, however long', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const meter = new FlowMeter({ name: 'capacity' });
      const values$ = new Subject<number>();
      values$
        .pipe(BUFFERS[1]!.make(adaptiveCapacity({ maxWait: 100, min: 3 }), () => NEVER, { meter }))
        .subscribe();
      for (let i = 0; i < 60; i++) {
        values$.next(i);
        scheduler.advanceBy(60_000);
        expect(meter.snapshot()).toMatchObject({ capacity: 3, running: 1 });
      }
      expect(meter.snapshot()).toMatchObject({ waiting: 3, droppedTotal: 56 });
    });
  });
});

describe('determinism in virtual time', () => {
  /**
   * One run: values arrive every ms for 3 s through the case; calls take 10 ms, 40 ms from 1 s to
   * 2 s, and every 7th fails. Returns the limit history, [time, limit].
   */
  const history = async (
    c: ConcurrencyCase,
    algorithm: (typeof ALGORITHMS)[number],
  ): Promise<[number, number][]> => {
    const changes: [number, number][] = [];
    await withVirtualTime(async (scheduler: ManualTimeScheduler) => {
      const concurrency = adaptiveConcurrency({
        algorithm,
        onChange: (n) => changes.push([scheduler.now(), n]),
      });
      const call = (v: number): Observable<number> => {
        const now = scheduler.now();
        const ms = now >= 1000 && now < 2000 ? 40 : 10;
        return timer(ms).pipe(mergeMap(() => (v % 7 === 6 ? throwError(() => new Error('503')) : [v])));
      };
      const values$ = new Subject<number>();
      const subscription = c.run(values$, call, concurrency, new FlowMeter({ name: c.label })).subscribe();
      for (let t = 0; t < 3000; t++) {
        values$.next(t);
        await Promise.resolve();
        scheduler.advanceBy(1);
      }
      subscription.unsubscribe();
    });
    return changes;
  };

  describe.each(
    [CONCURRENCY_CASES[1]!, CONCURRENCY_CASES[5]!, CONCURRENCY_CASES[6]!, CONCURRENCY_CASES[7]!].map(
      (c) => [c.label, c] as const,
    ),
  )('%s', (_, c) => {
    it.each(ALGORITHMS)('%s: two identical runs give identical limit histories', async (algorithm) => {
      const first = await history(c, algorithm);
      const second = await history(c, algorithm);
      // Not trivially equal: the limit moved both ways.
      expect(first.length).toBeGreaterThan(3);
      expect(first.some(([, n], i) => i > 0 && n < first[i - 1]![1])).toBe(true);
      expect(first.some(([, n], i) => i > 0 && n > first[i - 1]![1])).toBe(true);
      expect(second).toEqual(first);
    });
  });

  it('the algorithms draw no random numbers: Math.random is never called', async () => {
    const random = jest.spyOn(Math, 'random');
    try {
      for (const algorithm of ALGORITHMS) await history(CONCURRENCY_CASES[1]!, algorithm);
      expect(random).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
    }
  });
});
