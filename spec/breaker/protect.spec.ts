import {
  BehaviorSubject,
  map,
  mergeMap,
  NEVER,
  Observable,
  of,
  range,
  Subject,
  switchMap,
  take,
  tap,
  throwError,
  type ObservableInput,
} from 'rxjs';
import {
  BufferOverflowError,
  CallTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  isCircuitOpenError,
  type CircuitBreakerOptions,
  type DropReason,
  type ProtectOptions,
} from 'rxjs-backpressure';
import { errorShape, recordDrops, testScheduler } from '../helpers/marbles';
import { caller, calls, letters, manual } from './harness';

/*
 * Issue 10, rules 6, 7 and 11: `protect` is a bounded buffer in front of `project` whose gate also
 * asks the breaker; `whenOpen` says what a value that would start does while the breaker refuses.
 */

/** `project` for marble tests: the call is `inner`, whose values become the value in upper case. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value.toUpperCase()));
}

const boom = new Error('boom');

/**
 * `protect` driven by hand on a manual scheduler: the source is a Subject, each call a Subject the
 * test finishes (`finish`) or fails (`fail`).
 */
function drive(
  breakerOptions: Omit<CircuitBreakerOptions, 'scheduler'>,
  options: ProtectOptions<string, string> & { recordedFallback?: boolean } = {},
) {
  const scheduler = manual();
  const breaker = new CircuitBreaker({ ...breakerOptions, scheduler });
  const source = new Subject<string>();
  const inners = new Map<string, Subject<string>>();
  const started: [string, number][] = [];
  const fallbacks: [string, number][] = [];
  const drops = recordDrops<string>(scheduler);
  const out: string[] = [];
  const ended: { kind?: 'complete' | 'error'; error?: unknown } = {};
  const project = (value: string): Observable<string> => {
    started.push([value, scheduler.now()]);
    const inner = new Subject<string>();
    inners.set(value, inner);
    return inner;
  };
  const { recordedFallback = false, ...protectOptions } = options;
  if (recordedFallback) {
    // A fallback that records when it was handed a value and emits `fallback <value>` at once.
    protectOptions.whenOpen = (v: string) => {
      fallbacks.push([v, scheduler.now()]);
      return of(`fallback ${v}`);
    };
  }
  const subscription = source
    .pipe(breaker.protect(project, { onDrop: drops.onDrop, ...protectOptions }))
    .subscribe({
      next: (v) => out.push(v),
      error: (error: unknown) => Object.assign(ended, { kind: 'error', error }),
      complete: () => (ended.kind = 'complete'),
    });
  const inner = (value: string): Subject<string> => {
    const s = inners.get(value);
    if (!s) throw new Error(`${value} never started`);
    return s;
  };
  return {
    scheduler,
    breaker,
    source,
    started,
    fallbacks,
    drops,
    out,
    ended,
    /** Values whose call runs now. */
    get running(): string[] {
      return [...inners.entries()].filter(([, s]) => s.observed).map(([v]) => v);
    },
    finish(value: string): void {
      inner(value).next(value.toUpperCase());
      inner(value).complete();
    },
    fail(value: string, error: unknown = new Error(`${value} failed`)): void {
      inner(value).error(error);
    },
    unsubscribe(): void {
      subscription.unsubscribe();
    },
  };
}

