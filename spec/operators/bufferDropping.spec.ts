import {
  exhaustMap,
  lastValueFrom,
  map,
  NEVER,
  Observable,
  of,
  range,
  Subject,
  take,
  throwError,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { bufferDropping } from 'rxjs-backpressure';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

describe('bufferDropping', () => {
  describe('its JSDoc diagram', () => {
    it('drops c, which arrives while a runs and b waits', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' ----(x|)');
        const expected = '  -----a---b---(d|)';
        expectObservable(source.pipe(bufferDropping(1, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'overflow', frame: 5 }]);
    });

    it('with longer work, drops every value that finds the queue full', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' -------(x|)');
        const expected = '  --------a------(b|)';
        expectObservable(source.pipe(bufferDropping(1, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'overflow', frame: 5 },
        { value: 'd', reason: 'overflow', frame: 7 },
      ]);
    });
  });

  describe('the checklist', () => {
    it('never emits for a source that never emits', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        expectObservable(source.pipe(bufferDropping(1, (v: string) => of(v)))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^');
      });
    });

    it('completes at once for an empty source', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('|').pipe(bufferDropping(1, (v: string) => of(v)))).toBe('|');
      });
    });

    it('passes one value to project and completes after source and inner', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' --a---|');
        const inner = cold('   ---(x|)');
        const expected = '   -----a|';
        expectObservable(source.pipe(bufferDropping(1, work(inner)))).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe('--^--!');
      });
    });

    it('drops arriving values while the queue is full; `index` counts the dropped ones', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      const calls: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abcd-----e-----|');
        const inner = cold('  ----(x|)');
        const expected = '   -----a---b----e-|';
        const project = (v: string, index: number): Observable<string> => {
          calls.push([v, index]);
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferDropping(1, project, { onDrop: drops.onDrop }))).toBe(expected);
      });
      expect(calls).toEqual([
        ['a', 0],
        ['b', 1],
        ['e', 4],
      ]);
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'overflow', frame: 3 },
        { value: 'd', reason: 'overflow', frame: 4 },
      ]);
    });

    it('runs up to `concurrency` inners; the queue only holds values that wait', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd-------|');
        const inner = cold('  ----(x|)');
        const expected = '   -----ab--c--|';
        expectObservable(
          source.pipe(bufferDropping(1, work(inner), { concurrency: 2, onDrop: drops.onDrop })),
        ).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe(['-^---!', '--^---!', '-----^---!']);
      });
      expect(drops.drops).toEqual([['d', 'overflow']]);
    });

    it('drops nothing with concurrency Infinity', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abcd----|');
        const inner = cold('  ----(x|)');
        const expected = '   -----abcd|';
        expectObservable(
          source.pipe(bufferDropping(0, work(inner), { concurrency: Infinity, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });

    it('drops nothing with capacity Infinity', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcd)-|');
        const inner = cold('  --(x|)');
        const expected = '   ---a-b-c-(d|)';
        expectObservable(source.pipe(bufferDropping(Infinity, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
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
        const expected = '   -----#';
        expectObservable(source.pipe(bufferDropping(1, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
        expectSubscriptions(inner.subscriptions).toBe('-^---!');
      });
      expect(drops.drops).toEqual([
        ['c', 'overflow'],
        ['b', 'cleared'],
      ]);
    });

    it('with delayError, works off the queue before sending a source error', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----(b#)';
        expectObservable(
          source.pipe(bufferDropping(1, work(inner), { delayError: true, onDrop: drops.onDrop })),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([['c', 'overflow']]);
    });

    it("errors when an inner errors, reporting the waiting value 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot('  -ab----|');
        const failing = cold(' ---#');
        const expected = '    ----#';
        expectObservable(source.pipe(bufferDropping(1, () => failing, { onDrop: drops.onDrop }))).toBe(
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(failing.subscriptions).toBe('-^--!');
      });
      expect(drops.drops).toEqual([['b', 'cleared']]);
    });

    it('errors when project throws', () => {
      const boom = new Error('project failed');
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -ab----|');
        const inner = cold('  --(x|)');
        const project = (v: string): Observable<string> => {
          if (v === 'b') throw boom;
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferDropping(1, project))).toBe('---(a#)', undefined, boom);
      });
    });

    it("errors with the error of an `onDrop` that throws, reporting the waiting value 'cleared'", () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const onDrop = (v: string, reason: string): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'overflow') throw boom;
        };
        expectObservable(source.pipe(bufferDropping(1, work(inner), { onDrop }))).toBe(
          '---#',
          undefined,
          boom,
        );
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
      expect(reports).toEqual(['overflow c', 'cleared b']);
    });
  });

  describe('unsubscribing', () => {
    it("tears down the source and the running inners, and reports waiting values 'cleared'", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd-----');
        const inner = cold('  -----(x|)');
        const unsub = '      -----!';
        expectObservable(
          source.pipe(bufferDropping(2, work(inner), { concurrency: 2, onDrop: drops.onDrop })),
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
  });

  describe('equivalence', () => {
    it('bufferDropping(0, p) behaves as exhaustMap(p)', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const inner = cold('  ---(x|)');
        // d and f arrive in the frame where the running inner completes: the source is heard first,
        // so both operators ignore them.
        const source = hot(' -a-b-c--d-e--f---|');
        const expected = '   ----a---c----e---|';
        expectObservable(source.pipe(bufferDropping(0, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
        expectObservable(source.pipe(exhaustMap(work(inner)))).toBe(expected);
      });
      expect(drops.drops).toEqual([
        ['b', 'overflow'],
        ['d', 'overflow'],
        ['f', 'overflow'],
      ]);
    });
  });

  describe('synchronous sources and inners', () => {
    it('drains a queue of 100,000 values with synchronous inners without recursion', () => {
      const N = 100_000;
      const gate = new Subject<number>();
      const drops = recordDrops<number>();
      let count = 0;
      let completed = false;
      range(0, N + 1)
        .pipe(bufferDropping(N, (v: number) => (v === 0 ? gate : of(v)), { onDrop: drops.onDrop }))
        .subscribe({ next: () => count++, complete: () => (completed = true) });
      gate.complete();
      expect(count).toBe(N);
      expect(completed).toBe(true);
      expect(drops.drops).toEqual([]);
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
      firehose
        .pipe(
          bufferDropping(0, (v: number) => of(v)),
          take(3),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(emitted).toBe(3);
      expect(sawClosed).toBe(true);
    });
  });

  describe('types', () => {
    it('infers the output type from project', async () => {
      const op: OperatorFunction<number, string> = bufferDropping(1, (n: number) => [String(n)]);
      // @ts-expect-error project yields strings, so the output cannot be numbers
      const wrong: OperatorFunction<number, number> = bufferDropping(1, (n: number) => [String(n)]);
      expect(typeof wrong).toBe('function');
      expect(await lastValueFrom(of(1, 2).pipe(op, toArray()))).toEqual(['1', '2']);
    });
  });

  describe('bad input', () => {
    const project = (v: number): Observable<number> => of(v);

    it('throws at creation, naming the operator, the option and the value', () => {
      expect(thrownBy(() => bufferDropping(-1, project))).toEqual(
        errorShape(
          new RangeError(
            'bufferDropping: `capacity` must be a non-negative integer or Infinity, got -1 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferDropping(1, project, { concurrency: NaN }))).toEqual(
        errorShape(
          new RangeError(
            'bufferDropping: `concurrency` must be a positive integer or Infinity, got NaN (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferDropping(1, null as never))).toEqual(
        errorShape(new TypeError('bufferDropping: `project` must be a function, got null')),
      );
      expect(thrownBy(() => bufferDropping(1, project, { onDrop: 'log' as never }))).toEqual(
        errorShape(new TypeError('bufferDropping: `onDrop` must be a function, got "log" (string)')),
      );
    });
  });
  describe('values fed back synchronously from inside project', () => {
    it('start at once while slots are free, without counting against capacity', () => {
      const source = new Subject<number>();
      const started: number[] = [];
      const dropped: number[] = [];
      source
        .pipe(
          bufferDropping(
            1,
            (v: number) => {
              started.push(v);
              if (v === 1) {
                source.next(2);
                source.next(3);
              }
              return NEVER;
            },
            { concurrency: 3, onDrop: (v) => dropped.push(v) },
          ),
        )
        .subscribe();
      source.next(1);
      expect(started).toEqual([1, 2, 3]);
      expect(dropped).toEqual([]);
      source.next(4); // all three slots busy: waits
      source.next(5); // capacity 1 full: dropped
      expect(started).toEqual([1, 2, 3]);
      expect(dropped).toEqual([5]);
    });

    it('a consumer feeding the source from its next handler runs 100,000 values without stack overflow', () => {
      const source = new Subject<number>();
      let last = 0;
      source.pipe(bufferDropping(1, (v: number) => of(v))).subscribe((v) => {
        last = v;
        if (v < 100_000) source.next(v + 1);
      });
      source.next(1);
      expect(last).toBe(100_000);
    });
  });
  it('stops listening to the source before the error is delivered (a value fed back from the error handler never reaches it)', () => {
    const source = new Subject<string>();
    const started: string[] = [];
    const dropped: string[] = [];
    source
      .pipe(
        bufferDropping(
          5,
          (v: string) => {
            started.push(v);
            return v === 'boom' ? throwError(() => new Error('boom')) : NEVER;
          },
          { onDrop: (v) => dropped.push(v) },
        ),
      )
      .subscribe({ error: () => source.next('late') });
    source.next('boom');
    expect(started).toEqual(['boom']);
    expect(dropped).toEqual([]);
    expect(source.observed).toBe(false);
  });
});
