import {
  concatMap,
  config,
  from,
  lastValueFrom,
  map,
  Observable,
  of,
  range,
  Subject,
  take,
  tap,
  toArray,
  type OperatorFunction,
} from 'rxjs';
import { BufferOverflowError, bufferFixed, isBufferOverflowError } from 'rxjs-backpressure';
import { errorShape, recordCalls, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

describe('bufferFixed', () => {
  describe('its JSDoc diagram', () => {
    it('errors when c arrives while b waits', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' ----(x|)');
        const expected = '  -----#';
        expectObservable(source.pipe(bufferFixed(1, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
          undefined,
          new BufferOverflowError(1, 'c', 'bufferFixed'),
        );
      });
      expect(drops.drops).toEqual([
        ['c', 'overflow'],
        ['b', 'cleared'],
      ]);
    });
  });

  describe('overflow with more than one waiting', () => {
    it('errors when the fourth value finds two waiting', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot('-a-b-c-d-|');
        const inner = cold(' -------(x|)');
        const expected = '  -------#';
        expectObservable(source.pipe(bufferFixed(2, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
          undefined,
          new BufferOverflowError(2, 'd', 'bufferFixed'),
        );
      });
      expect(drops.drops).toEqual([
        ['d', 'overflow'],
        ['b', 'cleared'],
        ['c', 'cleared'],
      ]);
    });
  });

  describe('the checklist', () => {
    it('never emits for a source that never emits, and stays subscribed', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('-');
        const subs = '       ^';
        expectObservable(source.pipe(bufferFixed(1, project))).toBe('-');
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(calls).toEqual([]);
    });

    it('completes at once for an empty source', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold('|');
        expectObservable(source.pipe(bufferFixed(1, project))).toBe('|');
        expectSubscriptions(source.subscriptions).toBe('(^!)');
      });
      expect(calls).toEqual([]);
    });

    it('passes one value to project and completes after source and inner', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' --a---|');
        const inner = cold('   ---(x|)');
        const expected = '   -----a|';
        expectObservable(source.pipe(bufferFixed(1, work(inner)))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(inner.subscriptions).toBe('--^--!');
      });
    });

    it('queues values up to capacity and starts them in arrival order as inners complete', () => {
      const calls: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-----------|');
        const inner = cold('  ---(x|)');
        const expected = '   ----a--b--c----|';
        const project = (v: string): Observable<string> => {
          calls.push(v);
          return work(inner)(v);
        };
        expectObservable(source.pipe(bufferFixed(2, project))).toBe(expected);
        expectSubscriptions(inner.subscriptions).toBe(['-^--!', '----^--!', '-------^--!']);
      });
      expect(calls).toEqual(['a', 'b', 'c']);
    });

    it('passes each value with its index in the source', () => {
      const { project, calls } = recordCalls((v: string) => of(v));
      testScheduler().run(({ hot, expectObservable }) => {
        const source = hot('-a-b-c-|');
        expectObservable(source.pipe(bufferFixed(0, project))).toBe('-a-b-c-|');
      });
      expect(calls).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]);
    });

    it('emits projected values in the order the inners emit them', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const inners: Record<string, Observable<string>> = {
          a: cold('-----(x|)', { x: 'a' }),
          b: cold('-(x|)', { x: 'b' }),
        };
        const source = hot('-ab------|');
        const expected = '  ---b--a--|';
        expectObservable(source.pipe(bufferFixed(0, (v: string) => inners[v]!, { concurrency: 2 }))).toBe(
          expected,
        );
      });
    });

    it('runs up to `concurrency` inners at once; waiting values do not count running ones', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abcd----------|');
        const inner = cold('  -----(x|)');
        const expected = '   ------ab---cd--|';
        expectObservable(source.pipe(bufferFixed(2, work(inner), { concurrency: 2 }))).toBe(expected);
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
        expectObservable(source.pipe(bufferFixed(0, work(inner), { concurrency: Infinity }))).toBe(expected);
      });
    });

    it('with capacity 0, errors as soon as a value cannot start at once', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -ab---|');
        const inner = cold('  ---(x|)');
        const expected = '   --#';
        expectObservable(source.pipe(bufferFixed(0, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
          undefined,
          new BufferOverflowError(0, 'b', 'bufferFixed'),
        );
        expectSubscriptions(source.subscriptions).toBe('^-!');
        expectSubscriptions(inner.subscriptions).toBe('-^!');
      });
      expect(drops.drops).toEqual([['b', 'overflow']]);
    });

    it('with capacity Infinity, never overflows', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -(abcdefgh)-|');
        const inner = cold('  --(x|)');
        const expected = '   ---a-b-c-d-e-f-g-(h|)';
        expectObservable(source.pipe(bufferFixed(Infinity, work(inner), { onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.drops).toEqual([]);
    });
  });

  describe('overflow', () => {
    it("reports the arriving value 'overflow', then the waiting ones 'cleared', then errors", () => {
      const log: string[] = [];
      let error: unknown;
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const expected = '   ---#';
        const result = source.pipe(
          bufferFixed(1, work(inner), { onDrop: (v, reason) => log.push(`${reason} ${v}`) }),
          tap({
            error: (err: unknown) => {
              error = err;
              log.push('error');
            },
          }),
        );
        expectObservable(result).toBe(expected, undefined, new BufferOverflowError(1, 'c', 'bufferFixed'));
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(inner.subscriptions).toBe('-^-!');
      });
      expect(log).toEqual(['overflow c', 'cleared b', 'error']);
      expect(error).toBeInstanceOf(BufferOverflowError);
      expect(error).toBeInstanceOf(Error);
      const overflow = error as BufferOverflowError<string>;
      expect(overflow.name).toBe('BufferOverflowError');
      expect(overflow.capacity).toBe(1);
      expect(overflow.value).toBe('c');
      expect(overflow.message).toBe(
        'bufferFixed: buffer overflow: a value arrived while the queue was full (`capacity` 1)',
      );
      expect(isBufferOverflowError(overflow)).toBe(true);
    });

    it('errors with the error of an `onDrop` that throws on overflow, still clearing the queue', () => {
      const boom = new Error('onDrop failed');
      const reports: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -abc----|');
        const inner = cold('  -----(x|)');
        const expected = '   ---#';
        const onDrop = (v: string, reason: string): void => {
          reports.push(`${reason} ${v}`);
          if (reason === 'overflow') throw boom;
        };
        expectObservable(source.pipe(bufferFixed(1, work(inner), { onDrop }))).toBe(
          expected,
          undefined,
          boom,
        );
      });
      expect(reports).toEqual(['overflow c', 'cleared b']);
    });
  });

  describe('errors', () => {
    it("sends a source error at once, reporting waiting values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   -----#';
        expectObservable(source.pipe(bufferFixed(2, work(inner), { onDrop: drops.onDrop }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectSubscriptions(inner.subscriptions).toBe('-^---!');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'cleared', frame: 5 },
        { value: 'c', reason: 'cleared', frame: 5 },
      ]);
    });

    it('with delayError, works off the queue and the running inner before sending a source error', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-#');
        const inner = cold('  -----(x|)');
        const expected = '   ------a----b----(c#)';
        expectObservable(
          source.pipe(bufferFixed(2, work(inner), { delayError: true, onDrop: drops.onDrop })),
        ).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^----!');
        expectSubscriptions(inner.subscriptions).toBe(['-^----!', '------^----!', '-----------^----!']);
      });
      expect(drops.drops).toEqual([]);
    });

    it('with delayError, sends a source error at once when nothing waits or runs', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const source = hot(' -a-----#');
        const inner = cold('  ---(x|)');
        const expected = '   ----a--#';
        expectObservable(source.pipe(bufferFixed(2, work(inner), { delayError: true }))).toBe(expected);
      });
    });

    it("errors when an inner errors, reporting waiting values 'cleared' and unsubscribing the source", () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot('  -abc-------|');
        const inner = cold('   ---(x|)');
        const failing = cold(' --#');
        const expected = '    ----a-#';
        const project = (v: string): Observable<string> => (v === 'b' ? failing : work(inner)(v));
        expectObservable(source.pipe(bufferFixed(2, project, { onDrop: drops.onDrop }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(failing.subscriptions).toBe('----^-!');
      });
      expect(drops.drops).toEqual([['c', 'cleared']]);
    });

    it('errors when project throws for a value taken from the queue', () => {
      const boom = new Error('project failed');
      const drops = recordDrops<string>();
      const calls: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc-------|');
        const inner = cold('  ---(x|)');
        const expected = '   ----(a#)';
        const project = (v: string): Observable<string> => {
          calls.push(v);
          if (v === 'b') throw boom;
          return work(inner)(v);
        };
        const result = source.pipe(bufferFixed(2, project, { onDrop: drops.onDrop }));
        expectObservable(result).toBe(expected, undefined, boom);
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
      expect(calls).toEqual(['a', 'b']);
      expect(drops.drops).toEqual([['c', 'cleared']]);
    });

    it('errors when project throws for a value that starts at once', () => {
      const boom = new Error('project failed');
      testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
        const source = hot('-a--|');
        const project = (): Observable<string> => {
          throw boom;
        };
        expectObservable(source.pipe(bufferFixed(1, project))).toBe('-#', undefined, boom);
        expectSubscriptions(source.subscriptions).toBe('^!');
      });
    });

    it('errors when project returns something that is not an ObservableInput', () => {
      const drops = recordDrops<number>();
      let error: unknown;
      of(1, 2)
        .pipe(bufferFixed(1, () => 42 as unknown as Observable<number>, { onDrop: drops.onDrop }))
        .subscribe({ error: (err: unknown) => (error = err) });
      expect(error).toBeInstanceOf(TypeError);
      expect(drops.drops).toEqual([]);
    });

    it('still sends the error when `onDrop` throws while clearing, and reports the throw as unhandled', () => {
      const boom = new Error('onDrop failed');
      const unhandled: unknown[] = [];
      const previous = config.onUnhandledError;
      config.onUnhandledError = (err) => unhandled.push(err);
      try {
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const source = hot(' -ab-#');
          const inner = cold('  -----(x|)');
          const onDrop = (): void => {
            throw boom;
          };
          expectObservable(source.pipe(bufferFixed(1, work(inner), { onDrop }))).toBe('----#');
        });
      } finally {
        config.onUnhandledError = previous;
      }
      expect(unhandled).toEqual([boom]);
    });
  });

  describe('unsubscribing', () => {
    it("tears down the source and the running inner, and reports waiting values 'cleared'", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -abc------');
        const inner = cold('  ---(x|)');
        const unsub = '      ------!';
        const expected = '   ----a-';
        expectObservable(source.pipe(bufferFixed(2, work(inner), { onDrop: drops.onDrop })), unsub).toBe(
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe('^-----!');
        expectSubscriptions(inner.subscriptions).toBe(['-^--!', '----^-!']);
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'cleared', frame: 6 }]);
    });

    it('tears down every running inner with concurrency > 1', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const source = hot(' -ab----');
        const inner = cold('  -----(x|)');
        const unsub = '      ----!';
        expectObservable(source.pipe(bufferFixed(0, work(inner), { concurrency: 3 })), unsub).toBe('-');
        expectSubscriptions(source.subscriptions).toBe('^---!');
        expectSubscriptions(inner.subscriptions).toBe(['-^--!', '--^-!']);
      });
    });
  });

  describe('equivalence', () => {
    it('bufferFixed(Infinity, p) behaves as concatMap(p)', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const durations: Record<string, string> = {
          a: '---(x|)',
          b: '--(x|)',
          c: '----(x|)',
          d: '-(x|)',
          e: '--(x|)',
        };
        const p = (v: string): Observable<string> => cold(durations[v]!, { x: v });
        const source = hot('-a-bc-d-----e---|');
        const expected = '  ----a-b---cd--e-|';
        expectObservable(source.pipe(bufferFixed(Infinity, p))).toBe(expected);
        expectObservable(source.pipe(concatMap(p))).toBe(expected);
      });
    });
  });

  describe('synchronous sources and inners', () => {
    it('drains a queue of 100,000 values with synchronous inners without recursion', () => {
      const N = 100_000;
      const gate = new Subject<number>();
      let count = 0;
      let last = -1;
      let completed = false;
      range(0, N + 1)
        .pipe(bufferFixed(Infinity, (v: number) => (v === 0 ? gate : of(v))))
        .subscribe({
          next: (v) => {
            count++;
            last = v;
          },
          complete: () => (completed = true),
        });
      expect(count).toBe(0); // 100,000 values wait behind the gate
      gate.complete();
      expect(count).toBe(N);
      expect(last).toBe(N);
      expect(completed).toBe(true);
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
          bufferFixed(1, (v: number) => of(v)),
          take(3),
        )
        .subscribe({
          next: (v) => out.push(v),
          complete: () => (completed = true),
        });
      expect(out).toEqual([0, 1, 2]);
      expect(completed).toBe(true);
      expect(emitted).toBe(3);
      expect(sawClosed).toBe(true);
    });

    it('accepts arrays as ObservableInput', () => {
      const out: number[] = [];
      of(1, 2)
        .pipe(bufferFixed(0, (v: number) => [v, v * 10]))
        .subscribe((v) => out.push(v));
      expect(out).toEqual([1, 10, 2, 20]);
    });

    it('accepts promises as ObservableInput, one at a time', async () => {
      const started: number[] = [];
      const result = await lastValueFrom(
        from([1, 2, 3]).pipe(
          bufferFixed(Infinity, async (v: number) => {
            started.push(v);
            await Promise.resolve();
            return v * 2;
          }),
          toArray(),
        ),
      );
      expect(result).toEqual([2, 4, 6]);
      expect(started).toEqual([1, 2, 3]);
    });
  });

  describe('types', () => {
    it('infers the output type from project', async () => {
      const op: OperatorFunction<number, string> = bufferFixed(1, (n: number) => of(`#${String(n)}`));
      // @ts-expect-error project yields strings, so the output cannot be numbers
      const wrong: OperatorFunction<number, number> = bufferFixed(1, (n: number) => of(`#${String(n)}`));
      const inferred: Observable<string> = of(1, 2).pipe(bufferFixed(1, (n) => of(n.toFixed(1))));
      expect(typeof wrong).toBe('function');
      expect(await lastValueFrom(of(1, 2).pipe(op, toArray()))).toEqual(['#1', '#2']);
      expect(await lastValueFrom(inferred.pipe(toArray()))).toEqual(['1.0', '2.0']);
    });
  });

  describe('bad input', () => {
    const p = (v: number): Observable<number> => of(v);

    it('throws RangeError at creation for a capacity that is not a non-negative integer or Infinity', () => {
      expect(thrownBy(() => bufferFixed(-1, p))).toEqual(
        errorShape(
          new RangeError(
            'bufferFixed: `capacity` must be a non-negative integer or Infinity, got -1 (number)',
          ),
        ),
      );
      expect(thrownBy(() => bufferFixed(1.5, p))).toEqual(
        errorShape(
          new RangeError(
            'bufferFixed: `capacity` must be a non-negative integer or Infinity, got 1.5 (number)',
          ),
        ),
      );
      for (const bad of [NaN, -Infinity]) {
        expect(() => bufferFixed(bad, p)).toThrow(RangeError);
      }
    });

    it('throws TypeError at creation for a capacity that is not a number', () => {
      expect(thrownBy(() => bufferFixed('3' as unknown as number, p))).toEqual(
        errorShape(
          new TypeError(
            'bufferFixed: `capacity` must be a non-negative integer or Infinity, got "3" (string)',
          ),
        ),
      );
      expect(() => bufferFixed(undefined as unknown as number, p)).toThrow(TypeError);
    });

    it('throws RangeError at creation for a concurrency that is not a positive integer or Infinity', () => {
      expect(thrownBy(() => bufferFixed(1, p, { concurrency: 0 }))).toEqual(
        errorShape(
          new RangeError('bufferFixed: `concurrency` must be a positive integer or Infinity, got 0 (number)'),
        ),
      );
      for (const bad of [-1, 2.5, NaN, -Infinity]) {
        expect(() => bufferFixed(1, p, { concurrency: bad })).toThrow(RangeError);
      }
      expect(() => bufferFixed(1, p, { concurrency: '2' as unknown as number })).toThrow(TypeError);
    });

    it('throws TypeError at creation for a project or onDrop that is not a function', () => {
      expect(thrownBy(() => bufferFixed(1, 'x' as never))).toEqual(
        errorShape(new TypeError('bufferFixed: `project` must be a function, got "x" (string)')),
      );
      expect(thrownBy(() => bufferFixed(1, p, { onDrop: 42 as never }))).toEqual(
        errorShape(new TypeError('bufferFixed: `onDrop` must be a function, got 42 (number)')),
      );
      expect(() => bufferFixed(1, p, null as never)).toThrow(TypeError);
    });
  });
});

describe('bufferFixed with a project that returns something that is not an ObservableInput', () => {
  it('errors with a TypeError naming the operator', () => {
    let error: unknown;
    of(1)
      .pipe(bufferFixed(1, () => 42 as never))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toEqual(
      new TypeError(
        'bufferFixed: `project` must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got 42 (number)',
      ),
    );
  });
});