describe('CircuitBreaker.protect (issue 10, rules 6, 7 and 11)', () => {
  describe('closed: as mergeMap', () => {
    it('runs every value at once with the defaults (concurrency and capacity Infinity)', () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 3 });
        const source = hot(' -abc----|');
        const inner = cold('  ---(x|)');
        const expected = '   ----ABC-|';
        expectObservable(source.pipe(breaker.protect(work(inner)))).toBe(expected);
        expectObservable(source.pipe(mergeMap(work(inner)))).toBe(expected);
        // Each value's call starts when it arrives, as mergeMap's does (both subscriptions, interleaved).
        expectSubscriptions(inner.subscriptions).toBe([
          '-^--!',
          '-^--!',
          '--^--!',
          '--^--!',
          '---^--!',
          '---^--!',
        ]);
      });
    });

    it('index counts every value from the source', () => {
      const indices: number[] = [];
      const breaker = new CircuitBreaker({ consecutiveFailures: 3, scheduler: manual() });
      of('a', 'b', 'c')
        .pipe(
          breaker.protect((v, i) => {
            indices.push(i);
            return of(v);
          }),
        )
        .subscribe();
      expect(indices).toEqual([0, 1, 2]);
    });

    it('follows concurrency and capacity like the buffers', () => {
      const d = drive({ consecutiveFailures: 3 }, { concurrency: 2, capacity: 1 });
      for (const v of 'abcd') d.source.next(v);
      expect(d.running).toEqual(['a', 'b']);
      expect(d.drops.drops).toEqual([['d', 'overflow']]);
      d.finish('a');
      expect(d.running).toEqual(['b', 'c']);
    });
  });

  describe("whenOpen: 'error' (the default)", () => {
    it("the refused value is reported 'rejected', then waiting ones 'cleared', then the error is sent", () => {
      const log: string[] = [];
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        const source = hot('-abc-----');
        const failing = cold(' ---#');
        const project = (v: string): Observable<string> => (v === 'a' ? failing : cold('-(x|)'));
        const out = source.pipe(
          breaker.protect(project, {
            concurrency: 1,
            capacity: 5,
            onError: 'continue',
            onDrop: (v, reason) => log.push(`${v} ${reason}`),
          }),
          tap({ error: () => log.push('error') }),
        );
        // a fails at 4 and opens the breaker; b, first in line, would start at 4: refused.
        expectObservable(out).toBe('----#', undefined, new CircuitOpenError('open', 10));
        expectSubscriptions(source.subscriptions).toBe('^---!');
      });
      expect(log).toEqual(['b rejected', 'c cleared', 'error']);
    });

    it('a value arriving while open errors the output at once (whenOpen left out)', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        caller(breaker)().fail();
        const source = hot('---a');
        expectObservable(source.pipe(breaker.protect(work(cold('-(x|)')), { onDrop: drops.onDrop }))).toBe(
          '---#',
          undefined,
          new CircuitOpenError('open', 7),
        );
      });
      expect(drops.drops).toEqual([['a', 'rejected']]);
    });

    it('in half-open with the probe slot taken: CircuitOpenError with state half-open and retryAfter 0', () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 });
      caller(d.breaker)().fail();
      d.scheduler.advanceTo(10);
      d.source.next('p');
      expect(d.running).toEqual(['p']);
      d.source.next('q');
      expect(d.ended.kind).toBe('error');
      expect(errorShape(d.ended.error as Error)).toEqual(errorShape(new CircuitOpenError('half-open', 0)));
      expect(d.drops.drops).toEqual([['q', 'rejected']]);
      // The output's teardown cancelled the probe: its permit is back.
      expect(d.running).toEqual([]);
      expect(caller(d.breaker)().status).toBe('running');
    });
  });

  describe("whenOpen: 'drop'", () => {
    it("reports a refused value 'rejected' and goes on; after half-open the next value is a probe", () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 5 });
        const source = hot('-a-b-c---d-e-|');
        const project = (v: string): Observable<string> => (v === 'a' ? cold('-#') : work(cold('-(x|)'))(v));
        const expected = '  ----------D-E|';
        expectObservable(
          source.pipe(
            breaker.protect(project, { whenOpen: 'drop', onError: 'continue', onDrop: drops.onDrop }),
          ),
        ).toBe(expected);
        expectObservable(letters(breaker)).toBe('c-o----h--c');
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'rejected', frame: 3 },
        { value: 'c', reason: 'rejected', frame: 5 },
      ]);
    });

    it('a value waiting for a slot is refused when its slot frees while the breaker is open', () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        {
          whenOpen: 'drop',
          concurrency: 1,
          capacity: 5,
          onError: 'continue',
        },
      );
      d.source.next('a');
      d.source.next('b');
      d.source.next('c');
      d.fail('a');
      expect(d.drops.drops).toEqual([
        ['b', 'rejected'],
        ['c', 'rejected'],
      ]);
      expect(d.ended.kind).toBeUndefined();
      d.scheduler.advanceTo(10);
      d.source.next('e');
      expect(d.running).toEqual(['e']);
    });

    it('in half-open, values beyond the probes are rejected', () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10, halfOpenProbes: 2 }, { whenOpen: 'drop' });
      caller(d.breaker)().fail();
      d.scheduler.advanceTo(10);
      for (const v of 'pqrs') d.source.next(v);
      expect(d.running).toEqual(['p', 'q']);
      expect(d.drops.drops).toEqual([
        ['r', 'rejected'],
        ['s', 'rejected'],
      ]);
      d.finish('p');
      d.finish('q');
      expect(d.breaker.state).toBe('closed');
    });
  });

  describe('whenOpen: a fallback function', () => {
    it('gets the value and the CircuitOpenError; its values are emitted in place', () => {
      const args: [string, unknown][] = [];
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        const source = hot('-a--b-------c|');
        const project = (v: string): Observable<string> => (v === 'a' ? cold('-#') : work(cold('-(x|)'))(v));
        const whenOpen = (v: string, error: CircuitOpenError): ObservableInput<string> => {
          args.push([v, error]);
          return cold('-(f|)', { f: `fallback ${v}` });
        };
        expectObservable(source.pipe(breaker.protect(project, { whenOpen, onError: 'continue' }))).toBe(
          '-----f-------(C|)',
          { f: 'fallback b', C: 'C' },
        );
      });
      expect(args).toHaveLength(1);
      expect(args[0]![0]).toBe('b');
      expect(errorShape(args[0]![1] as Error)).toEqual(errorShape(new CircuitOpenError('open', 8)));
    });

    it('is not counted by the breaker: a fallback succeeding in half-open does not close it', () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 }, { recordedFallback: true });
      caller(d.breaker)().fail();
      d.scheduler.advanceTo(10);
      d.source.next('p'); // the probe
      d.source.next('q'); // the probe slot is taken: fallback
      expect(d.fallbacks).toEqual([['q', 10]]);
      expect(d.out).toEqual(['fallback q']);
      expect(d.breaker.state).toBe('half-open');
      d.fail('p');
      expect(d.breaker.state).toBe('open');
    });

    it('a fallback that errors errors the output; the breaker does not count it', () => {
      const drops = recordDrops<string>();
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        caller(breaker)().fail();
        const source = hot('-ab');
        const whenOpen = (): Observable<string> => cold('--#', undefined, boom);
        expectObservable(
          source.pipe(
            breaker.protect(work(cold('-(x|)')), {
              whenOpen,
              concurrency: 1,
              capacity: 3,
              onDrop: drops.onDrop,
            }),
          ),
        ).toBe('---#', undefined, boom);
        expectObservable(letters(breaker)).toBe('o---------h');
      });
      expect(drops.drops).toEqual([['b', 'cleared']]);
    });

    it('takes the concurrency slot the value would have used', () => {
      const starts: [string, number][] = [];
      const s = testScheduler();
      s.run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 100 });
        caller(breaker)().fail();
        const source = hot('-ab-----|');
        const whenOpen = (v: string): Observable<string> => {
          starts.push([v, s.now()]);
          return cold('---(f|)', { f: v });
        };
        expectObservable(
          source.pipe(breaker.protect(work(cold('-(x|)')), { whenOpen, concurrency: 1, capacity: 5 })),
        ).toBe('----a--b|');
      });
      expect(starts).toEqual([
        ['a', 1],
        ['b', 4],
      ]);
    });

    it('a throwing fallback function errors the output', () => {
      const d = drive(
        { consecutiveFailures: 1 },
        {
          whenOpen: () => {
            throw boom;
          },
        },
      );
      caller(d.breaker)().fail();
      d.source.next('a');
      expect(d.ended).toEqual({ kind: 'error', error: boom });
    });
  });

  describe("whenOpen: 'wait'", () => {
    it('keeps values while open and releases them in order at the half-open instant: probes first, then up to concurrency', () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 10, concurrency: 2, onError: 'continue' },
      );
      d.source.next('a');
      d.scheduler.advanceTo(1);
      d.fail('a'); // opens at 1: half-open at 11
      d.scheduler.advanceTo(3);
      for (const v of 'bcde') d.source.next(v);
      expect(d.started).toEqual([['a', 0]]);
      expect(d.scheduler.pendingCount).toBe(1);
      d.scheduler.advanceTo(11);
      expect(d.started.slice(1)).toEqual([['b', 11]]);
      expect(d.breaker.state).toBe('half-open');
      d.scheduler.advanceTo(13);
      d.finish('b'); // the probe succeeds: closed, two at once
      expect(d.breaker.state).toBe('closed');
      expect(d.started.slice(1)).toEqual([
        ['b', 11],
        ['c', 13],
        ['d', 13],
      ]);
      d.finish('c');
      expect(d.started.slice(-1)).toEqual([['e', 13]]);
      expect(d.drops.drops).toEqual([]);
      expect(d.scheduler.pendingCount).toBe(0);
    });

    it('the same as a marble diagram', () => {
      const s = testScheduler();
      const starts: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10 });
        const source = hot('-a-bcd---------|');
        const project = (v: string): Observable<string> => {
          starts.push([v, s.now()]);
          return v === 'a' ? cold('-#') : work(cold('--(x|)'))(v);
        };
        // a fails at 2: open until 12. b probes 12-14; c and d then run 14-16.
        expectObservable(
          source.pipe(breaker.protect(project, { whenOpen: 'wait', capacity: 5, onError: 'continue' })),
        ).toBe('--------------B-(CD|)');
        expectObservable(letters(breaker)).toBe('c-o---------h-c');
      });
      expect(starts).toEqual([
        ['a', 1],
        ['b', 12],
        ['c', 14],
        ['d', 14],
      ]);
    });

    it('past the half-open instant with every slot taken, waits for a slot instead of polling at once', () => {
      // Found by the adaptive-limit property (a limit lowered while a call ran): the slots are full,
      // so the gate does not ask the breaker, which still read 'open' past its half-open instant; the
      // drain scheduled for that instant then rescheduled itself at once, without end.
      const concurrency = new BehaviorSubject(2);
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 10, concurrency, onError: 'continue' },
      );
      d.source.next('a');
      d.source.next('b');
      d.scheduler.advanceTo(1);
      d.fail('a'); // opens at 1: half-open at 11; b still runs
      d.source.next('c'); // waits: the drain at 11 is scheduled
      concurrency.next(1); // b alone fills the slots
      d.scheduler.advanceTo(20);
      expect(d.breaker.state).toBe('half-open');
      expect(d.scheduler.pendingCount).toBe(0);
      expect(d.started.map(([v]) => v)).toEqual(['a', 'b']);
      d.finish('b'); // the slot frees: c is the probe
      expect(d.started.slice(-1)).toEqual([['c', 20]]);
      expect(d.drops.drops).toEqual([]);
    });

    it('a failed probe keeps them waiting until the next half-open instant', () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 10, onError: 'continue' },
      );
      caller(d.breaker)().fail();
      for (const v of 'abc') d.source.next(v);
      d.scheduler.advanceTo(10);
      expect(d.running).toEqual(['a']);
      d.scheduler.advanceTo(12);
      d.fail('a'); // open again until 22
      expect(d.scheduler.pendingCount).toBe(1);
      d.scheduler.advanceTo(21);
      expect(d.running).toEqual([]);
      d.scheduler.advanceTo(22);
      expect(d.running).toEqual(['b']);
      d.finish('b');
      expect(d.running).toEqual(['c']);
    });

    it("capacity and overflow apply while waiting ('drop-incoming' by default)", () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 }, { whenOpen: 'wait', capacity: 2 });
      caller(d.breaker)().fail();
      for (const v of 'abcd') d.source.next(v);
      expect(d.drops.drops).toEqual([
        ['c', 'overflow'],
        ['d', 'overflow'],
      ]);
      d.scheduler.advanceTo(10);
      expect(d.running).toEqual(['a']);
    });

    it("overflow 'drop-oldest' while waiting", () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 2, overflow: 'drop-oldest' },
      );
      caller(d.breaker)().fail();
      for (const v of 'abcd') d.source.next(v);
      expect(d.drops.drops).toEqual([
        ['a', 'overflow'],
        ['b', 'overflow'],
      ]);
      d.scheduler.advanceTo(10);
      expect(d.running).toEqual(['c']);
    });

    it("overflow 'error' while waiting: BufferOverflowError naming protect", () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 1, overflow: 'error' },
      );
      caller(d.breaker)().fail();
      d.source.next('a');
      d.source.next('b');
      expect(d.drops.drops).toEqual([
        ['b', 'overflow'],
        ['a', 'cleared'],
      ]);
      expect(errorShape(d.ended.error as Error)).toEqual(
        errorShape(new BufferOverflowError(1, 'b', 'protect')),
      );
    });

    it("ttl applies while waiting: a value waiting longer is reported 'expired'", () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 5, ttl: 6 },
      );
      caller(d.breaker)().fail();
      d.source.next('a');
      d.scheduler.advanceTo(5);
      d.source.next('b');
      d.scheduler.advanceTo(10);
      expect(d.drops.timeline).toEqual([{ value: 'a', reason: 'expired', frame: 6 }]);
      expect(d.running).toEqual(['b']);
    });

    it('a value whose ttl ends at the half-open instant is released, not expired (releases of the instant first)', () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10 },
        { whenOpen: 'wait', capacity: 5, ttl: 10 },
      );
      caller(d.breaker)().fail();
      d.source.next('a');
      d.scheduler.advanceTo(1);
      d.source.next('b');
      d.scheduler.advanceTo(10);
      expect(d.running).toEqual(['a']);
      expect(d.drops.drops).toEqual([]);
      d.scheduler.advanceTo(11);
      // b's ttl ends at 11 while the probe runs: the probe slot is the only one, so b expires.
      expect(d.drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 11 }]);
    });

    it('holds one scheduled action while open and values wait; none when nothing waits', () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 }, { whenOpen: 'wait', capacity: 5 });
      caller(d.breaker)().fail();
      expect(d.scheduler.pendingCount).toBe(0);
      d.source.next('a');
      d.source.next('b');
      expect(d.scheduler.pendingCount).toBe(1);
      d.unsubscribe();
      expect(d.scheduler.pendingCount).toBe(0);
      expect(d.drops.drops).toEqual([
        ['a', 'cleared'],
        ['b', 'cleared'],
      ]);
    });

    it('waits while isolated (no action) and runs up to concurrency when the isolation ends', () => {
      const d = drive({ consecutiveFailures: 1 }, { whenOpen: 'wait', capacity: 5, concurrency: 2 });
      const isolation = d.breaker.isolate();
      for (const v of 'abc') d.source.next(v);
      expect(d.scheduler.pendingCount).toBe(0);
      d.scheduler.advanceTo(1e6);
      expect(d.running).toEqual([]);
      isolation.release();
      expect(d.running).toEqual(['a', 'b']);
    });

    it('completes when the source has completed and the waiting values have run', () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 }, { whenOpen: 'wait', capacity: 5 });
      caller(d.breaker)().fail();
      d.source.next('a');
      d.source.complete();
      expect(d.ended.kind).toBeUndefined();
      d.scheduler.advanceTo(10);
      d.finish('a');
      expect(d.out).toEqual(['A']);
      expect(d.ended.kind).toBe('complete');
    });

    it('in half-open, as many values start as there are probes', () => {
      const d = drive(
        { consecutiveFailures: 1, openDuration: 10, halfOpenProbes: 2 },
        { whenOpen: 'wait', capacity: 5, concurrency: 3 },
      );
      caller(d.breaker)().fail();
      for (const v of 'abcde') d.source.next(v);
      d.scheduler.advanceTo(10);
      expect(d.running).toEqual(['a', 'b']);
      d.finish('a');
      // One probe succeeded, one runs: one more may probe.
      expect(d.running).toEqual(['b', 'c']);
      d.finish('b');
      expect(d.breaker.state).toBe('closed');
      expect(d.running).toEqual(['c', 'd', 'e']);
    });

    it('a value fed back synchronously from inside project waits too when that call opens the breaker', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      const source = new Subject<string>();
      const drops = recordDrops<string>();
      const started: string[] = [];
      source
        .pipe(
          breaker.protect(
            (v) => {
              started.push(v);
              if (v !== 'a') return of(v);
              source.next('b'); // fed back while the breaker is still closed
              return throwError(() => boom); // ...then this call fails and opens it
            },
            { whenOpen: 'wait', capacity: 5, onError: 'continue', onDrop: drops.onDrop },
          ),
        )
        .subscribe();
      source.next('a');
      expect(breaker.state).toBe('open');
      // 'wait' never rejects: b waits for the half-open instant like any value behind an open breaker.
      expect(drops.drops).toEqual([]);
      scheduler.advanceTo(10);
      expect(started).toEqual(['a', 'b']);
    });

    it('several values fed back from inside a call that opens the breaker wait in arrival order', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      const source = new Subject<string>();
      const drops = recordDrops<string>();
      const started: [string, number][] = [];
      const inners = new Map<string, Subject<string>>();
      source
        .pipe(
          breaker.protect(
            (v): Observable<string> => {
              started.push([v, scheduler.now()]);
              if (v === 'a') {
                source.next('b');
                source.next('c');
                return throwError(() => boom);
              }
              const inner = new Subject<string>();
              inners.set(v, inner);
              return inner;
            },
            { whenOpen: 'wait', capacity: 5, onError: 'continue', onDrop: drops.onDrop },
          ),
        )
        .subscribe();
      source.next('a');
      source.next('d');
      scheduler.advanceTo(10);
      // b is the probe; c and d wait for the close, in the order they arrived.
      expect(started).toEqual([
        ['a', 0],
        ['b', 10],
      ]);
      inners.get('b')!.complete();
      expect(started.map(([v]) => v)).toEqual(['a', 'b', 'c', 'd']);
      expect(drops.drops).toEqual([]);
    });

    it('several protect subscriptions wait on one breaker: one probe for all, then each releases its queue', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      caller(breaker)().fail();
      const started: string[] = [];
      const inners: Subject<string>[] = [];
      const project = (v: string): Observable<string> => {
        started.push(v);
        const inner = new Subject<string>();
        inners.push(inner);
        return inner;
      };
      const one = new Subject<string>();
      const two = new Subject<string>();
      one.pipe(breaker.protect(project, { whenOpen: 'wait', capacity: 5 })).subscribe();
      two.pipe(breaker.protect(project, { whenOpen: 'wait', capacity: 5 })).subscribe();
      one.next('1a');
      two.next('2a');
      two.next('2b');
      expect(scheduler.pendingCount).toBe(2);
      scheduler.advanceTo(10);
      // One probe (which subscription's head is not specified); the rest wait for the close.
      expect(started).toHaveLength(1);
      expect(scheduler.pendingCount).toBe(0);
      inners[0]!.complete();
      expect(breaker.state).toBe('closed');
      expect([...started].sort()).toEqual(['1a', '2a', '2b']);
      expect(started.indexOf('2a')).toBeLessThan(started.indexOf('2b'));
    });
  });

  describe('many in-flight calls failing at once (opossum #385, through protect)', () => {
    it("opens once, then the waiting values probe and close it at the half-open instant ('wait')", () => {
      const scheduler = manual();
      const opens: number[] = [];
      const breaker = new CircuitBreaker({
        consecutiveFailures: 3,
        openDuration: (n) => {
          opens.push(n);
          return 10;
        },
        scheduler,
      });
      const states: string[] = [];
      breaker.state$.subscribe((c) => states.push(`${c.state}@${String(c.since)}`));
      const downstream = new Subject<string>();
      const source = new Subject<string>();
      const out: string[] = [];
      const drops = recordDrops<string>();
      source
        .pipe(
          breaker.protect((v) => (v.startsWith('in flight') ? downstream : of(v.toUpperCase())), {
            whenOpen: 'wait',
            capacity: 10,
            onError: 'continue',
            onDrop: drops.onDrop,
          }),
        )
        .subscribe((v) => out.push(v));
      for (let i = 0; i < 20; i++) source.next(`in flight ${String(i)}`);
      scheduler.advanceTo(2);
      downstream.error(boom); // all twenty fail at once
      source.next('a');
      source.next('b');
      expect(breaker.state).toBe('open');
      scheduler.advanceTo(12);
      expect(out).toEqual(['A', 'B']);
      expect(breaker.state).toBe('closed');
      expect(opens).toEqual([1]);
      expect(states).toEqual(['closed@0', 'open@2', 'half-open@12', 'closed@12']);
      expect(drops.drops).toEqual([]);
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('onError: after the breaker counted the failure', () => {
    it('a fallback function sees the breaker already open', () => {
      const seen: string[] = [];
      const d = drive(
        { consecutiveFailures: 1 },
        {
          whenOpen: 'drop',
          onError: (error, value) => {
            seen.push(`${value}: ${d.breaker.state}`);
            return of(`recovered ${value}`);
          },
        },
      );
      d.source.next('a');
      d.fail('a');
      expect(seen).toEqual(['a: open']);
      expect(d.out).toEqual(['recovered a']);
    });

    it("'error' errors the output; the failure was counted", () => {
      const d = drive({ consecutiveFailures: 1 });
      d.source.next('a');
      d.fail('a', boom);
      expect(d.ended).toEqual({ kind: 'error', error: boom });
      expect(d.breaker.state).toBe('open');
    });

    it("'continue' goes on; the failures are counted", () => {
      const d = drive({ consecutiveFailures: 2 }, { onError: 'continue', whenOpen: 'drop' });
      d.source.next('a');
      d.source.next('b');
      d.fail('a');
      d.fail('b');
      expect(d.breaker.state).toBe('open');
      expect(d.ended.kind).toBeUndefined();
    });

    it('an error isFailure ignores still goes to onError', () => {
      const d = drive({ consecutiveFailures: 1, isFailure: (e) => e !== boom });
      d.source.next('a');
      d.fail('a', boom);
      expect(d.ended).toEqual({ kind: 'error', error: boom });
      expect(d.breaker.state).toBe('closed');
    });
  });

  describe('callTimeout through protect', () => {
    it("a call running longer gets CallTimeoutError at start + callTimeout: onError 'error' errors the output", () => {
      testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 5, callTimeout: 3 });
        const source = hot('-a');
        const inner = cold(' -----(x|)');
        expectObservable(source.pipe(breaker.protect(work(inner)))).toBe(
          '----#',
          undefined,
          new CallTimeoutError(3),
        );
        expectSubscriptions(inner.subscriptions).toBe('-^--!');
      });
    });

    it("with onError 'continue' the slot frees at the timeout and the next value starts", () => {
      const d = drive(
        { consecutiveFailures: 2, callTimeout: 5, isFailure: () => false },
        { onError: 'continue', concurrency: 1, whenOpen: 'drop' },
      );
      d.source.next('a');
      d.source.next('b');
      d.source.next('c');
      d.scheduler.advanceTo(5);
      expect(d.running).toEqual(['b']);
      d.scheduler.advanceTo(10);
      // Two timeouts in a row: open (whatever isFailure says); c is rejected.
      expect(d.breaker.state).toBe('open');
      expect(d.drops.drops).toEqual([['c', 'rejected']]);
      expect(d.scheduler.pendingCount).toBe(0);
    });
  });

  describe('rule 11: the library rules', () => {
    it('a throwing project errors the output and is not counted', () => {
      const d = drive({ consecutiveFailures: 1 }, { concurrency: 1, capacity: 3 });
      d.source.next('a');
      const broken = d.breaker.protect(() => {
        throw boom;
      });
      let error: unknown;
      of('x')
        .pipe(broken)
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBe(boom);
      expect(d.breaker.state).toBe('closed');
    });

    it('a project that returns no ObservableInput errors the output with a TypeError naming protect; not counted', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      let error: unknown;
      of('x')
        .pipe(breaker.protect(() => 42 as never))
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^protect: /);
      expect(breaker.state).toBe('closed');
    });

    it('a throwing project in half-open gives the probe permit back', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      caller(breaker)().fail();
      scheduler.advanceTo(10);
      let error: unknown;
      of('x')
        .pipe(
          breaker.protect(() => {
            throw boom;
          }),
        )
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBe(boom);
      expect(breaker.state).toBe('half-open');
      const probe = caller(breaker)();
      expect(probe.status).toBe('running');
    });

    it("a throwing onDrop errors the output ('drop' mode)", () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler });
      caller(breaker)().fail();
      let error: unknown;
      of('a')
        .pipe(
          breaker.protect(() => of('x'), {
            whenOpen: 'drop',
            onDrop: () => {
              throw boom;
            },
          }),
        )
        .subscribe({ error: (e: unknown) => (error = e) });
      expect(error).toBe(boom);
    });

    it("a source error errors the output, reporting waiting values 'cleared'", () => {
      const d = drive({ consecutiveFailures: 1, openDuration: 10 }, { whenOpen: 'wait', capacity: 5 });
      caller(d.breaker)().fail();
      d.source.next('a');
      d.source.error(boom);
      expect(d.ended).toEqual({ kind: 'error', error: boom });
      expect(d.drops.drops).toEqual([['a', 'cleared']]);
      expect(d.scheduler.pendingCount).toBe(0);
    });

    it('unsubscribing cancels the running calls: they are not counted', () => {
      const d = drive({ consecutiveFailures: 1 });
      d.source.next('a');
      d.source.next('b');
      d.unsubscribe();
      expect(d.running).toEqual([]);
      expect(d.breaker.state).toBe('closed');
    });

    it('a probe cancelled by switchMap gives its permit back (resilience4j stuck half-open, through protect)', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      caller(breaker)().fail();
      scheduler.advanceTo(10);
      const outer = new Subject<string>();
      const started: string[] = [];
      const errors: unknown[] = [];
      outer
        .pipe(
          switchMap((v) =>
            of(v).pipe(
              breaker.protect((x) => {
                started.push(x);
                return NEVER;
              }),
            ),
          ),
        )
        .subscribe({ error: (e: unknown) => errors.push(e) });
      for (let i = 0; i < 50; i++) outer.next(`probe ${String(i)}`);
      expect(started).toHaveLength(50);
      expect(errors).toEqual([]);
      expect(breaker.state).toBe('half-open');
    });

    it('conservation: every value is passed to project, handed to the fallback, or reported, exactly once', () => {
      const seen = new Map<string, string[]>();
      const note = (v: string, what: string): void => {
        seen.set(v, [...(seen.get(v) ?? []), what]);
      };
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 5, scheduler });
      const source = new Subject<string>();
      const inners: Subject<string>[] = [];
      source
        .pipe(
          breaker.protect(
            (v) => {
              note(v, 'project');
              const inner = new Subject<string>();
              inners.push(inner);
              return inner;
            },
            {
              concurrency: 2,
              capacity: 3,
              onError: 'continue',
              whenOpen: (v) => {
                note(v, 'fallback');
                return of(v);
              },
              onDrop: (v, reason: DropReason) => note(v, reason),
            },
          ),
        )
        .subscribe();
      for (let i = 0; i < 60; i++) {
        source.next(`v${String(i)}`);
        if (i % 3 === 0) inners.shift()?.error(boom);
        if (i % 5 === 0) inners.shift()?.complete();
        if (i % 7 === 0) scheduler.advanceBy(3);
      }
      expect(seen.size).toBe(60);
      for (const [v, what] of seen) expect([v, what.length]).toEqual([v, 1]);
    });

    it('stops an infinite synchronous source when take(3) downstream has what it wants', () => {
      let produced = 0;
      const firehose = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed; i++) {
          produced++;
          subscriber.next(i);
        }
      });
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler: manual() });
      const out: number[] = [];
      firehose
        .pipe(
          breaker.protect((v) => of(v)),
          take(3),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(produced).toBe(3);
    });

    it('goes through 100,000 synchronous inners without recursion', () => {
      const N = 100_000;
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler: manual() });
      let count = 0;
      let completed = false;
      range(0, N)
        .pipe(breaker.protect((v) => of(v)))
        .subscribe({ next: () => count++, complete: () => (completed = true) });
      expect(count).toBe(N);
      expect(completed).toBe(true);
    });

    it("rejects 100,000 synchronous values while open without recursion ('drop')", () => {
      const N = 100_000;
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, scheduler });
      caller(breaker)().fail();
      let rejected = 0;
      let completed = false;
      range(0, N)
        .pipe(breaker.protect((v) => of(v), { whenOpen: 'drop', onDrop: () => rejected++ }))
        .subscribe({ complete: () => (completed = true) });
      expect(rejected).toBe(N);
      expect(completed).toBe(true);
    });

    it("releases 100,000 waiting values with synchronous calls at the half-open instant without recursion ('wait')", () => {
      const N = 100_000;
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      caller(breaker)().fail();
      let count = 0;
      let completed = false;
      range(0, N)
        .pipe(breaker.protect((v) => of(v), { whenOpen: 'wait', capacity: N }))
        .subscribe({ next: () => count++, complete: () => (completed = true) });
      expect(count).toBe(0);
      scheduler.advanceTo(10);
      expect(count).toBe(N);
      expect(completed).toBe(true);
    });

    it('goes through 100,000 synchronously failing inners with onError continue', () => {
      const N = 100_000;
      const breaker = new CircuitBreaker({
        failureRateThreshold: 1,
        minimumCalls: N + 1,
        scheduler: manual(),
      });
      let completed = false;
      range(0, N)
        .pipe(breaker.protect(() => throwError(() => boom), { onError: 'continue' }))
        .subscribe({ complete: () => (completed = true) });
      expect(completed).toBe(true);
    });
  });

  describe('rule 10: timers', () => {
    it('none while closed without callTimeout, with calls running', () => {
      const d = drive({ consecutiveFailures: 3 }, { concurrency: 2, capacity: 5 });
      for (const v of 'abcde') d.source.next(v);
      d.fail('a');
      expect(d.scheduler.pendingCount).toBe(0);
    });

    it('one per running call with callTimeout; none after teardown', () => {
      const d = drive({ consecutiveFailures: 3, callTimeout: 10 }, { concurrency: 2, capacity: 5 });
      for (const v of 'abcde') d.source.next(v);
      expect(d.scheduler.pendingCount).toBe(2);
      d.finish('a');
      expect(d.scheduler.pendingCount).toBe(2);
      d.unsubscribe();
      expect(d.scheduler.pendingCount).toBe(0);
    });
  });

  describe('rule 7: one breaker shared by several protect and guard uses', () => {
    it('failures in one stream open it for all; a probe from one serves all', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const breaker = new CircuitBreaker({ consecutiveFailures: 2, openDuration: 10 });
        const one = hot('     -a-b-------------|');
        const two = hot('     ------c-------d--|');
        const guarded = hot(' -------g------------g');
        const failing = cold('-#');
        const ok = cold('     -(x|)');
        // one fails twice (2, 4): open until 14. two's c is rejected, the guarded call at 7 refused.
        // two's d at 14 is the probe: closed at 15; the guarded call at 20 runs.
        expectObservable(one.pipe(breaker.protect(() => failing, { onError: 'continue' }))).toBe(
          '                   -----------------|',
        );
        expectObservable(two.pipe(breaker.protect(work(ok), { whenOpen: 'drop' }))).toBe(
          '                   ---------------D-|',
        );
        expectObservable(guarded.pipe(calls(breaker, { g: ok }))).toBe('-------r-------------x');
        expectObservable(letters(breaker)).toBe('                   c---o---------hc');
      });
    });

    it('a guard call refused while a protect stream waits: both see one state', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 1, openDuration: 10, scheduler });
      const waiting = new Subject<string>();
      const out: string[] = [];
      waiting
        .pipe(breaker.protect((v) => of(v), { whenOpen: 'wait', capacity: 5 }))
        .subscribe((v) => out.push(v));
      caller(breaker)().fail();
      waiting.next('w');
      const refused = caller(breaker)();
      expect(isCircuitOpenError(refused.error)).toBe(true);
      scheduler.advanceTo(10);
      expect(out).toEqual(['w']);
      expect(breaker.state).toBe('closed');
    });

    it('many subscriptions to one protected Observable share the counts', () => {
      const scheduler = manual();
      const breaker = new CircuitBreaker({ consecutiveFailures: 3, scheduler });
      const protectedCall = of('x').pipe(
        breaker.protect(() => throwError(() => boom), { onError: 'continue' }),
      );
      protectedCall.subscribe();
      protectedCall.subscribe();
      expect(breaker.state).toBe('closed');
      protectedCall.subscribe();
      expect(breaker.state).toBe('open');
    });
  });
});
