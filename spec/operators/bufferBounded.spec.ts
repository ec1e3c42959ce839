import {
  lastValueFrom,
  map,
  Observable,
  of,
  range,
  Subject,
  take,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import {
  BufferOverflowError,
  bufferBounded,
  OVERFLOW_STRATEGIES,
  type DropReason,
  type OverflowStrategy,
} from 'rxjs-backpressure';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

interface OverflowCase {
  overflow: OverflowStrategy;
  /** What reaches project, with its index. */
  calls: [string, number][];
  expected: string;
  drops: { value: string; reason: DropReason; frame: number }[];
  /** What a throwing `onDrop` is told before the output errors with its error. */
  throwingOnDrop: string[];
}

// source:   -abcdef---|    capacity 2, each value takes 7 frames: a runs, b and c wait, d, e and f
//                          find the queue full.
const overflowCases: OverflowCase[] = [
  {
    overflow: 'drop-incoming',
    calls: [
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ],
    expected: '--------a------b------(c|)',
    drops: [
      { value: 'd', reason: 'overflow', frame: 4 },
      { value: 'e', reason: 'overflow', frame: 5 },
      { value: 'f', reason: 'overflow', frame: 6 },
    ],
    throwingOnDrop: ['overflow d', 'cleared b', 'cleared c'],
  },
  {
    overflow: 'drop-oldest',
    calls: [
      ['a', 0],
      ['e', 4],
      ['f', 5],
    ],
    expected: '--------a------e------(f|)',
    drops: [
      { value: 'b', reason: 'overflow', frame: 4 },
      { value: 'c', reason: 'overflow', frame: 5 },
      { value: 'd', reason: 'overflow', frame: 6 },
    ],
    throwingOnDrop: ['overflow b', 'cleared c', 'cleared d'],
  },
  {
    overflow: 'drop-newest-queued',
    calls: [
      ['a', 0],
      ['b', 1],
      ['f', 5],
    ],
    expected: '--------a------b------(f|)',
    drops: [
      { value: 'c', reason: 'overflow', frame: 4 },
      { value: 'd', reason: 'overflow', frame: 5 },
      { value: 'e', reason: 'overflow', frame: 6 },
    ],
    throwingOnDrop: ['overflow c', 'cleared b', 'cleared d'],
  },
  {
    overflow: 'drop-queue',
    calls: [
      ['a', 0],
      ['f', 5],
    ],
    expected: '--------a------(f|)',
    drops: [
      { value: 'b', reason: 'overflow', frame: 4 },
      { value: 'c', reason: 'overflow', frame: 4 },
      { value: 'd', reason: 'overflow', frame: 6 },
      { value: 'e', reason: 'overflow', frame: 6 },
    ],
    throwingOnDrop: ['overflow b', 'cleared c', 'cleared d'],
  },
  {
    overflow: 'error',
    calls: [['a', 0]],
    expected: '----#',
    drops: [
      { value: 'd', reason: 'overflow', frame: 4 },
      { value: 'b', reason: 'cleared', frame: 4 },
      { value: 'c', reason: 'cleared', frame: 4 },
    ],
    throwingOnDrop: ['overflow d', 'cleared b', 'cleared c'],
  },
];

describe('bufferBounded', () => {
  describe('its JSDoc diagram', () => {
    it("with 'drop-newest-queued', e evicts d, the newest of the two waiting", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-e-|');
        const inner = cold(' ----(x|)');
        const expected = '  -----a---b---c---(e|)';
        expectObservable(
          source.pipe(
            bufferBounded(2, work(inner), { overflow: 'drop-newest-queued', onDrop: drops.onDrop }),
          ),
        ).toBe(expected);
      });
      expect(drops.timeline).toEqual([{ value: 'd', reason: 'overflow', frame: 9 }]);
    });

    it("with 'drop-oldest', evicts the waiting value when a newer one arrives", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b--c-d-----|');
        const inner = cold(' ----(x|)');
        const expected = '  -----a---b---d|';
        expectObservable(
          source.pipe(bufferBounded(1, work(inner), { overflow: 'drop-oldest', onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'overflow', frame: 8 }]);
    });
  });

  describe.each(overflowCases)(
    'overflow $overflow',
    ({ overflow, calls, expected, drops, throwingOnDrop }) => {
      it('applies the strategy to values that find the queue full, in arrival order', () => {
        const s = testScheduler();
        const recorder = recordDrops<string>(s);
        const seen: [string, number][] = [];
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot(' -abcdef---|');
          const inner = cold('  -------(x|)');
          const project = (v: string, index: number): Observable<string> => {
            seen.push([v, index]);
            return work(inner)(v);
          };
          expectObservable(
            source.pipe(bufferBounded(2, project, { overflow, onDrop: recorder.onDrop })),
          ).toBe(expected, undefined, new BufferOverflowError(2, 'd', 'bufferBounded'));
        });
        expect(seen).toEqual(calls);
        expect(recorder.timeline).toEqual(drops);
        // Conservation: every source value either reached project or was reported, exactly once.
        const accounted = [...seen.map(([v]) => v), ...recorder.drops.map(([v]) => v)].sort();
        expect(accounted).toEqual(
          overflow === 'error' ? ['a', 'b', 'c', 'd'] : ['a', 'b', 'c', 'd', 'e', 'f'],
        );
      });

      it("errors with the error of a throwing `onDrop`, reporting the rest 'cleared'", () => {
        const boom = new Error('onDrop failed');
        const reports: string[] = [];
        testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
          const source = hot(' -abcdef---|');
          const inner = cold('  -------(x|)');
          const onDrop = (v: string, reason: string): void => {
            reports.push(`${reason} ${v}`);
            if (reason === 'overflow') throw boom;
          };
          expectObservable(source.pipe(bufferBounded(2, work(inner), { overflow, onDrop }))).toBe(
            '----#',
            undefined,
            boom,
          );
          expectSubscriptions(source.subscriptions).toBe('^---!');
          expectSubscriptions(inner.subscriptions).toBe('-^--!');
        });
        expect(reports).toEqual(throwingOnDrop);
      });
    },
  );

  describe.each(OVERFLOW_STRATEGIES)('overflow %s, the checklist', (overflow) => {
    it('never emits for a source that never emits', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(bufferBounded(1, (v: string) => of(v), { overflow }))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('completes at once for an empty source', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('|').pipe(bufferBounded(1, (v: string) => of(v), { overflow }))).toBe('|');
      });
    });

    it('passes one value to project and completes after source and inner', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' --a---|');
        const inner = cold('   ---(x|)');
        const expected = '   -----a|';
        expectObservable(source.pipe(bufferBounded(1, work(inner), { overflow }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(inner.subscriptions).toBe('--^--!');
      });
    });

    it('queues many values within capacity and starts them in arrival order', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-----------|');
        const inner = cold('  ---(x|)');
        const expected = '   ----a--b--c----|';
        expectObservable(source.pipe(bufferBounded(2, work(inner), { overflow, onDrop: drops.onDrop }))).toBe(
          expected,
        );
        expectSubscriptions(inner.subscriptions).toBe(['-^--!', '----^--!', '-------^--!']);
      });
      expect(drops.drops).toEqual([]);
    });

    it('runs up to `concurrency` inners at once', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd----------|');
        const inner = cold('  -----(x|)');
        const expected = '   ------ab---cd--|';
        expectObservable(source.pipe(bufferBounded(2, work(inner), { overflow, concurrency: 2 }))).toBe(
          expected,
        );
        expectSubscriptions(inner.subscriptions).toBe([
          '-^----!',
          '--^----!',
          '------^----!',
          '-------^----!',
        ]);
      });
    });

    it('never queues with concurrency Infinity, even with capacity 0', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abcd----------|');
        const inner = cold('  -----(x|)');
        const expected = '   ------abcd-----|';
        expectObservable(
          source.pipe(bufferBounded(0, work(inner), { overflow, concurrency: Infinity })),
        ).toBe(expected);
      });
    });

    it('with capacity 0, applies the strategy to a value that cannot start at once', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -ab---|');
        const inner = cold('  ---(x|)');
        const expected = overflow === 'error' ? '--#' : '----a-|';
        expectObservable(source.pipe(bufferBounded(0, work(inner), { overflow, onDrop: drops.onDrop }))).toBe(
          expected,
          undefined,
          new BufferOverflowError(0, 'b', 'bufferBounded'),
        );
      });
      expect(drops.drops).toEqual([['b', 'overflow']]);
    });

    it('with capacity Infinity, never overflows', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcdefgh)-|');
        const inner = cold('  --(x|)');
        const expected = '   ---a-b-c-d-e-f-g-(h|)';
        expectObservable(
          source.pipe(bufferBounded(Infinity, work(inner), { overflow, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });

    it("sends a source error at once, reporting waiting values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        expectObservable(source.pipe(bufferBounded(2, work(inner), { overflow, onDrop: drops.onDrop }))).toBe(
          '-----#',
        );
        expectSubscriptions(inner.subscriptions).toBe('-^---!');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 5 },
        { value: 'c', reason: 'cleared', frame: 5 },
      ]);
    });

    it('with delayError, works off the queue before sending a source error', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----b----(c#)';
        expectObservable(
          source.pipe(bufferBounded(2, work(inner), { overflow, delayError: true, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });

    it("errors when an inner errors, reporting waiting values 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot('  -abc-------|');
        const inner = cold('   ---(x|)');
        const failing = cold(' --#');
        const project = (v: string): Observable<string> => (v === 'b' ? failing : work(inner)(v));
        expectObservable(source.pipe(bufferBounded(2, project, { overflow, onDrop: drops.onDrop }))).toBe(
          '----a-#',
        );
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(failing.subscriptions).toBe('----^-!');
      });
      expect(drops.drops).toEqual([['c', 'cleared']]);
    });

    it("errors when project throws, reporting waiting values 'cleared'", () => {
      const boom = new Error('project failed');
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-------|');
        const inner = cold('  ---(x|)');
        const project = (v: string): Observable<string> => {
          if (v === 'b') throw boom;
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferBounded(2, project, { overflow, onDrop: drops.onDrop }))).toBe(
          '----(a#)',
          undefined,
          boom,
        );
      });
      expect(drops.drops).toEqual([['c', 'cleared']]);
    });

    it("tears down the source and every running inner when unsubscribed, reporting waiting values 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd-----');
        const inner = cold('  -----(x|)');
        const unsub = '      -----!';
        expectObservable(
          source.pipe(bufferBounded(2, work(inner), { overflow, concurrency: 2, onDrop: drops.onDrop })),
          unsub,
        ).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectSubscriptions(inner.subscriptions).toBe(['-^---!', '--^--!']);
      });
      expect(drops.drops).toEqual([
        ['c', 'cleared'],
        ['d', 'cleared'],
      ]);
    });

    it('drains a queue of 100,000 values with synchronous inners without recursion', () => {
      const N = 100_000;
      const gate = new Subject<number>();
      let count = 0;
      let completed = false;
      range(0, N + 1)
        .pipe(bufferBounded(Infinity, (v: number) => (v === 0 ? gate : of(v)), { overflow }))
        .subscribe({ next: () => count++, complete: () => (completed = true) });
      gate.complete();
      expect(count).toBe(N);
      expect(completed).toBe(true);
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
      firehose
        .pipe(
          bufferBounded(0, (v: number) => of(v), { overflow }),
          take(3),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(emitted).toBe(3);
    });
  });

  describe('types', () => {
    it('infers the output type from project', async () => {
      const op: OperatorFunction<number, string> = bufferBounded(1, (n: number) => of(String(n)), {
        overflow: 'drop-queue',
      });
      // @ts-expect-error project yields strings, so the output cannot be numbers
      const wrong: OperatorFunction<number, number> = bufferBounded(1, (n: number) => of(String(n)), {
        overflow: 'drop-queue',
      });
      expect(typeof wrong).toBe('function');
      expect(await lastValueFrom(of(1, 2).pipe(op, toArray()))).toEqual(['1', '2']);
    });
  });

  describe('bad input', () => {
    const project = (v: number): Observable<number> => of(v);
    const strategies = "'drop-incoming', 'drop-oldest', 'drop-newest-queued', 'drop-queue', 'error'";

    it('throws RangeError at creation for an unknown overflow strategy', () => {
      expect(thrownBy(() => bufferBounded(1, project, { overflow: 'drop-latest' as never }))).toEqual(
        errorShape(
          new RangeError(
            `bufferBounded: \`overflow\` must be one of ${strategies}, got "drop-latest" (string)`,
          ),
        ),
      );
    });

    it('throws TypeError at creation for a missing or non-string overflow strategy', () => {
      expect(thrownBy(() => bufferBounded(1, project, {} as never))).toEqual(
        errorShape(new TypeError(`bufferBounded: \`overflow\` must be one of ${strategies}, got undefined`)),
      );
      expect(() => bufferBounded(1, project, undefined as never)).toThrow(TypeError);
      expect(() => bufferBounded(1, project, { overflow: 1 as never })).toThrow(TypeError);
    });

    it('throws at creation for bad numbers and functions, naming the option and the value', () => {
      const overflow = 'drop-oldest';
      expect(thrownBy(() => bufferBounded(Number.MAX_VALUE * -1, project, { overflow }))).toEqual(
        errorShape(
          new RangeError(
            `bufferBounded: \`capacity\` must be a non-negative integer or Infinity, got ${String(-Number.MAX_VALUE)} (number)`,
          ),
        ),
      );
      expect(thrownBy(() => bufferBounded(1, project, { overflow, concurrency: 0.5 }))).toEqual(
        errorShape(
          new RangeError(
            'bufferBounded: `concurrency` must be a positive integer or Infinity, got 0.5 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferBounded(1, undefined as never, { overflow }))).toEqual(
        errorShape(new TypeError('bufferBounded: `project` must be a function, got undefined')),
      );
      expect(thrownBy(() => bufferBounded(1, project, { overflow, onDrop: [] as never }))).toEqual(
        errorShape(new TypeError('bufferBounded: `onDrop` must be a function, got an array')),
      );
    });
  });
});
