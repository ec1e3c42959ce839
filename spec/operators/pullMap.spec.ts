import {
  BehaviorSubject,
  defer,
  EMPTY,
  from,
  lastValueFrom,
  NEVER,
  Observable,
  of,
  startWith,
  Subject,
  take,
  tap,
  throwError,
  toArray,
} from 'rxjs';
import type { RunHelpers, TestScheduler } from 'rxjs/testing';
import { pullMap } from 'rxjs-backpressure';
import { errorShape, testScheduler, thrownBy } from '../helpers/marbles';

/** What `cold()` returns: an Observable with `subscriptions`. */
type Cold = ReturnType<RunHelpers['cold']>;

/** Marble values for `demand$`: the digit is the grant; `i` is `Infinity`. */
const grants = { 0: 0, 1: 1, 2: 2, 3: 3, i: Infinity };

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A generator over `values` that logs each pull with the virtual frame it happened at, and whether
 * it was finished early (`return()`).
 */
function logged<T>(values: readonly T[], scheduler: TestScheduler | undefined, log: string[]): Iterable<T> {
  const at = (): string => (scheduler ? ` @${String(scheduler.now())}` : '');
  return {
    *[Symbol.iterator]() {
      let finished = false;
      try {
        for (const v of values) {
          log.push(`pull ${String(v)}${at()}`);
          yield v;
        }
        finished = true;
        log.push(`done${at()}`);
      } finally {
        if (!finished) log.push(`return${at()}`);
      }
    },
  };
}

