import { config, defer, EMPTY, NEVER, Observable, of, range, Subject, take, tap, throwError } from 'rxjs';
import {
  BufferOverflowError,
  isBufferOverflowError,
  OVERFLOW_STRATEGIES,
  pullFeedback,
  type OverflowStrategy,
} from 'rxjs-backpressure';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** Marble values for `demand$`: the digit is the grant; `i` is `Infinity`. */
const grants = { 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, i: Infinity };

/** The error a bad demand value produces. */
function badDemand(ctor: typeof RangeError | typeof TypeError, got: string): Error {
  return new ctor(`pullFeedback: demand must be a non-negative integer or Infinity, got ${got}`);
}

/** How many frames deep the stack is right now (counted by V8, without formatting them). */
function stackDepth(): number {
  const stackTraceLimit = Error.stackTraceLimit;
  const prepareStackTrace: unknown = Reflect.get(Error, 'prepareStackTrace');
  Error.stackTraceLimit = Infinity;
  Error.prepareStackTrace = (_err, frames) => frames.length;
  const holder: { stack?: unknown } = {};
  Error.captureStackTrace(holder);
  const depth = holder.stack as number;
  Error.stackTraceLimit = stackTraceLimit;
  Reflect.set(Error, 'prepareStackTrace', prepareStackTrace);
  return depth;
}

