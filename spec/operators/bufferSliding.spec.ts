import {
  concat,
  concatMap,
  exhaustMap,
  from,
  ignoreElements,
  lastValueFrom,
  map,
  Observable,
  of,
  range,
  Subject,
  take,
  throttle,
  toArray,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import { bufferSliding } from 'rxjs-backpressure';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

/**
 * "exhaustMap with trailing" built from RxJS operators, as a reference: `throttle` with leading and
 * trailing values, where each value's silence lasts exactly as long as its own work.
 */
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

describe('bufferSliding', () => {
  describe('its JSDoc diagram', () => {
    it('evicts b when c arrives while a runs', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' ----(x|)');
        const expected = '  -----a---c---(d|)';
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(drops.timeline).toEqual([{ value: 'b', reason: 'overflow', frame: 5 }]);
    });

    it('with longer work, keeps only the newest waiting value', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' -------(x|)');
        const expected = '  --------a------(d|)';
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'overflow', frame: 5 },
        { value: 'c', reason: 'overflow', frame: 7 },
      ]);
    });
  });

  describe('the checklist', () => {
    it('never emits for a source that never emits', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(bufferSliding(1, (v: string) => of(v)))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('completes at once for an empty source', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('|').pipe(bufferSliding(1, (v: string) => of(v)))).toBe('|');
      });
    });

    it('passes one value to project and completes after source and inner', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' --a---|');
        const inner = cold('   ---(x|)');
        const expected = '   -----a|';
        expectObservable(source.pipe(bufferSliding(1, work(inner)))).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe('--^--!');
      });
    });

    it('evicts the oldest waiting value, oldest first; `index` counts the evicted ones', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      const calls: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abcde------|');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----d----(e|)';
        const project = (v: string, index: number): Observable<string> => {
          calls.push([v, index]);
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferSliding(2, project, { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(calls).toEqual([
        ['a', 0],
        ['d', 3],
        ['e', 4],
      ]);
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'overflow', frame: 4 },
        { value: 'c', reason: 'overflow', frame: 5 },
      ]);
    });

    it('always processes the last value of a burst', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcdefg)----|');
        const inner = cold('  ---(x|)');
        const expected = '   ----a--g------|';
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(drops.drops.map(([v]) => v)).toEqual(['b', 'c', 'd', 'e', 'f']);
    });

    it('runs up to `concurrency` inners; the queue only holds values that wait', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd-------|');
        const inner = cold('  ----(x|)');
        const expected = '   -----ab--d--|';
        expectObservable(
          source.pipe(bufferSliding(1, work(inner), { concurrency: 2, onDrop: drops.onDrop })),
        ).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe(['-^---!', '--^---!', '-----^---!']);
      });
      expect(drops.drops).toEqual([['c', 'overflow']]);
    });

    it('with capacity 0, drops a value that cannot start at once (there is nothing older to evict)', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -ab---|');
        const inner = cold('  ---(x|)');
        const expected = '   ----a-|';
        expectObservable(source.pipe(bufferSliding(0, work(inner), { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(drops.drops).toEqual([['b', 'overflow']]);
    });

    it('evicts nothing with capacity Infinity or concurrency Infinity', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcd)----|');
        const inner = cold('  --(x|)');
        expectObservable(source.pipe(bufferSliding(Infinity, work(inner), { onDrop: drops.onDrop }))).toBe(
          '---a-b-c-d-|',
        );
        expectObservable(
          source.pipe(bufferSliding(0, work(inner), { concurrency: Infinity, onDrop: drops.onDrop })),
        ).toBe('---(abcd)--|');
      });
      expect(drops.drops).toEqual([]);
    });
  });

  describe('errors', () => {
    it("sends a source error at once, reporting the waiting value 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop: drops.onDrop }))).toBe('-----#');
        expectSubscriptions(inner.subscriptions).toBe('-^---!');
      });
      expect(drops.drops).toEqual([
        ['b', 'overflow'],
        ['c', 'cleared'],
      ]);
    });

    it('with delayError, works off the queue before sending a source error', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----(c#)';
        expectObservable(source.pipe(bufferSliding(1, work(inner), { delayError: true }))).toBe(expected);
      });
    });

    it("errors when an inner errors, reporting the waiting value 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot('  -ab----|');
        const failing = cold(' ---#');
        expectObservable(source.pipe(bufferSliding(1, () => failing, { onDrop: drops.onDrop }))).toBe(
          '----#',
        );
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
      expect(drops.drops).toEqual([['b', 'cleared']]);
    });

    it('errors when project throws', () => {
      const boom = new Error('project failed');
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot('-a--|');
        const project = (): Observable<string> => {
          throw boom;
        };
        expectObservable(source.pipe(bufferSliding(1, project))).toBe('-#', undefined, boom);
      });
    });

    it("errors with the error of an `onDrop` that throws on eviction, reporting the rest 'cleared'", () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const onDrop = (v: string, reason: string): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'overflow') throw boom;
        };
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop }))).toBe(
          '---#',
          undefined,
          boom,
        );
      });
      expect(reports).toEqual(['overflow b', 'cleared c']);
    });
  });

  describe('unsubscribing', () => {
    it("tears down the source and the running inner, and reports the waiting value 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc------');
        const inner = cold('  -----(x|)');
        const unsub = '      ----!';
        expectObservable(source.pipe(bufferSliding(1, work(inner), { onDrop: drops.onDrop })), unsub).toBe(
          '-',
        );
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(inner.subscriptions).toBe('-^--!');
      });
      expect(drops.drops).toEqual([
        ['b', 'overflow'],
        ['c', 'cleared'],
      ]);
    });
  });

  describe('equivalence', () => {
    it('bufferSliding(1, p) is exhaustMap with trailing: the last value is always processed', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const inner = cold('  ---(x|)');
        const p = work(inner);
        const source = hot(' -a-b-c--d-e--f---|');
        const sliding = '    ----a--b--c--e--f|';
        const exhaust = '    ----a---c----e---|';
        expectObservable(source.pipe(bufferSliding(1, p, { onDrop: drops.onDrop }))).toBe(sliding);
        expectObservable(source.pipe(exhaustMapWithTrailing(p))).toBe(sliding);
        // Plain exhaustMap ignores b, d and f, losing the last value.
        expectObservable(source.pipe(exhaustMap(p))).toBe(exhaust);
      });
      expect(drops.drops).toEqual([['d', 'overflow']]);
    });
  });

  describe('synchronous sources and inners', () => {
    it('drains a queue of 100,000 values with synchronous inners without recursion', () => {
      const N = 100_000;
      const gate = new Subject<number>();
      let count = 0;
      let last = -1;
      range(0, N + 1)
        .pipe(bufferSliding(N, (v: number) => (v === 0 ? gate : of(v))))
        .subscribe((v) => {
          count++;
          last = v;
        });
      gate.complete();
      expect(count).toBe(N);
      expect(last).toBe(N);
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
          bufferSliding(1, (v: number) => of(v)),
          take(3),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(emitted).toBe(3);
    });
  });

  describe('types', () => {
    it('infers the output type from project', async () => {
      const op: OperatorFunction<number, string> = bufferSliding(1, (n: number) => of(String(n)));
      // @ts-expect-error project yields strings, so the output cannot be numbers
      const wrong: OperatorFunction<number, number> = bufferSliding(1, (n: number) => of(String(n)));
      expect(typeof wrong).toBe('function');
      expect(await lastValueFrom(of(1, 2).pipe(op, toArray()))).toEqual(['1', '2']);
    });
  });

  describe('bad input', () => {
    const project = (v: number): Observable<number> => of(v);

    it('throws at creation, naming the operator, the option and the value', () => {
      expect(thrownBy(() => bufferSliding(-1, project))).toEqual(
        errorShape(
          new RangeError(
            'bufferSliding: `capacity` must be a non-negative integer or Infinity, got -1 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferSliding(1, project, { concurrency: -2 }))).toEqual(
        errorShape(
          new RangeError(
            'bufferSliding: `concurrency` must be a positive integer or Infinity, got -2 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferSliding(1, project, { concurrency: true as never }))).toEqual(
        errorShape(
          new TypeError(
            'bufferSliding: `concurrency` must be a positive integer or Infinity, got true (boolean)',
          ),
        ),
      );
      expect(thrownBy(() => bufferSliding(1, {} as never))).toEqual(
        errorShape(
          new TypeError('bufferSliding: `project` must be a function, got [object Object] (object)'),
        ),
      );
    });
  });
});