describe('pullMap', () => {
  describe('its JSDoc diagram', () => {
    it('with concurrency 1, pulls the next value only when the work on the last one is done', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const project = (v: string): Observable<string> => cold('---(x|)', { x: v.toUpperCase() });
        expectObservable(pullMap(['a', 'b', 'c'], project, { concurrency: 1 })).toBe('---A--B--(C|)');
      });
    });
  });

  describe('concurrency and pulling', () => {
    it('runs at most `concurrency` at once and pulls a value only when a slot frees', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable, expectSubscriptions }) => {
        const work: Record<string, Cold> = {
          a: cold('----(A|)'),
          b: cold('-(B|)'),
          c: cold('--(C|)'),
          d: cold('--(D|)'),
        };
        const result = pullMap(logged(['a', 'b', 'c', 'd'], s, log), (v) => work[v]!, { concurrency: 2 });
        expectObservable(result).toBe('-B-CA(D|)');
        expectSubscriptions(work.a!.subscriptions).toBe('^---!');
        expectSubscriptions(work.b!.subscriptions).toBe('^!');
        expectSubscriptions(work.c!.subscriptions).toBe('-^-!');
        expectSubscriptions(work.d!.subscriptions).toBe('---^-!');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @1', 'pull d @3', 'done @4']);
    });

    it('with ordered: true, emits in input order; a finished value keeps its slot until delivered', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable, expectSubscriptions }) => {
        const work: Record<string, Cold> = {
          a: cold('------(A|)'),
          b: cold('-(B|)'),
          c: cold('-----(C|)'),
          d: cold('--(D|)'),
        };
        const result = pullMap(logged(['a', 'b', 'c', 'd'], s, log), (v) => work[v]!, {
          concurrency: 2,
          ordered: true,
        });
        expectObservable(result).toBe('------(AB)-(CD|)');
        expectSubscriptions(work.c!.subscriptions).toBe('------^----!');
        expectSubscriptions(work.d!.subscriptions).toBe('------^-!');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @6', 'pull d @6', 'done @11']);
    });

    it('with ordered: false, emits results as the work produces them', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const work: Record<string, Cold> = {
          a: cold('------(A|)'),
          b: cold('-(B|)'),
          c: cold('--(C|)'),
        };
        const result = pullMap(['a', 'b', 'c'], (v) => work[v]!, { concurrency: 3 });
        expectObservable(result).toBe('-BC---(A|)');
      });
    });

    it('keeps several results of one value together and in order when ordered', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const work: Record<string, Cold> = {
          a: cold('--x---y|', { x: 'a1', y: 'a2' }),
          b: cold('-x-y|', { x: 'b1', y: 'b2' }),
        };
        const values = { p: 'a1', q: 'a2', r: 'b1', s: 'b2' };
        expectObservable(pullMap(['a', 'b'], (v) => work[v]!, { concurrency: 2, ordered: true })).toBe(
          '--p---q(rs|)',
          values,
        );
        expectObservable(pullMap(['a', 'b'], (v) => work[v]!, { concurrency: 2 })).toBe('-rps--q|', values);
      });
    });

    it('with concurrency Infinity, starts every value at once', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable }) => {
        const result = pullMap(logged(['a', 'b', 'c'], s, log), (v) => cold('--(x|)', { x: v }), {
          concurrency: Infinity,
        });
        expectObservable(result).toBe('--(abc|)');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @0', 'done @0']);
    });

    it('passes each value with its index', () => {
      const calls: [string, number][] = [];
      const out: string[] = [];
      pullMap(['a', 'b', 'c'], (v, i) => {
        calls.push([v, i]);
        return of(`${v}${String(i)}`);
      }).subscribe((v) => out.push(v));
      expect(calls).toEqual([
        ['a', 0],
        ['b', 1],
        ['c', 2],
      ]);
      expect(out).toEqual(['a0', 'b1', 'c2']);
    });

    it('accepts promises and arrays as the work', async () => {
      const fromPromises = await lastValueFrom(
        pullMap([1, 2, 3], async (v) => v * 10, { concurrency: 2, ordered: true }).pipe(toArray()),
      );
      expect(fromPromises).toEqual([10, 20, 30]);
      const fromArrays = await lastValueFrom(pullMap([1, 2], (v) => [v, -v]).pipe(toArray()));
      expect(fromArrays).toEqual([1, -1, 2, -2]);
    });
  });

  describe('downstream demand (demand$)', () => {
    it('bounds emissions by demand, and a freed slot pulls only while demand is outstanding', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const demand = hot(' -----1---2----1', grants);
        const project = (v: string): Observable<string> => cold('-(x|)', { x: v.toUpperCase() });
        const result = pullMap(logged(['a', 'b', 'c', 'd'], s, log), project, {
          concurrency: 2,
          demand$: demand,
        });
        // A takes the only unit at 5: its slot frees with no demand left, so c is pulled only when
        // demand comes back at 9.
        expectObservable(result).toBe('-----A---BC---(D|)');
        expectSubscriptions(demand.subscriptions).toBe('^-------------!');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @9', 'pull d @9', 'done @14']);
    });

    it('in ordered mode, spends demand on results in input order', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const demand = hot(' ----1--2--', grants);
        const work: Record<string, Cold> = {
          a: cold('---(A|)'),
          b: cold('-(B|)'),
          c: cold('-(C|)'),
        };
        const result = pullMap(['a', 'b', 'c'], (v) => work[v]!, {
          concurrency: 2,
          ordered: true,
          demand$: demand,
        });
        expectObservable(result).toBe('----A--B(C|)');
      });
    });

    it('completes once demand$ has completed and its demand is spent, cancelling the running work', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const demand = hot(' -(1|)', grants);
        const work = { a: cold('--(x|)', { x: 'a' }), b: cold('---(y|)', { y: 'b' }) };
        const result = pullMap(['a', 'b'] as const, (v) => work[v], {
          concurrency: 2,
          demand$: demand,
        });
        expectObservable(result).toBe('--(a|)');
        expectSubscriptions(work.b.subscriptions).toBe('^-!');
      });
    });

    it('completes at once when demand$ completes with nothing outstanding', () => {
      const log: string[] = [];
      let completed = false;
      pullMap(logged(['a', 'b'], undefined, log), (v) => of(v), { demand$: EMPTY }).subscribe({
        complete: () => (completed = true),
      });
      expect(completed).toBe(true);
      expect(log).toEqual([]);
    });

    it('runs a synchronous feedback loop through demand$ for 100,000 values', () => {
      const N = 100_000;
      function* numbers(): Generator<number> {
        for (let i = 0; i < N; i++) yield i;
      }
      const demand = new Subject<number>();
      let count = 0;
      let inOrder = true;
      let completed = false;
      pullMap(numbers(), (v) => of(v), { concurrency: 4, ordered: true, demand$: demand }).subscribe({
        next: (v) => {
          if (v !== count) inOrder = false;
          count++;
          demand.next(1);
        },
        complete: () => (completed = true),
      });
      demand.next(1);
      expect(count).toBe(N);
      expect(inOrder).toBe(true);
      expect(completed).toBe(true);
    });
  });

  describe('completion', () => {
    it('completes at once for an empty input', () => {
      testScheduler().run(({ expectObservable }) => {
        expectObservable(pullMap([], (v: string) => of(v))).toBe('|');
      });
    });

    it('completes only when all work has delivered, after the input is done', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable }) => {
        const work: Record<string, Cold> = { a: cold('-----(A|)'), b: cold('-(B|)') };
        expectObservable(pullMap(logged(['a', 'b'], s, log), (v) => work[v]!, { concurrency: 3 })).toBe(
          '-B---(A|)',
        );
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'done @0']);
    });

    it('never completes while work never completes', () => {
      testScheduler().run(({ expectObservable }) => {
        expectObservable(pullMap(['a'], () => NEVER)).toBe('-');
      });
    });

    it('does not call return() after the input is done', () => {
      const log: string[] = [];
      pullMap(logged(['a', 'b'], undefined, log), (v) => of(v)).subscribe();
      expect(log).toEqual(['pull a', 'pull b', 'done']);
    });
  });

  describe('errors and unsubscribing', () => {
    it('errors when project throws, calling return() and tearing down the running work', () => {
      const s = testScheduler();
      const log: string[] = [];
      const boom = new Error('project failed');
      s.run(({ cold, expectObservable, expectSubscriptions }) => {
        const running = cold('-----(x|)');
        const project = (v: string, i: number): Observable<string> => {
          if (i === 2) throw boom;
          return v === 'a' ? running : cold('--(B|)');
        };
        const result = pullMap(logged(['a', 'b', 'c', 'd'], s, log), project, { concurrency: 2 });
        expectObservable(result).toBe('--(B#)', undefined, boom);
        expectSubscriptions(running.subscriptions).toBe('^-!');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @2', 'return @2']);
    });

    it('errors when an inner errors, calling return() and unsubscribing the other work', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable, expectSubscriptions }) => {
        const slow = cold('------(x|)');
        const failing = cold('---#');
        const result = pullMap(logged(['a', 'b', 'c'], s, log), (v) => (v === 'a' ? slow : failing), {
          concurrency: 2,
        });
        expectObservable(result).toBe('---#');
        expectSubscriptions(slow.subscriptions).toBe('^--!');
        expectSubscriptions(failing.subscriptions).toBe('^--!');
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'return @3']);
    });

    it('errors when the input throws, unsubscribing the running work without calling return()', () => {
      const boom = new Error('input failed');
      let returned = 0;
      const input: Iterable<string> = {
        [Symbol.iterator]() {
          let i = 0;
          return {
            next: (): IteratorResult<string> => {
              if (i === 1) throw boom;
              i++;
              return { value: 'a', done: false };
            },
            return: (): IteratorResult<string> => {
              returned++;
              return { value: undefined, done: true };
            },
          };
        },
      };
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const running = cold('-----(x|)');
        expectObservable(pullMap(input, () => running, { concurrency: 2 })).toBe('#', undefined, boom);
        expectSubscriptions(running.subscriptions).toBe('(^!)');
      });
      expect(returned).toBe(0);
    });

    it('errors when an async input rejects, after delivering what came before', async () => {
      const boom = new Error('read failed');
      async function* failing(): AsyncGenerator<number> {
        yield 1;
        throw boom;
      }
      const out: number[] = [];
      await expect(
        lastValueFrom(pullMap(failing(), (v) => of(v), { concurrency: 2 }).pipe(tap((v) => out.push(v)))),
      ).rejects.toBe(boom);
      expect(out).toEqual([1]);
    });

    it('errors when demand$ errors or grants bad demand, calling return()', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const demand = hot(' --1-#', grants);
        const result = pullMap(logged(['a', 'b'], s, log), (v) => cold('-(x|)', { x: v }), {
          demand$: demand,
        });
        expectObservable(result).toBe('--a-#');
      });
      // a's slot frees at 2 with the one unit of demand spent, so b is never pulled.
      expect(log).toEqual(['pull a @0', 'return @4']);

      const cases: [unknown, Error][] = [
        [-1, new RangeError('pullMap: demand must be a non-negative integer or Infinity, got -1 (number)')],
        [2.5, new RangeError('pullMap: demand must be a non-negative integer or Infinity, got 2.5 (number)')],
        [NaN, new RangeError('pullMap: demand must be a non-negative integer or Infinity, got NaN (number)')],
        [
          true,
          new TypeError('pullMap: demand must be a non-negative integer or Infinity, got true (boolean)'),
        ],
      ];
      for (const [bad, error] of cases) {
        const badLog: string[] = [];
        testScheduler().run(({ hot, cold, expectObservable }) => {
          const demand = hot(' ---x', { x: bad as number });
          const result = pullMap(logged(['a', 'b'], undefined, badLog), (v) => cold('-(x|)', { x: v }), {
            demand$: demand,
          });
          expectObservable(result).toBe('---#', undefined, error);
        });
        expect(badLog).toEqual(['pull a', 'return']);
      }
    });

    it('calls return() once on unsubscribe and tears down the running work', () => {
      const s = testScheduler();
      const log: string[] = [];
      s.run(({ cold, expectObservable, expectSubscriptions }) => {
        const work = cold('---(x|)');
        const result = pullMap(logged(['a', 'b', 'c', 'd', 'e'], s, log), () => work, { concurrency: 2 });
        expectObservable(result, '----!').toBe('---(xx)');
        expectSubscriptions(work.subscriptions).toBe(['^--!', '^--!', '---^!', '---^!']);
      });
      expect(log).toEqual(['pull a @0', 'pull b @0', 'pull c @3', 'pull d @3', 'return @4']);
    });

    it('stops a synchronous input when take(3) downstream has what it wants', () => {
      let pulled = 0;
      let finalized = 0;
      function* naturals(): Generator<number> {
        try {
          for (let i = 0; ; i++) {
            pulled++;
            yield i;
          }
        } finally {
          finalized++;
        }
      }
      const out: number[] = [];
      pullMap(naturals(), (v) => of(v), { concurrency: 2 })
        .pipe(take(3))
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(pulled).toBe(3);
      expect(finalized).toBe(1);
    });

    it('returns an async generator on unsubscribe, so its finally runs', async () => {
      let finalized = 0;
      async function* numbers(): AsyncGenerator<number> {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          finalized++;
        }
      }
      const subscription = pullMap(numbers(), () => NEVER, { concurrency: 2 }).subscribe();
      await settle();
      subscription.unsubscribe();
      for (let i = 0; i < 5 && finalized === 0; i++) await settle();
      expect(finalized).toBe(1);
    });
  });

  describe('asynchronous work', () => {
    it('never has more than `concurrency` in flight, nor pulls more than concurrency + delivered', async () => {
      const concurrency = 3;
      const N = 40;
      let pulled = 0;
      let delivered = 0;
      let inFlight = 0;
      let maxInFlight = 0;
      let pullsAhead = 0;
      async function* numbers(): AsyncGenerator<number> {
        for (let i = 0; i < N; i++) {
          pulled++;
          pullsAhead = Math.max(pullsAhead, pulled - delivered);
          yield i;
        }
      }
      const work = async (v: number): Promise<number> => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Uneven work: a few event-loop turns, more for some values.
        for (let k = 0; k < (v * 7) % 5; k++) await settle();
        inFlight--;
        return v;
      };
      const out = await lastValueFrom(
        pullMap(numbers(), work, { concurrency }).pipe(
          tap(() => delivered++),
          toArray(),
        ),
      );
      expect(maxInFlight).toBe(concurrency);
      expect(pullsAhead).toBeLessThanOrEqual(concurrency);
      expect(delivered).toBe(N);
      expect([...out].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(out).not.toEqual([...out].sort((a, b) => a - b)); // uneven work really reordered them
    });

    it('with ordered: true and uneven async work, delivers in input order', async () => {
      const out = await lastValueFrom(
        pullMap(
          Array.from({ length: 30 }, (_, i) => i),
          async (v) => {
            for (let k = 0; k < (v * 7) % 5; k++) await settle();
            return v;
          },
          { concurrency: 4, ordered: true },
        ).pipe(toArray()),
      );
      expect(out).toEqual(Array.from({ length: 30 }, (_, i) => i));
    });
  });

  describe('synchronous inputs and work', () => {
    it.each([false, true])('handles 100,000 values without stack overflow (ordered: %s)', (ordered) => {
      const N = 100_000;
      function* numbers(): Generator<number> {
        for (let i = 0; i < N; i++) yield i;
      }
      let count = 0;
      let inOrder = true;
      let completed = false;
      pullMap(numbers(), (v) => of(v), { concurrency: 4, ordered }).subscribe({
        next: (v) => {
          if (v !== count) inOrder = false;
          count++;
        },
        complete: () => (completed = true),
      });
      expect(count).toBe(N);
      expect(inOrder).toBe(true);
      expect(completed).toBe(true);
    });

    it('works off synchronous input with work that completes without a value', () => {
      let calls = 0;
      let completed = false;
      pullMap(
        Array.from({ length: 1000 }, (_, i) => i),
        () => {
          calls++;
          return from([]);
        },
        { concurrency: 2 },
      ).subscribe({ complete: () => (completed = true) });
      expect(calls).toBe(1000);
      expect(completed).toBe(true);
    });
  });

  describe('bad input', () => {
    const p = (v: number): Observable<number> => of(v);

    it('throws TypeError at creation for an input that is neither iterable nor async iterable', () => {
      expect(thrownBy(() => pullMap(7 as never, p))).toEqual(
        errorShape(new TypeError('pullMap: `input` must be an Iterable or an AsyncIterable, got 7 (number)')),
      );
      expect(() => pullMap(undefined as never, p)).toThrow(TypeError);
      expect(() => pullMap(of(1) as never, p)).toThrow(TypeError);
    });

    it('throws TypeError at creation for a project that is not a function', () => {
      expect(thrownBy(() => pullMap([1], null as never))).toEqual(
        errorShape(new TypeError('pullMap: `project` must be a function, got null')),
      );
    });

    it('throws at creation for a bad concurrency', () => {
      expect(thrownBy(() => pullMap([1], p, { concurrency: 0 }))).toEqual(
        errorShape(
          new RangeError('pullMap: `concurrency` must be a positive integer or Infinity, got 0 (number)'),
        ),
      );
      for (const bad of [-1, 1.5, NaN, -Infinity]) {
        expect(() => pullMap([1], p, { concurrency: bad })).toThrow(RangeError);
      }
      expect(thrownBy(() => pullMap([1], p, { concurrency: '4' as never }))).toEqual(
        errorShape(
          new TypeError('pullMap: `concurrency` must be a positive integer or Infinity, got "4" (string)'),
        ),
      );
    });

    it('throws TypeError at creation for a bad ordered, demand$ or options object', () => {
      expect(thrownBy(() => pullMap([1], p, { ordered: 'yes' as never }))).toEqual(
        errorShape(new TypeError('pullMap: `ordered` must be a boolean, got "yes" (string)')),
      );
      expect(thrownBy(() => pullMap([1], p, { demand$: [1, 2] as never }))).toEqual(
        errorShape(new TypeError('pullMap: `demand$` must be an Observable, got an array')),
      );
      expect(thrownBy(() => pullMap([1], p, 3 as never))).toEqual(
        errorShape(new TypeError('pullMap: `options` must be an object, got 3 (number)')),
      );
    });

    it('does not touch the input when creation fails', () => {
      let opened = false;
      const input: Iterable<number> = {
        [Symbol.iterator]() {
          opened = true;
          return [1][Symbol.iterator]();
        },
      };
      expect(() => pullMap(input, p, { concurrency: 0 })).toThrow(RangeError);
      const created = pullMap(input, p);
      expect(opened).toBe(false);
      created.subscribe();
      expect(opened).toBe(true);
    });
  });

  describe('types', () => {
    it('infers the result type from project', async () => {
      const lengths: Observable<number> = pullMap(['ab', 'c'], (s) => of(s.length));
      // @ts-expect-error project yields numbers, so the output cannot be strings
      const wrong: Observable<string> = pullMap(['ab'], (s) => of(s.length));
      expect(wrong).toBeInstanceOf(Observable);
      expect(await lastValueFrom(lengths.pipe(toArray()))).toEqual([2, 1]);
    });
  });

  it('subscribes demand$ before it pulls', () => {
    const log: string[] = [];
    const demand$ = defer(() => {
      log.push('subscribe demand$');
      return of(1);
    });
    const out: string[] = [];
    pullMap(logged(['a', 'b'], undefined, log), (v) => of(v), { demand$ }).subscribe((v) => out.push(v));
    // demand$ granted 1 and completed: once 'a' is delivered the output completes and the input is
    // released, as take(1) would.
    expect(log).toEqual(['subscribe demand$', 'pull a', 'return']);
    expect(out).toEqual(['a']);
  });
  describe('failures while starting work', () => {
    it('errors the output and releases an async iterator when project returns something that is not ObservableInput', async () => {
      let released = false;
      async function* numbers() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          released = true;
        }
      }
      const outcome = lastValueFrom(pullMap(numbers(), () => null as unknown as Observable<number>));
      await expect(outcome).rejects.toThrow(TypeError);
      await settle();
      expect(released).toBe(true);
    });

    it('errors the output and releases a sync iterator when project throws, and can be pulled from again by a new subscriber', () => {
      const boom = new Error('boom');
      let returns = 0;
      const iterable = {
        [Symbol.iterator]: () => {
          let i = 0;
          return {
            next: () => ({ value: i++, done: false }),
            return: () => {
              returns++;
              return { value: undefined, done: true as const };
            },
          };
        },
      };
      const errors: unknown[] = [];
      pullMap(iterable, () => {
        throw boom;
      }).subscribe({ error: (err: unknown) => errors.push(err) });
      expect(errors).toEqual([boom]);
      expect(returns).toBe(1);
    });
  });

  it('with demand$, pulls nothing more once demand is spent, until it is granted again', () => {
    const pulls: number[] = [];
    function* numbers() {
      for (let i = 0; i < 10; i++) {
        pulls.push(i);
        yield i;
      }
    }
    const demand$ = new Subject<number>();
    const out: number[] = [];
    pullMap(numbers(), (v) => of(v), { concurrency: 1, demand$ }).subscribe((v) => out.push(v));
    expect(pulls).toEqual([0]);
    demand$.next(1);
    expect(out).toEqual([0]);
    expect(pulls).toEqual([0]); // the freed slot waits for demand
    demand$.next(2);
    expect(out).toEqual([0, 1, 2]);
    expect(pulls).toEqual([0, 1, 2]); // 1 was owed to the waiting slot; 2 filled the slot 1 freed
  });
});