describe('pullFeedback', () => {
  describe('its JSDoc diagram', () => {
    it('emits held values as grants arrive, and later values at once while demand lasts', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -a-b-c--------d---|');
        const demand = hot(' ------1---3--------', grants);
        const expected = '   ------a---(bc)d---|';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });
  });

  describe('the checklist', () => {
    it('never emits for a source that never emits, and stays subscribed to both inputs', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        const demand = cold('--i', grants);
        expectObservable(source.pipe(pullFeedback(demand))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
        expectSubscriptions(demand.subscriptions).toBe('^');
      });
    });

    it('completes at once for an empty source, and unsubscribes demand$', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        const demand = hot(' -1-', grants);
        expectObservable(source.pipe(pullFeedback(demand))).toBe('|');
        expectSubscriptions(demand.subscriptions).toBe('(^!)');
      });
    });

    it('emits one value once demand is granted, then completes', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -a-|');
        const demand = hot(' -----1-', grants);
        const expected = '   -----(a|)';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(demand.subscriptions).toBe('^----!');
      });
    });

    it('stops an infinite synchronous source when take(3) downstream has what it wants', () => {
      let emitted = 0;
      const firehose = new Observable<number>((subscriber) => {
        let i = 0;
        while (!subscriber.closed) {
          emitted++;
          subscriber.next(i++);
        }
      });
      const out: number[] = [];
      let completed = false;
      firehose.pipe(pullFeedback(of(Infinity)), take(3)).subscribe({
        next: (v) => out.push(v),
        complete: () => (completed = true),
      });
      expect(out).toEqual([0, 1, 2]);
      expect(completed).toBe(true);
      expect(emitted).toBe(3);
    });
  });

  describe('demand', () => {
    it('lets values through at once while demand granted earlier lasts, then holds them', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' ----a-b-c-d-|');
        const demand = hot(' -3-----------', grants);
        const expected = '   ----a-b-c----';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('holds values that arrive before any demand and emits them, in order, as grants arrive', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -abcd---------|');
        const demand = hot(' ------1--2---1-', grants);
        const expected = '   ------a--(bc)d|';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('adds up a burst of grants in one frame', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -abcdef------');
        const demand = hot(' -----(121)--1', grants);
        const expected = '   -----(abcd)-e';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('keeps unused demand for later values: outstanding demand is grants minus emissions', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -a-------b-c-d-e-|');
        const demand = hot(' ---2-1-----------', grants);
        const expected = '   ---a-----b-c-----';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('treats a grant of 0 as no demand', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -a--b---|');
        const demand = hot(' --0---1--', grants);
        const expected = '   ------a--';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('with a grant of Infinity, emits everything held and everything after it', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -ab----c-d--|');
        const demand = hot(' ---i--1------', grants);
        const expected = '   ---(ab)c-d--|';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
      });
    });

    it('applies initialDemand before demand$ says anything', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -a-b-c-d--|');
        const demand = hot(' --------1--', grants);
        const expected = '   -a-b----c--';
        expectObservable(source.pipe(pullFeedback(demand, { initialDemand: 2 }))).toBe(expected);
      });
    });

    it('with initialDemand Infinity, behaves as the identity', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -a-b-c-d--|');
        const expected = '   -a-b-c-d--|';
        expectObservable(source.pipe(pullFeedback(cold('-'), { initialDemand: Infinity }))).toBe(expected);
      });
    });

    it('subscribes demand$ before the source, so synchronous demand counts for a synchronous source', () => {
      const log: string[] = [];
      const demand$ = defer(() => {
        log.push('subscribe demand$');
        return of(2);
      });
      const source = defer(() => {
        log.push('subscribe source');
        return of('a', 'b', 'c');
      });
      const out: string[] = [];
      let completed = false;
      source.pipe(pullFeedback(demand$)).subscribe({
        next: (v) => out.push(v),
        complete: () => (completed = true),
      });
      expect(log).toEqual(['subscribe demand$', 'subscribe source']);
      expect(out).toEqual(['a', 'b']);
      // demand$ completed after granting 2: once they are spent the output completes, as take(2)
      // would, and the source is unsubscribed before it sends 'c'.
      expect(completed).toBe(true);
    });

    it('draws the same synchronous case as a diagram', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const demand = cold(' (2|)', grants);
        const source = cold(' (abc|)');
        const expected = '    (ab|)';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
        expectSubscriptions(demand.subscriptions).toBe('(^!)');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('keeps going after demand$ completes, as long as granted demand lasts, then completes', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -a-b--c--d-|');
        const demand = hot(' -(3|)', grants);
        const expected = '   -a-b--(c|)';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
      });
    });

    it('with Infinity outstanding, a completed demand$ changes nothing', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -a-b--c-|');
        const demand = hot(' (1|)', grants);
        const expected = '   -a-b--c-|';
        expectObservable(source.pipe(pullFeedback(demand, { initialDemand: Infinity }))).toBe(expected);
      });
    });

    it('completes at once when demand$ completes with nothing outstanding, without subscribing the source', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-|');
        expectObservable(source.pipe(pullFeedback(EMPTY))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe([]);
      });
    });
  });

  describe('capacity and overflow', () => {
    // Five values arrive with no demand and room for two; then 5 is granted.
    const cases: {
      overflow: OverflowStrategy;
      expected: string;
      overflowed: string[];
    }[] = [
      { overflow: 'drop-incoming', expected: '-------(ab)', overflowed: ['c', 'd', 'e'] },
      { overflow: 'drop-oldest', expected: '-------(de)', overflowed: ['a', 'b', 'c'] },
      { overflow: 'drop-newest-queued', expected: '-------(ae)', overflowed: ['b', 'c', 'd'] },
      { overflow: 'drop-queue', expected: '-------e', overflowed: ['a', 'b', 'c', 'd'] },
    ];

    it.each(cases)("'$overflow' holds two of five and reports the rest 'overflow'", (c) => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-abcde-----');
        const demand = hot('-------5---', grants);
        const options = { capacity: 2, overflow: c.overflow, onDrop: drops.onDrop };
        expectObservable(source.pipe(pullFeedback(demand, options))).toBe(c.expected);
        expectSubscriptions(source.subscriptions).toBe('^');
      });
      expect(drops.drops).toEqual(c.overflowed.map((v) => [v, 'overflow']));
      // Conservation: each of the five values was either emitted or reported, once.
      expect(drops.drops.length + c.expected.replace(/[-()]/g, '').length).toBe(5);
    });

    it("'error' reports the arriving value 'overflow', the held ones 'cleared', then errors", () => {
      const log: string[] = [];
      let error: unknown;
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-abcde-----');
        const demand = hot('-------5---', grants);
        const expected = '  ---#';
        const result = source.pipe(
          pullFeedback(demand, {
            capacity: 2,
            overflow: 'error',
            onDrop: (v, reason) => log.push(`${reason} ${v}`),
          }),
          tap({
            error: (err: unknown) => {
              error = err;
              log.push('error');
            },
          }),
        );
        expectObservable(result).toBe(expected, undefined, new BufferOverflowError(2, 'c', 'pullFeedback'));
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(demand.subscriptions).toBe('^--!');
      });
      expect(log).toEqual(['overflow c', 'cleared a', 'cleared b', 'error']);
      expect(isBufferOverflowError(error)).toBe(true);
      expect((error as BufferOverflowError).message).toBe(
        'pullFeedback: buffer overflow: a value arrived while the queue was full (`capacity` 2)',
      );
    });

    it('counts only held values against capacity, not those that demand let through', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot('-abcdef-|');
        const demand = hot('3--------', grants);
        const expected = '  -abc--#';
        const options = { capacity: 2, overflow: 'error' as const, onDrop: drops.onDrop };
        expectObservable(source.pipe(pullFeedback(demand, options))).toBe(
          expected,
          undefined,
          new BufferOverflowError(2, 'f', 'pullFeedback'),
        );
      });
      expect(drops.drops).toEqual([
        ['f', 'overflow'],
        ['d', 'cleared'],
        ['e', 'cleared'],
      ]);
    });

    it.each(OVERFLOW_STRATEGIES.filter((o) => o !== 'error'))(
      "with capacity 0 and '%s', drops each value that finds no demand",
      (overflow) => {
        const drops = recordDrops<string>();
        testScheduler().run(({ hot, expectObservable }) => {
          const source = hot('-ab--c-d-|');
          const demand = hot('---2------', grants);
          const expected = '  -----c-d-|';
          expectObservable(
            source.pipe(pullFeedback(demand, { capacity: 0, overflow, onDrop: drops.onDrop })),
          ).toBe(expected);
        });
        expect(drops.drops).toEqual([
          ['a', 'overflow'],
          ['b', 'overflow'],
        ]);
      },
    );

    it("with capacity 0 and 'error', errors on the first value that finds no demand", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot('-a-b-|');
        const demand = hot('1-----', grants);
        const expected = '  -a-#';
        expectObservable(
          source.pipe(pullFeedback(demand, { capacity: 0, overflow: 'error', onDrop: drops.onDrop })),
        ).toBe(expected, undefined, new BufferOverflowError(0, 'b', 'pullFeedback'));
      });
      expect(drops.drops).toEqual([['b', 'overflow']]);
    });

    it('with capacity 0, lets a value fed back from inside next through while demand remains', () => {
      const source = new Subject<string>();
      const drops = recordDrops<string>();
      const out: string[] = [];
      source
        .pipe(pullFeedback(NEVER, { initialDemand: 2, capacity: 0, onDrop: drops.onDrop }))
        .subscribe((v) => {
          out.push(v);
          if (v === 'a') source.next('b');
          if (v === 'b') source.next('c');
        });
      source.next('a');
      expect(out).toEqual(['a', 'b']);
      expect(drops.drops).toEqual([['c', 'overflow']]);
    });

    it('errors with the error of an onDrop that throws on overflow, clearing the held values', () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-abc---');
        const demand = hot('-------', grants);
        const onDrop = (v: string, reason: string): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'overflow') throw boom;
        };
        expectObservable(source.pipe(pullFeedback(demand, { capacity: 1, onDrop }))).toBe(
          '--#',
          undefined,
          boom,
        );
        expectSubscriptions(demand.subscriptions).toBe('^-!');
      });
      expect(reports).toEqual(['overflow b', 'cleared a']);
    });
  });

  describe('completion', () => {
    it('waits for demand to emit the held values before completing', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc|---------');
        const demand = hot(' ------1---2---', grants);
        const expected = '   ------a---(bc|)';
        expectObservable(source.pipe(pullFeedback(demand))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(demand.subscriptions).toBe('^---------!');
      });
    });

    it('completes, reporting held values cleared, once demand$ has completed and its demand is spent', () => {
      testScheduler().run(({ hot, expectObservable, expectSubscriptions, flush }) => {
        const drops = recordDrops<string>();
        const source = hot(' -abc-----d-|');
        const demand = hot(' --1-|---', grants);
        const expected = '   --a-|';
        expectObservable(source.pipe(pullFeedback(demand, { onDrop: drops.onDrop }))).toBe(expected);
        expectSubscriptions(demand.subscriptions).toBe('^---!');
        expectSubscriptions(source.subscriptions).toBe('^---!');
        flush();
        expect(drops.drops).toEqual([
          ['b', 'cleared'],
          ['c', 'cleared'],
        ]);
      });
    });

    it('completes at once when nothing is held', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -ab-|');
        const demand = hot(' i----', grants);
        expectObservable(source.pipe(pullFeedback(demand))).toBe('-ab-|');
      });
    });
  });

  describe('errors', () => {
    it("sends a source error at once, after reporting held values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      const log: string[] = [];
      s.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-#');
        const demand = hot(' --1----', grants);
        const expected = '   --a--#';
        const result = source.pipe(
          pullFeedback(demand, {
            onDrop: (v, reason) => {
              drops.onDrop(v, reason);
              log.push(`${reason} ${v}`);
            },
          }),
          tap({ error: () => log.push('error') }),
        );
        expectObservable(result).toBe(expected);
        expectSubscriptions(demand.subscriptions).toBe('^----!');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 5 },
        { value: 'c', reason: 'cleared', frame: 5 },
      ]);
      expect(log).toEqual(['cleared b', 'cleared c', 'error']);
    });

    it("errors when demand$ errors, reporting held values 'cleared' and unsubscribing the source", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-----|');
        const demand = hot(' --1--#', grants);
        const expected = '   --a--#';
        expectObservable(source.pipe(pullFeedback(demand, { onDrop: drops.onDrop }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^----!');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 5 },
        { value: 'c', reason: 'cleared', frame: 5 },
      ]);
    });

    it('does not subscribe the source when demand$ errors synchronously', () => {
      const boom = new Error('no demand');
      let subscribed = false;
      const source = defer(() => {
        subscribed = true;
        return of(1);
      });
      let error: unknown;
      source.pipe(pullFeedback(throwError(() => boom))).subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBe(boom);
      expect(subscribed).toBe(false);
    });

    const invalid: [string, number, Error][] = [
      ['negative', -1, badDemand(RangeError, '-1 (number)')],
      ['NaN', NaN, badDemand(RangeError, 'NaN (number)')],
      ['fractional', 1.5, badDemand(RangeError, '1.5 (number)')],
      ['-Infinity', -Infinity, badDemand(RangeError, '-Infinity (number)')],
    ];

    it.each(invalid)('errors with a RangeError for a %s demand value', (_name, bad, error) => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -ab----|');
        const demand = hot(' --1-x--', { ...grants, x: bad });
        const expected = '   --a-#';
        expectObservable(source.pipe(pullFeedback(demand, { onDrop: drops.onDrop }))).toBe(
          expected,
          undefined,
          error,
        );
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(demand.subscriptions).toBe('^---!');
      });
      expect(drops.timeline).toEqual([{ value: 'b', reason: 'cleared', frame: 4 }]);
    });

    it('errors with a TypeError for a demand value that is not a number', () => {
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -ab----|');
        const demand = hot(' --x----', { x: '2' as unknown as number });
        expectObservable(source.pipe(pullFeedback(demand))).toBe(
          '--#',
          undefined,
          badDemand(TypeError, '"2" (string)'),
        );
      });
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot(' -ab----|');
        const demand = hot(' --x----', { x: null as unknown as number });
        expectObservable(source.pipe(pullFeedback(demand))).toBe(
          '--#',
          undefined,
          badDemand(TypeError, 'null'),
        );
      });
    });

    it('still sends the error when onDrop throws while clearing, and reports the throw as unhandled', () => {
      const boom = new Error('onDrop failed');
      const unhandled: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (err) => unhandled.push(err);
      try {
        testScheduler().run(({ hot, expectObservable }) => {
          const source = hot(' -ab-#');
          const demand = hot(' -----', grants);
          const onDrop = (): void => {
            throw boom;
          };
          expectObservable(source.pipe(pullFeedback(demand, { onDrop }))).toBe('----#');
        });
      } finally {
        config.onUnhandledError = previous;
      }
      expect(unhandled).toEqual([boom, boom]);
    });
  });

  describe('unsubscribing', () => {
    it("tears down both subscriptions and reports held values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot(' -ab-c-----');
        const demand = hot(' ---1------', grants);
        const unsub = '     ------!';
        const expected = '   ---a---';
        expectObservable(source.pipe(pullFeedback(demand, { onDrop: drops.onDrop })), unsub).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(demand.subscriptions).toBe('^-----!');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 6 },
        { value: 'c', reason: 'cleared', frame: 6 },
      ]);
    });

    it('stops emitting held values when the consumer unsubscribes from inside next', () => {
      const drops = recordDrops<number>();
      const out: number[] = [];
      const demand = new Subject<number>();
      const subscription = range(0, 5)
        .pipe(pullFeedback(demand, { onDrop: drops.onDrop }))
        .subscribe((v) => {
          out.push(v);
          if (v === 1) subscription.unsubscribe();
        });
      demand.next(Infinity);
      expect(out).toEqual([0, 1]);
      expect(drops.drops).toEqual([
        [2, 'cleared'],
        [3, 'cleared'],
        [4, 'cleared'],
      ]);
      expect(demand.observed).toBe(false);
    });
  });

  describe('conservation', () => {
    it('accounts for every value exactly once: emitted, dropped on overflow, or cleared', () => {
      const drops = recordDrops<number>();
      const out: number[] = [];
      const source = new Subject<number>();
      const demand = new Subject<number>();
      const subscription = source
        .pipe(pullFeedback(demand, { capacity: 3, overflow: 'drop-oldest', onDrop: drops.onDrop }))
        .subscribe((v) => out.push(v));
      const grantsGiven = [0, 2, 0, 0, 1, 3, 0, 0, 0, 1];
      for (let i = 0; i < 40; i++) {
        source.next(i);
        demand.next(grantsGiven[i % grantsGiven.length]!);
      }
      subscription.unsubscribe();
      const seen = [...out, ...drops.drops.map(([v]) => v)].sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
      expect(out.length).toBe(7 * 4);
      expect([...out].sort((a, b) => a - b)).toEqual(out);
    });
  });

  describe('the synchronous feedback loop', () => {
    const N = 100_000;

    /** Subscribes a consumer that grants 1 from inside its own next handler. */
    function runLoop(source: Observable<number>, initialDemand: number, grantLater = 0, sampleDepth = true) {
      const demand = new Subject<number>();
      const depths: number[] = [];
      let count = 0;
      let inOrder = true;
      let completed = false;
      source.pipe(pullFeedback(demand, { initialDemand })).subscribe({
        next: (v) => {
          if (v !== count) inOrder = false;
          if (sampleDepth && count % 10_000 === 0) depths.push(stackDepth());
          count++;
          demand.next(1);
        },
        complete: () => (completed = true),
      });
      if (grantLater > 0) demand.next(grantLater);
      return { count, inOrder, completed, depths };
    }

    it('passes 100,000 values of a synchronous source, in order, each once, at a constant stack depth', () => {
      const result = runLoop(range(0, N), 1);
      expect(result.count).toBe(N);
      expect(result.inOrder).toBe(true);
      expect(result.completed).toBe(true);
      expect(result.depths).toHaveLength(10);
      expect(Math.min(...result.depths)).toBeGreaterThan(5);
      expect(new Set(result.depths).size).toBe(1);
    });

    it('drains 100,000 held values one grant at a time, in order, at a constant stack depth', () => {
      const result = runLoop(range(0, N), 0, 1);
      expect(result.count).toBe(N);
      expect(result.inOrder).toBe(true);
      expect(result.completed).toBe(true);
      expect(result.depths).toHaveLength(10);
      expect(Math.min(...result.depths)).toBeGreaterThan(5);
      expect(new Set(result.depths).size).toBe(1);
    });

    it('runs the loop with little stack left', () => {
      // Find how deep this helper can recurse, then run the loop with three quarters of it used up.
      let reached = 0;
      const nest = (n: number, then: () => void): void => {
        reached++;
        if (n > 0) nest(n - 1, then);
        else then();
      };
      try {
        nest(Number.MAX_SAFE_INTEGER, () => undefined);
      } catch (err) {
        expect(err).toBeInstanceOf(RangeError);
      }
      const limit = reached;
      let result: ReturnType<typeof runLoop> | undefined;
      nest(Math.floor(limit * 0.75), () => {
        result = runLoop(range(0, N), 1, 0, false);
      });
      expect(result?.count).toBe(N);
      expect(result?.inOrder).toBe(true);
      expect(result?.completed).toBe(true);
    });

    it('handles values fed back into the source from inside next', () => {
      const source = new Subject<number>();
      const demand = new Subject<number>();
      const out: number[] = [];
      source.pipe(pullFeedback(demand, { initialDemand: 1 })).subscribe((v) => {
        out.push(v);
        if (v < N - 1) source.next(v + 1);
        demand.next(1);
      });
      source.next(0);
      expect(out.length).toBe(N);
      expect(out[N - 1]).toBe(N - 1);
      expect(out.every((v, i) => v === i)).toBe(true);
    });
  });

  describe('bad input', () => {
    it('throws TypeError at creation for a demand$ that is not an Observable', () => {
      expect(thrownBy(() => pullFeedback(undefined as never))).toEqual(
        errorShape(new TypeError('pullFeedback: `demand$` must be an Observable, got undefined')),
      );
      expect(thrownBy(() => pullFeedback(5 as never))).toEqual(
        errorShape(new TypeError('pullFeedback: `demand$` must be an Observable, got 5 (number)')),
      );
      expect(thrownBy(() => pullFeedback(Promise.resolve(1) as never))).toEqual(
        errorShape(
          new TypeError('pullFeedback: `demand$` must be an Observable, got [object Promise] (object)'),
        ),
      );
    });

    it('throws at creation for a bad initialDemand', () => {
      expect(thrownBy(() => pullFeedback(EMPTY, { initialDemand: -1 }))).toEqual(
        errorShape(
          new RangeError(
            'pullFeedback: `initialDemand` must be a non-negative integer or Infinity, got -1 (number)',
          ),
        ),
      );
      for (const bad of [0.5, NaN, -Infinity]) {
        expect(() => pullFeedback(EMPTY, { initialDemand: bad })).toThrow(RangeError);
      }
      expect(thrownBy(() => pullFeedback(EMPTY, { initialDemand: '1' as never }))).toEqual(
        errorShape(
          new TypeError(
            'pullFeedback: `initialDemand` must be a non-negative integer or Infinity, got "1" (string)',
          ),
        ),
      );
    });

    it('throws at creation for a bad capacity', () => {
      expect(thrownBy(() => pullFeedback(EMPTY, { capacity: 2.5 }))).toEqual(
        errorShape(
          new RangeError(
            'pullFeedback: `capacity` must be a non-negative integer or Infinity, got 2.5 (number)',
          ),
        ),
      );
      expect(() => pullFeedback(EMPTY, { capacity: -1 })).toThrow(RangeError);
      expect(thrownBy(() => pullFeedback(EMPTY, { capacity: null as never }))).toEqual(
        errorShape(
          new TypeError('pullFeedback: `capacity` must be a non-negative integer or Infinity, got null'),
        ),
      );
    });

    it('throws at creation for a bad overflow', () => {
      const allowed = "one of 'drop-incoming', 'drop-oldest', 'drop-newest-queued', 'drop-queue', 'error'";
      expect(thrownBy(() => pullFeedback(EMPTY, { overflow: 'drop-latest' as never }))).toEqual(
        errorShape(
          new RangeError(`pullFeedback: \`overflow\` must be ${allowed}, got "drop-latest" (string)`),
        ),
      );
      expect(thrownBy(() => pullFeedback(EMPTY, { overflow: 1 as never }))).toEqual(
        errorShape(new TypeError(`pullFeedback: \`overflow\` must be ${allowed}, got 1 (number)`)),
      );
    });

    it('throws TypeError at creation for a bad onDrop or options object', () => {
      expect(thrownBy(() => pullFeedback(EMPTY, { onDrop: 'log' as never }))).toEqual(
        errorShape(new TypeError('pullFeedback: `onDrop` must be a function, got "log" (string)')),
      );
      expect(thrownBy(() => pullFeedback(EMPTY, null as never))).toEqual(
        errorShape(new TypeError('pullFeedback: `options` must be an object, got null')),
      );
    });
  });
});

describe('pullFeedback ttl', () => {
  it('expires a value held longer than ttl; demand arriving at the deadline is used first', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const drops = recordDrops<string>();
      const source = hot(' -ab-------|');
      const demand = hot(' -----1----', grants);
      // a and b arrive at 1 and 2 with ttl 4: the demand at 5 takes a exactly at its deadline; b
      // expires at 6.
      expectObservable(source.pipe(pullFeedback(demand, { ttl: 4, onDrop: drops.onDrop }))).toBe(
        '-----a----|',
      );
      flush();
      expect(drops.drops).toEqual([['b', 'expired']]);
    });
  });

  it('with ttl 0, a value that cannot pass at its arrival expires at that instant', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const drops = recordDrops<string>();
      const source = hot(' -a-b-|');
      const demand = hot(' ---1--', grants);
      expectObservable(source.pipe(pullFeedback(demand, { ttl: 0, onDrop: drops.onDrop }))).toBe('---b-|');
      flush();
      expect(drops.drops).toEqual([['a', 'expired']]);
    });
  });
});
