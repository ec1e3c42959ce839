/**
 * The diagrams and examples of docs/operators/circuitBreaker.md, run: each test is one diagram of the
 * page, with the same marbles, so the page cannot say what the code does not do.
 */
import { map, of, throwError, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import {
  CallTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  isCircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitBreakerSnapshot,
  type CircuitState,
  type ProtectOptions,
} from 'rxjs-backpressure';
import { recordDrops, testScheduler } from '../helpers/marbles';

type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

/** state$ as one letter per state: c closed, o open, h half-open, i isolated. */
const STATES = { c: 'closed', o: 'open', h: 'half-open', i: 'isolated' } as const;
const states = (breaker: CircuitBreaker): Observable<CircuitState> =>
  breaker.state$.pipe(map(({ state }) => state));

/** Upper case of a value: what a successful call emits in the diagrams. */
const UPPER = { A: 'A', B: 'B', C: 'C', D: 'D', E: 'E', x: 'x' };

describe('docs/operators/circuitBreaker.md', () => {
  it('the overview: two failures in a row open it, half-open after openDuration, a success closes it', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 });
      const call = (v: string) => (v === 'x' ? throwError(() => new Error('down')) : of(v.toUpperCase()));
      expectObservable(states(breaker)).toBe('c--o---------hc', STATES);
      expectObservable(hot('-x-x----------o--|').pipe(breaker.protect(call, { onError: 'continue' }))).toBe(
        '--------------O--|',
      );
    });
  });

  describe('whenOpen', () => {
    // a's call fails after 1 frame; every other call emits its value in upper case after 1 frame.
    const source = 'a-b-c-d---e-|';
    const work = (cold: Helpers['cold']) => (v: string) =>
      v === 'a' ? cold('-#') : cold('-(x|)', { x: v.toUpperCase() });

    function run(
      options: Omit<ProtectOptions<string, string>, 'onError' | 'onDrop'>,
      expected: { output: string; states: string; drops: [string, string, number][]; error?: unknown },
    ): void {
      const scheduler = testScheduler();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 4 });
        const drops = recordDrops<string>(scheduler);
        expectObservable(states(breaker)).toBe(expected.states, STATES);
        expectObservable(
          hot(source).pipe(
            breaker.protect(work(cold), { ...options, onError: 'continue', onDrop: drops.onDrop }),
          ),
        ).toBe(expected.output, { ...UPPER, b: 'b', c: 'c' }, expected.error);
        scheduler.schedule(() => {
          expect(drops.timeline.map(({ value, reason, frame }) => [value, reason, frame])).toEqual(
            expected.drops,
          );
        }, 50);
      });
    }

    it("'error'", () => {
      run(
        { whenOpen: 'error' },
        {
          output: '--#',
          states: 'co---h',
          drops: [['b', 'rejected', 2]],
          error: new CircuitOpenError('open', 3),
        },
      );
    });

    it("'drop'", () => {
      run(
        { whenOpen: 'drop' },
        {
          output: '-------D---E|',
          states: 'co---h-c',
          drops: [
            ['b', 'rejected', 2],
            ['c', 'rejected', 4],
          ],
        },
      );
    });

    it("'wait'", () => {
      run({ whenOpen: 'wait', capacity: 10 }, { output: '------B(CD)E|', states: 'co---hc', drops: [] });
    });

    it('a fallback', () => {
      run({ whenOpen: (v) => of(v) }, { output: '--b-c--D---E|', states: 'co---h-c', drops: [] });
    });

    it("'error' reports the refused value 'rejected', then the waiting ones 'cleared', then errors", () => {
      const scheduler = testScheduler();
      scheduler.run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 4 });
        const drops = recordDrops<string>(scheduler);
        expectObservable(
          hot('(abc)').pipe(
            breaker.protect(work(cold), { concurrency: 1, onError: 'continue', onDrop: drops.onDrop }),
          ),
        ).toBe('-#', undefined, new CircuitOpenError('open', 4));
        scheduler.schedule(() => {
          expect(drops.drops).toEqual([
            ['b', 'rejected'],
            ['c', 'cleared'],
          ]);
        }, 10);
      });
    });
  });

  it('half-open with halfOpenProbes: 2: two probes at once, both must succeed', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 2, halfOpenProbes: 2 });
      const drops = recordDrops<string>(scheduler);
      const call = (v: string) => (v === 'a' ? cold('-#') : cold('--(x|)', { x: v.toUpperCase() }));
      expectObservable(states(breaker)).toBe('co-h--c', STATES);
      expectObservable(
        hot('a--bcd---e---|').pipe(
          breaker.protect(call, { whenOpen: 'drop', onError: 'continue', onDrop: drops.onDrop }),
        ),
      ).toBe('-----BC----E-|', UPPER);
      scheduler.schedule(
        () => expect(drops.timeline).toEqual([{ value: 'd', reason: 'rejected', frame: 5 }]),
        20,
      );
    });
  });

  it('halfOpenMaxWait: a hung probe opens it again; its late outcome is not counted', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, cold, expectObservable }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 2, halfOpenMaxWait: 4 });
      const drops = recordDrops<string>(scheduler);
      const call = (v: string) =>
        v === 'a'
          ? cold('-#')
          : v === 'b'
            ? cold('--------(x|)', { x: 'B' })
            : cold('-(x|)', { x: v.toUpperCase() });
      expectObservable(states(breaker)).toBe('co-h---o-hc', STATES);
      expectObservable(
        hot('a--b-c---d--|').pipe(
          breaker.protect(call, { whenOpen: 'drop', onError: 'continue', onDrop: drops.onDrop }),
        ),
      ).toBe('----------DB|', UPPER);
      scheduler.schedule(
        () => expect(drops.timeline).toEqual([{ value: 'c', reason: 'rejected', frame: 5 }]),
        20,
      );
    });
  });

  it('callTimeout: a call still running after callTimeout fails with CallTimeoutError', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const options: CircuitBreakerOptions = { consecutiveFailures: 1, openDuration: 3, callTimeout: 3 };
      const call = (v: string) =>
        v === 'a' ? cold('-----(x|)', { x: 'A' }) : cold('-(x|)', { x: v.toUpperCase() });
      const continuing = new CircuitBreaker(options);
      expectObservable(states(continuing)).toBe('c--o--h-c', STATES);
      expectObservable(
        hot('a------b--|').pipe(continuing.protect(call, { whenOpen: 'drop', onError: 'continue' })),
      ).toBe('--------B-|', UPPER);
      const failing = new CircuitBreaker(options);
      expectObservable(hot('a------b--|').pipe(failing.protect(call))).toBe(
        '---#',
        undefined,
        new CallTimeoutError(3),
      );
    });
  });

  it('guard: each subscription is one call', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 5 });
      const failing$ = cold('--#').pipe(breaker.guard());
      const call$ = cold('--(x|)').pipe(breaker.guard());
      expectObservable(states(breaker)).toBe('c-o----h--c', STATES);
      expectObservable(failing$).toBe('--#');
      expectObservable(call$, '---^').toBe('---#', undefined, new CircuitOpenError('open', 4));
      expectObservable(call$, '--------^').toBe('----------(x|)');
    });
  });

  it('a rate rule over { calls: 4 }: opens when half the last 4 calls failed', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const breaker = new CircuitBreaker({
        failureRateThreshold: 0.5,
        window: { calls: 4 },
        minimumCalls: 4,
        openDuration: 10,
      });
      const call = (v: string) => (v === 'x' ? throwError(() => new Error('down')) : of(v));
      expectObservable(states(breaker)).toBe('c------o---------h', STATES);
      hot('-o-x-o-x-o-|')
        .pipe(breaker.protect(call, { whenOpen: 'drop', onError: 'continue' }))
        .subscribe();
    });
  });

  it('a duration window forgets an old failure across an idle gap', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const breaker = new CircuitBreaker({
        failureRateThreshold: 0.5,
        window: { duration: 10, buckets: 5 },
        minimumCalls: 2,
      });
      const call = (v: string) => (v === 'x' ? throwError(() => new Error('down')) : of(v));
      expectObservable(states(breaker)).toBe('c', STATES);
      hot('-x 29ms -o|')
        .pipe(breaker.protect(call, { onError: 'continue' }))
        .subscribe();
    });
  });

  it('isolate, reset and retryAfter', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 3 });
      const handle = breaker.isolate();
      const second = breaker.isolate();
      expect(breaker.state).toBe('isolated');
      let refused: unknown;
      of(1)
        .pipe(breaker.guard())
        .subscribe({ error: (e: unknown) => (refused = e) });
      expect(isCircuitOpenError(refused) && refused.retryAfter).toBe(Infinity);
      breaker.reset();
      expect(breaker.state).toBe('isolated');
      handle.release();
      handle.release();
      expect(breaker.state).toBe('isolated');
      second.release();
      expect(breaker.state).toBe('closed');
    });
  });

  it('toJSON and initialState resume the open time left, whatever the new clock reads', () => {
    const first = testScheduler();
    let snapshot: CircuitBreakerSnapshot | undefined;
    first.run(() => {
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 30_000 });
      first.schedule(() => {
        throwError(() => new Error('down'))
          .pipe(breaker.guard())
          .subscribe({ error: () => undefined });
      }, 1_000);
      first.schedule(() => {
        expect(breaker.state).toBe('open');
        snapshot = JSON.parse(JSON.stringify(breaker)) as CircuitBreakerSnapshot;
      }, 11_000);
    });
    expect(snapshot).toMatchObject({ state: 'open', opens: 1, openedFor: 10_000 });

    // Another process: its clock starts at 0 here, and 20 s of the 30 s are left.
    testScheduler().run(({ expectObservable }) => {
      const breaker = new CircuitBreaker({
        consecutiveFailures: 1,
        openDuration: 30_000,
        initialState: snapshot,
      });
      expectObservable(states(breaker)).toBe('o 19999ms h', STATES);
    });
  });
});