describe('pullMap misuse', () => {
  it('errors with a TypeError naming the operator when project returns something that is not an ObservableInput', () => {
    let error: unknown;
    pullMap([1], () => 42 as never).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toEqual(
      new TypeError(
        'pullMap: `project` must return an ObservableInput (an Observable, Promise, array, iterable or async iterable), got 42 (number)',
      ),
    );
  });

  it('errors with a TypeError when an async input resolves next() to a non-object, and releases it', async () => {
    let returned = 0;
    const input: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve(null as never),
        return: () => {
          returned++;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const error = await lastValueFrom(pullMap(input, (v) => of(v))).catch((e: unknown) => e);
    expect(error).toEqual(
      new TypeError(
        "pullMap: the input's iterator returned null from next(); an iterator result must be an object ({ value, done })",
      ),
    );
    expect(returned).toBe(1);
  });
});

describe('pullMap concurrency that changes while the stream runs', () => {
  it('pulls more at once when raised, and never cancels running work when lowered', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, flush }) => {
      const concurrency = new BehaviorSubject(1);
      const log: string[] = [];
      const project = (v: string): Observable<string> => cold('----(x|)', { x: v });
      const seen: string[] = [];
      pullMap(logged(['a', 'b', 'c', 'd', 'e'], scheduler, log), project, { concurrency }).subscribe({
        next: (v) => seen.push(`${v}@${String(scheduler.now())}`),
        complete: () => seen.push(`|@${String(scheduler.now())}`),
      });
      // a alone until 2; then 3 at once: b and c start at 2; a ends at 4 and d takes its slot; at 5
      // the limit drops to 1: when b and c end at 6, nothing starts (d still runs); e starts when d
      // ends at 8.
      cold('--x--y').subscribe((v) => concurrency.next(v === 'x' ? 3 : 1));
      flush();
      expect(log).toEqual(['pull a @0', 'pull b @2', 'pull c @2', 'pull d @4', 'pull e @8', 'done @12']);
      expect(seen).toEqual(['a@4', 'b@6', 'c@6', 'd@8', 'e@12', '|@12']);
    });
  });

  it('errors when the Observable does not emit at once, or emits an invalid value', () => {
    const seen: unknown[] = [];
    pullMap([1], (v) => of(v), { concurrency: new Subject<number>() }).subscribe({
      error: (e: unknown) => seen.push(e),
    });
    const bad = new BehaviorSubject(1);
    pullMap([1, 2], (v) => NEVER.pipe(startWith(v)), { concurrency: bad }).subscribe({
      error: (e: unknown) => seen.push(e),
    });
    bad.next(0);
    expect(seen).toEqual([
      new TypeError(
        'pullMap: the `concurrency` Observable must emit its first value synchronously on subscription (a BehaviorSubject, of(n), or startWith(n))',
      ),
      new RangeError('pullMap: `concurrency` must be a positive integer or Infinity, got 0 (number)'),
    ]);
    expect(bad.observed).toBe(false);
  });
});

