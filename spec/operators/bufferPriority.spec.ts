import {
  config,
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
import { bufferPriority, type DropReason } from 'rxjs-backpressure';
import { PriorityWaitQueue } from '../../src/internal/PriorityWaitQueue';
import { errorShape, recordCalls, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

/** A priority function reading a table; values missing from it have priority 0. */
function priorities(table: Record<string, number>): (value: string) => number {
  return (value) => table[value] ?? 0;
}

describe('bufferPriority', () => {
  describe('its JSDoc diagram (issue 8, section 2)', () => {
    it('starts D before C and sheds b, the oldest of the lowest priority', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('abcd-----------|');
        const inner = cold('----(x|)');
        const expected = '  ----A---D---C--|';
        const project = (v: string): Observable<string> => inner.pipe(map(() => v.toUpperCase()));
        const priority = priorities({ a: 1, b: 1, c: 2, d: 3 });
        expectObservable(source.pipe(bufferPriority(2, project, { priority, onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.timeline).toEqual([{ value: 'b', reason: 'shed', frame: 3 }]);
    });
  });

  describe('rule 1: a free slot and nothing waiting, project at once', () => {
    it('starts a value at its arrival, whatever its priority', () => {
      const s = testScheduler();
      const starts: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a----b---|');
        const inner = cold(' --(x|)');
        const project = (v: string): Observable<string> => {
          starts.push([v, s.now()]);
          return work(inner)(v);
        };
        expectObservable(
          source.pipe(bufferPriority(1, project, { priority: priorities({ a: -5, b: 100 }) })),
        ).toBe('---a----b-|');
      });
      expect(starts).toEqual([
        ['a', 1],
        ['b', 6],
      ]);
    });

    it('starts up to `concurrency` values at once, then queues', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc--------|');
        const inner = cold('  ----(x|)');
        const expected = '   -----ab--c--|';
        expectObservable(
          source.pipe(bufferPriority(1, work(inner), { concurrency: 2, priority: () => 0 })),
        ).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe(['-^---!', '--^---!', '-----^---!']);
      });
    });
  });

  describe('rule 2: when a slot frees, the highest priority starts; equal priorities by arrival', () => {
    it('starts the waiting values by priority, then arrival', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      const gate = new Subject<string>();
      const out: string[] = [];
      const source = new Subject<string>();
      const priority = priorities({ a: 0, b: 1, c: 3, d: 1, e: 3, f: -2, g: 2 });
      source
        .pipe(
          bufferPriority(Infinity, (v: string, i: number) => (v === 'a' ? gate : project(v, i)), {
            priority,
          }),
        )
        .subscribe((v) => out.push(v));
      for (const v of 'abcdefg') source.next(v);
      expect(calls).toEqual([]);
      gate.complete();
      expect(calls).toEqual([
        ['c', 2],
        ['e', 4],
        ['g', 6],
        ['b', 1],
        ['d', 3],
        ['f', 5],
      ]);
      expect(out).toEqual(['c', 'e', 'g', 'b', 'd', 'f']);
    });

    it('takes a value that arrives while others wait into account at the next free slot', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        // a runs 0-3; b (1) waits; c (2) arrives at 2, before the slot frees: c goes first.
        const source = hot('abc--------|');
        const inner = cold('---(x|)');
        const expected = '  ---a--c--b-|';
        const priority = priorities({ a: 0, b: 1, c: 2 });
        expectObservable(source.pipe(bufferPriority(5, work(inner), { priority }))).toBe(expected);
      });
    });

    it('with negative and fractional priorities, still orders highest first', () => {
      const order: string[] = [];
      const gate = new Subject<string>();
      of('run', 'p', 'q', 'r', 's')
        .pipe(
          bufferPriority(Infinity, (v: string) => (v === 'run' ? gate : of(v)), {
            priority: priorities({ p: -1.5, q: 0.25, r: -1e9, s: 0.5 }),
          }),
        )
        .subscribe((v) => order.push(v));
      gate.complete();
      expect(order).toEqual(['s', 'q', 'p', 'r']);
    });
  });

  describe('rule 3: shedding when capacity values wait', () => {
    /**
     * `run` runs from frame 0 to the end; the others arrive at frames 1, 2, ... and wait. The last one
     * arrives when `capacity` values wait.
     */
    interface ShedCase {
      name: string;
      capacity: number;
      /** Arrival order after `run`, with priorities. */
      waiting: [string, number][];
      shed: string;
      /** The order the kept values start in. */
      started: string[];
    }
    const shedCases: ShedCase[] = [
      {
        name: 'the arrival outranks the lowest: the oldest of the lowest priority is shed',
        capacity: 3,
        waiting: [
          ['x', 1],
          ['y', 1],
          ['z', 2],
          ['w', 2],
        ],
        shed: 'x',
        started: ['z', 'w', 'y'],
      },
      {
        name: 'the lowest is not the oldest: the lowest goes, not the oldest',
        capacity: 2,
        waiting: [
          ['p', 2],
          ['q', 1],
          ['r', 3],
        ],
        shed: 'q',
        started: ['r', 'p'],
      },
      {
        name: 'the arrival ties with the lowest: the arrival is shed (strictly lower only)',
        capacity: 2,
        waiting: [
          ['p', 2],
          ['q', 1],
          ['r', 1],
        ],
        shed: 'r',
        started: ['p', 'q'],
      },
      {
        name: 'the arrival ranks below every waiting value: the arrival is shed',
        capacity: 2,
        waiting: [
          ['p', 2],
          ['q', 3],
          ['r', -1],
        ],
        shed: 'r',
        started: ['q', 'p'],
      },
      {
        name: 'capacity 0: a value that cannot start at once is shed, whatever its priority',
        capacity: 0,
        waiting: [['p', 1000]],
        shed: 'p',
        started: [],
      },
    ];

    it.each(shedCases)('$name', ({ capacity, waiting, shed, started }) => {
      const gate = new Subject<string>();
      const { project, calls } = recordCalls((v: string) => (v === 'run' ? gate : of(v)));
      const drops = recordDrops<string>();
      const source = new Subject<string>();
      const table = Object.fromEntries(waiting);
      source
        .pipe(bufferPriority(capacity, project, { priority: priorities(table), onDrop: drops.onDrop }))
        .subscribe();
      source.next('run');
      for (const [v] of waiting) source.next(v);
      expect(drops.drops).toEqual([[shed, 'shed']]);
      gate.complete();
      expect(calls.map(([v]) => v)).toEqual(['run', ...started]);
    });

    it('sheds one value per arrival, each time the lowest then present', () => {
      const gate = new Subject<string>();
      const drops = recordDrops<string>();
      const { project, calls } = recordCalls((v: string) => (v === 'run' ? gate : of(v)));
      const source = new Subject<string>();
      // a1 b1 c2 wait (capacity 3); d3 sheds a; e3 sheds b; f2 ties with c, the lowest left: f is shed;
      // g4 sheds c.
      const priority = priorities({ a: 1, b: 1, c: 2, d: 3, e: 3, f: 2, g: 4 });
      source.pipe(bufferPriority(3, project, { priority, onDrop: drops.onDrop })).subscribe();
      for (const v of ['run', 'a', 'b', 'c', 'd', 'e', 'f', 'g']) source.next(v);
      expect(drops.drops).toEqual([
        ['a', 'shed'],
        ['b', 'shed'],
        ['f', 'shed'],
        ['c', 'shed'],
      ]);
      gate.complete();
      expect(calls.map(([v]) => v)).toEqual(['run', 'g', 'd', 'e']);
    });

    it('reports the shed value at the frame the arrival came, and never passes it to project', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      let inner = of('x');
      const { project, calls } = recordCalls((v: string) => work(inner)(v));
      s.run(({ hot, cold, expectObservable }) => {
        inner = cold('-----(x|)');
        const source = hot('-a-b-c----------|');
        const expected = '  ------a----c----|';
        expectObservable(
          source.pipe(bufferPriority(1, project, { priority: priorities({ c: 1 }), onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.timeline).toEqual([{ value: 'b', reason: 'shed', frame: 5 }]);
      expect(calls).toEqual([
        ['a', 0],
        ['c', 2],
      ]);
    });
  });

  describe('rule 4: index, and the priority function', () => {
    it('counts every source value in `index`, shed ones included', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      const gate = new Subject<string>();
      const source = new Subject<string>();
      const drops = recordDrops<string>();
      source
        .pipe(
          bufferPriority(1, (v: string, i: number) => (v === 'a' ? gate : project(v, i)), {
            priority: priorities({ b: 1, c: 2, d: 0, e: 3 }),
            onDrop: drops.onDrop,
          }),
        )
        .subscribe();
      for (const v of 'abcde') source.next(v);
      gate.complete();
      source.next('f');
      expect(drops.drops).toEqual([
        ['b', 'shed'],
        ['d', 'shed'],
        ['c', 'shed'],
      ]);
      expect(calls).toEqual([
        ['e', 4],
        ['f', 5],
      ]);
    });

    it('calls priority once per value, on arrival: started at once, waiting and shed alike', () => {
      const s = testScheduler();
      const seen: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-abc-----|');
        const inner = cold(' ---(x|)');
        const priority = (v: string): number => {
          seen.push([v, s.now()]);
          return v === 'b' ? 1 : 0;
        };
        expectObservable(source.pipe(bufferPriority(1, work(inner), { priority }))).toBe('----a--b-|');
      });
      expect(seen).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
    });

    it("reports a value whose priority throws 'rejected', clears the rest, and errors with the thrown error", () => {
      const boom = new Error('priority failed');
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const priority = (v: string): number => {
          if (v === 'c') throw boom;
          return 0;
        };
        expectObservable(
          source.pipe(bufferPriority(2, work(inner), { priority, onDrop: drops.onDrop })),
        ).toBe('---#', undefined, boom);
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(inner.subscriptions).toBe('-^-!');
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'rejected', frame: 3 },
        { value: 'b', reason: 'cleared', frame: 3 },
      ]);
    });

    it('rejects a priority thrown for a value that would start at once (nothing reaches project)', () => {
      const boom = new Error('priority failed');
      const { project, calls } = recordCalls((v: string) => of(v));
      const drops = recordDrops<string>();
      let error: unknown;
      of('a')
        .pipe(
          bufferPriority(1, project, {
            priority: () => {
              throw boom;
            },
            onDrop: drops.onDrop,
          }),
        )
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBe(boom);
      expect(calls).toEqual([]);
      expect(drops.drops).toEqual([['a', 'rejected']]);
    });

    const notFinite: [string, unknown, string][] = [
      ['NaN', NaN, 'NaN (number)'],
      ['Infinity', Infinity, 'Infinity (number)'],
      ['-Infinity', -Infinity, '-Infinity (number)'],
      ["'x'", 'x', '"x" (string)'],
      ["'3' (a numeric string)", '3', '"3" (string)'],
      ['undefined', undefined, 'undefined'],
      ['null', null, 'null'],
      ['a bigint', 3n, '3 (bigint)'],
      ['an object', { valueOf: () => 1 }, '[object Object] (object)'],
    ];

    it.each(notFinite)(
      "reports a value whose priority returns %s 'rejected' and errors with a TypeError naming what it got",
      (_, returned, described) => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        let inner = of('x');
        const { project, calls } = recordCalls((v: string) => work(inner)(v));
        s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
          inner = cold('-----(x|)');
          const source = hot(' -ab-c--|');
          const priority = (v: string): number => (v === 'c' ? (returned as number) : 0);
          expectObservable(source.pipe(bufferPriority(2, project, { priority, onDrop: drops.onDrop }))).toBe(
            '----#',
            undefined,
            new TypeError(`bufferPriority: \`priority\` must return a finite number, got ${described}`),
          );
          expectSubscriptions(source.subscriptions).toBe('^---!');
        });
        expect(calls.map(([v]) => v)).toEqual(['a']);
        expect(drops.timeline).toEqual([
          { value: 'c', reason: 'rejected', frame: 4 },
          { value: 'b', reason: 'cleared', frame: 4 },
        ]);
      },
    );
  });

  describe('rule 5: the checklist of the other buffers', () => {
    const priority = priorities({ a: 1, b: 2, c: 3, d: 4 });

    it('never emits for a source that never emits, and stays subscribed', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(bufferPriority(1, project, { priority }))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
      expect(calls).toEqual([]);
    });

    it('completes at once for an empty source', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        expectObservable(source.pipe(bufferPriority(1, (v: string) => of(v), { priority }))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
    });

    it('passes one value to project and completes after source and inner', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' --a---|');
        const inner = cold('   ---(x|)');
        const expected = '   -----a|';
        expectObservable(source.pipe(bufferPriority(1, work(inner), { priority }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(inner.subscriptions).toBe('--^--!');
      });
    });

    it('waits for the last inner before completing', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -ab|');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----(b|)';
        expectObservable(source.pipe(bufferPriority(1, work(inner), { priority }))).toBe(expected);
      });
    });

    it('with capacity Infinity, never sheds and works everything off by priority', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcd)-|');
        const inner = cold('  --(x|)');
        const expected = '   ---a-d-c-(b|)';
        expectObservable(
          source.pipe(bufferPriority(Infinity, work(inner), { priority, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });

    it('never queues with concurrency Infinity, even with capacity 0', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abcd----------|');
        const inner = cold('  -----(x|)');
        const expected = '   ------abcd-----|';
        expectObservable(
          source.pipe(bufferPriority(0, work(inner), { concurrency: Infinity, priority })),
        ).toBe(expected);
      });
    });

    it('emits projected values in the order the inners emit them', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const inners: Record<string, Observable<string>> = {
          a: cold('-----(x|)', { x: 'a' }),
          b: cold('-(x|)', { x: 'b' }),
        };
        const source = hot('-ab------|');
        const expected = '  ---b--a--|';
        expectObservable(
          source.pipe(bufferPriority(0, (v: string) => inners[v]!, { concurrency: 2, priority })),
        ).toBe(expected);
      });
    });

    it("sends a source error at once, reporting waiting values 'cleared', oldest first", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd-#');
        const inner = cold('  ------(x|)');
        expectObservable(
          source.pipe(bufferPriority(3, work(inner), { priority, onDrop: drops.onDrop })),
        ).toBe('------#');
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(inner.subscriptions).toBe('-^----!');
      });
      // Waiting b (2), c (3), d (4): reported in arrival order, not priority order.
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 6 },
        { value: 'c', reason: 'cleared', frame: 6 },
        { value: 'd', reason: 'cleared', frame: 6 },
      ]);
    });

    it('with delayError, works off the queue by priority before sending a source error', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----c----(b#)';
        expectObservable(
          source.pipe(bufferPriority(2, work(inner), { priority, delayError: true, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });

    it("errors when an inner errors, reporting waiting values 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot('  -abcd------|');
        const inner = cold('   ---(x|)');
        const failing = cold(' --#');
        // a runs 1-4; then d (4) starts and fails at 6; b and c are cleared.
        const project = (v: string): Observable<string> => (v === 'd' ? failing : work(inner)(v));
        expectObservable(source.pipe(bufferPriority(3, project, { priority, onDrop: drops.onDrop }))).toBe(
          '----a-#',
        );
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(failing.subscriptions).toBe('----^-!');
      });
      expect(drops.drops).toEqual([
        ['b', 'cleared'],
        ['c', 'cleared'],
      ]);
    });

    it("errors when project throws, reporting waiting values 'cleared'", () => {
      const boom = new Error('project failed');
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-------|');
        const inner = cold('  ---(x|)');
        const project = (v: string): Observable<string> => {
          if (v === 'c') throw boom;
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferPriority(2, project, { priority, onDrop: drops.onDrop }))).toBe(
          '----(a#)',
          undefined,
          boom,
        );
      });
      expect(drops.drops).toEqual([['b', 'cleared']]);
    });

    it('errors when project throws for a value that starts at once', () => {
      const boom = new Error('project failed');
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a--|');
        const project = (): Observable<string> => {
          throw boom;
        };
        expectObservable(source.pipe(bufferPriority(1, project, { priority }))).toBe('-#', undefined, boom);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('errors with a TypeError naming the operator when project returns no ObservableInput', () => {
      let error: unknown;
      of('a')
        .pipe(bufferPriority(1, () => 42 as never, { priority }))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(errorShape(error as Error)).toEqual(
        errorShape(
          new TypeError(
            'bufferPriority: `project` must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got 42 (number)',
          ),
        ),
      );
    });

    it("errors with the error of an `onDrop` that throws on 'shed' (the evicted value), clearing the rest", () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const onDrop = (v: string, reason: DropReason): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'shed') throw boom;
        };
        // a runs; b (2) waits; c (3) evicts b.
        expectObservable(source.pipe(bufferPriority(1, work(inner), { priority, onDrop }))).toBe(
          '---#',
          undefined,
          boom,
        );
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(inner.subscriptions).toBe('-^-!');
      });
      expect(reports).toEqual(['shed b', 'cleared c']);
    });

    it("errors with the error of an `onDrop` that throws on 'shed' (the arrival), clearing the rest", () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -dba----|');
        const inner = cold('  -----(x|)');
        const onDrop = (v: string, reason: DropReason): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'shed') throw boom;
        };
        // d runs; b (2) waits; a (1) is shed itself.
        expectObservable(source.pipe(bufferPriority(1, work(inner), { priority, onDrop }))).toBe(
          '---#',
          undefined,
          boom,
        );
      });
      expect(reports).toEqual(['shed a', 'cleared b']);
    });

    it('reports an `onDrop` that throws while clearing as unhandled, and still errors', () => {
      const boom = new Error('onDrop failed');
      const unhandled: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (err: unknown) => unhandled.push(err);
      try {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot(' -ab-#');
          const inner = cold('  -----(x|)');
          const onDrop = (): void => {
            throw boom;
          };
          expectObservable(source.pipe(bufferPriority(1, work(inner), { priority, onDrop }))).toBe('----#');
        });
      } finally {
        config.onUnhandledError = previous;
      }
      expect(unhandled).toEqual([boom]);
    });

    it("tears down the source and every running inner when unsubscribed, reporting waiting values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -adcb-----');
        const inner = cold('  -----(x|)');
        const unsub = '      -----!';
        expectObservable(
          source.pipe(bufferPriority(2, work(inner), { concurrency: 2, priority, onDrop: drops.onDrop })),
          unsub,
        ).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectSubscriptions(inner.subscriptions).toBe(['-^---!', '--^--!']);
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'cleared', frame: 5 },
        { value: 'b', reason: 'cleared', frame: 5 },
      ]);
    });

    it('drains a queue of 100,000 values with synchronous inners without recursion, by priority', () => {
      const N = 100_000;
      const gate = new Subject<number>();
      const out: number[] = [];
      let completed = false;
      const rank = (v: number): number => (v * 7919) % 13;
      range(0, N + 1)
        .pipe(bufferPriority(Infinity, (v: number) => (v === 0 ? gate : of(v)), { priority: rank }))
        .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
      expect(out).toEqual([]);
      gate.complete();
      expect(out.length).toBe(N);
      expect(completed).toBe(true);
      const expected = Array.from({ length: N }, (_, i) => i + 1).sort((a, b) => rank(b) - rank(a) || a - b);
      expect(out).toEqual(expected);
    });

    it('stops an infinite synchronous source when take(3) downstream has what it wants', () => {
      let emitted = 0;
      let sawClosed = false;
      const firehose = new Observable<number>((subscriber) => {
        let i = 0;
        while (!subscriber.closed) {
          emitted++;
          subscriber.next(i++);
        }
        sawClosed = subscriber.closed;
      });
      const out: number[] = [];
      let completed = false;
      firehose
        .pipe(
          bufferPriority(1, (v: number) => of(v), { priority: (v) => v % 3 }),
          take(3),
        )
        .subscribe({ next: (v) => out.push(v), complete: () => (completed = true) });
      expect(out).toEqual([0, 1, 2]);
      expect(completed).toBe(true);
      expect(emitted).toBe(3);
      expect(sawClosed).toBe(true);
    });

    it('accounts for every value once: released or shed (conservation)', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      const out: string[] = [];
      let inner = of('x');
      const { project, calls } = recordCalls((v: string) => work(inner)(v));
      const table = { a: 2, b: 0, c: 1, d: 3, e: 0, f: 2, g: 1, h: 4, i: 0, j: 2 };
      s.run(({ hot, cold }) => {
        inner = cold('---(x|)');
        hot('-ab(cd)e-fg-hij-----|')
          .pipe(bufferPriority(2, project, { priority: priorities(table), onDrop: drops.onDrop }))
          .subscribe((v) => out.push(v));
      });
      expect(out).toEqual(calls.map(([v]) => v));
      expect(drops.drops.length).toBeGreaterThan(0);
      expect(drops.drops.every(([, reason]) => reason === 'shed')).toBe(true);
      const accounted = [...calls.map(([v]) => v), ...drops.drops.map(([v]) => v)].sort();
      expect(accounted).toEqual(Object.keys(table).sort());
    });
  });

  describe('types', () => {
    it('infers the value type for priority and the output type from project', async () => {
      const op: OperatorFunction<number, string> = bufferPriority(1, (n: number) => of(String(n)), {
        priority: (n) => n,
      });
      // @ts-expect-error project yields strings, so the output cannot be numbers
      const wrong: OperatorFunction<number, number> = bufferPriority(1, (n: number) => of(String(n)), {
        priority: (n) => n,
      });
      const inferred: Observable<string> = of(1, 2).pipe(
        bufferPriority(1, (n) => of(n.toFixed(1)), { priority: (n) => -n }),
      );
      expect(typeof wrong).toBe('function');
      expect(await lastValueFrom(of(1, 2).pipe(op, toArray()))).toEqual(['1', '2']);
      expect(await lastValueFrom(inferred.pipe(toArray()))).toEqual(['1.0', '2.0']);
    });

    it('requires the options argument and its priority', () => {
      // @ts-expect-error options (with priority) are required
      const noOptions = (): unknown => bufferPriority(1, (n: number) => of(n));
      // @ts-expect-error priority is required
      const noPriority = (): unknown => bufferPriority(1, (n: number) => of(n), {});
      expect(noOptions).toThrow(TypeError);
      expect(noPriority).toThrow(TypeError);
    });
  });

  it('reports a value the queue cannot take (more than it can ever hold) and fails with why', () => {
    // The queue's limit (2^26 values waiting) is out of reach of a test: it refuses 'c' here instead.
    const error = new RangeError('bufferPriority: more than 67108864 values cannot wait at once');
    // Called below with the queue as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const original = PriorityWaitQueue.prototype.push;
    const push = jest.spyOn(PriorityWaitQueue.prototype, 'push').mockImplementation(function (
      this: PriorityWaitQueue<unknown>,
      ...args
    ) {
      if (args[0] === 'c') throw error;
      original.apply(this, args);
    });
    try {
      const drops: [string, DropReason][] = [];
      const source = new Subject<string>();
      let failure: unknown;
      source
        .pipe(
          bufferPriority(10, () => new Observable<string>(), {
            priority: () => 1,
            onDrop: (value, reason) => drops.push([value, reason]),
          }),
        )
        .subscribe({ error: (err: unknown) => (failure = err) });
      source.next('a'); // runs (never ends)
      source.next('b'); // waits
      source.next('c'); // refused by the queue
      expect(failure).toBe(error);
      expect(drops).toEqual([
        ['c', 'cleared'],
        ['b', 'cleared'],
      ]);
      expect(source.observed).toBe(false);
    } finally {
      push.mockRestore();
    }
  });

  describe('bad input', () => {
    const p = (v: number): Observable<number> => of(v);
    const priority = (v: number): number => v;

    it('throws TypeError at creation without options or without a priority function', () => {
      expect(thrownBy(() => bufferPriority(1, p, undefined as never))).toEqual(
        errorShape(new TypeError('bufferPriority: `options` must be an object, got undefined')),
      );
      expect(thrownBy(() => bufferPriority(1, p, null as never))).toEqual(
        errorShape(new TypeError('bufferPriority: `options` must be an object, got null')),
      );
      expect(thrownBy(() => bufferPriority(1, p, {} as never))).toEqual(
        errorShape(new TypeError('bufferPriority: `priority` must be a function, got undefined')),
      );
      expect(thrownBy(() => bufferPriority(1, p, { priority: 3 as never }))).toEqual(
        errorShape(new TypeError('bufferPriority: `priority` must be a function, got 3 (number)')),
      );
    });

    it('throws at creation for a bad capacity, concurrency, project, onDrop or delayError', () => {
      expect(thrownBy(() => bufferPriority(-1, p, { priority }))).toEqual(
        errorShape(
          new RangeError(
            'bufferPriority: `capacity` must be a non-negative integer or Infinity, got -1 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferPriority('1' as never, p, { priority }))).toEqual(
        errorShape(
          new TypeError(
            'bufferPriority: `capacity` must be a non-negative integer or Infinity, got "1" (string)',
          ),
        ),
      );
      expect(thrownBy(() => bufferPriority(1, p, { priority, concurrency: 0 }))).toEqual(
        errorShape(
          new RangeError(
            'bufferPriority: `concurrency` must be a positive integer or Infinity, got 0 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferPriority(1, undefined as never, { priority }))).toEqual(
        errorShape(new TypeError('bufferPriority: `project` must be a function, got undefined')),
      );
      expect(thrownBy(() => bufferPriority(1, p, { priority, onDrop: [] as never }))).toEqual(
        errorShape(new TypeError('bufferPriority: `onDrop` must be a function, got an array')),
      );
      expect(thrownBy(() => bufferPriority(1, p, { priority, delayError: 1 as never }))).toEqual(
        errorShape(new TypeError('bufferPriority: `delayError` must be a boolean, got 1 (number)')),
      );
    });

    it('refuses an unknown option with a hint, listing priority among the known ones', () => {
      expect(thrownBy(() => bufferPriority(1, p, { priority, priorty: 1 } as never))).toEqual(
        errorShape(
          new TypeError(
            'bufferPriority: unknown option `priorty` (did you mean `priority`?); known: `concurrency`, `onDrop`, `delayError`, `ttl`, `scheduler`, `onError`, `meter`, `priority`',
          ),
        ),
      );
    });

    it('does not call priority at creation', () => {
      let called = 0;
      bufferPriority(1, p, {
        priority: (v: number) => {
          called++;
          return v;
        },
      });
      expect(called).toBe(0);
    });
  });
});