describe('pullMap onError', () => {
  const failing = (v: number): Observable<number> =>
    v % 2 === 0 ? throwError(() => new Error(`bad ${String(v)}`)) : of(v);

  it("'continue' frees the slot and goes on", async () => {
    const out = await lastValueFrom(
      pullMap([1, 2, 3, 4, 5], failing, { onError: 'continue' }).pipe(toArray()),
    );
    expect(out).toEqual([1, 3, 5]);
  });

  it('a fallback is emitted in place of the failed work', async () => {
    const out = await lastValueFrom(
      pullMap([1, 2, 3], failing, { onError: (_err, v) => of(-v), ordered: true, concurrency: 2 }).pipe(
        toArray(),
      ),
    );
    expect(out).toEqual([1, -2, 3]);
  });

  it('a failing fallback errors the output, and a throwing project errors it whatever onError says', async () => {
    await expect(
      lastValueFrom(pullMap([2], failing, { onError: () => throwError(() => new Error('fallback failed')) })),
    ).rejects.toThrow('fallback failed');
    await expect(
      lastValueFrom(
        pullMap(
          [1],
          () => {
            throw new Error('bug');
          },
          { onError: 'continue' },
        ),
      ),
    ).rejects.toThrow('bug');
    expect(() => pullMap([1], failing, { onError: 'ignore' as never })).toThrow(
      new RangeError(
        "pullMap: `onError` must be 'error', 'continue' or a function (error, value) => fallback, got \"ignore\" (string)",
      ),
    );
  });

  it('with concurrency, a failed inner frees its slot exactly once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const work: Record<string, Observable<string>> = {
        a: cold('--#'),
        b: cold('----(b|)'),
        c: cold('-(c|)'),
        d: cold('-(d|)'),
      };
      const result = pullMap(['a', 'b', 'c', 'd'], (v) => work[v] as Observable<string>, {
        concurrency: 2,
        onError: 'continue',
      });
      // a fails at 2 (c starts), c ends at 3 (d starts), d ends at 4 with b.
      expectObservable(result).toBe('---c(bd|)');
    });
  });
});
