import {
  BehaviorSubject,
  defer,
  EMPTY,
  map,
  NEVER,
  Observable,
  of,
  startWith,
  Subject,
  timer,
  type OperatorFunction,
} from 'rxjs';
import { BufferOverflowError, bufferDropping, type DropReason } from 'rxjs-backpressure';
import { BUFFERS, drive, type AnyBufferOptions, type BufferCase } from '../helpers/buffers';
import { errorShape, recordDrops, testScheduler } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

type LimitOption = 'capacity' | 'concurrency';
const LIMIT_OPTIONS: LimitOption[] = ['capacity', 'concurrency'];

/** Makes the buffer with one limit given as `limit` and the other as a number. */
function withLimit(
  buffer: BufferCase,
  option: LimitOption,
  limit: Observable<number>,
  project: (value: string, index: number) => Observable<string>,
  options: AnyBufferOptions<string, string> = {},
): OperatorFunction<string, string> {
  return option === 'capacity'
    ? buffer.make(limit, project, options)
    : buffer.make(5, project, { ...options, concurrency: limit });
}

const EXPECTED_RANGE: Record<LimitOption, string> = {
  capacity: 'a non-negative integer or Infinity',
  concurrency: 'a positive integer or Infinity',
};

describe('limits that change while the stream runs (issue 8, section 3)', () => {
  describe.each(BUFFERS)('$label', (buffer: BufferCase) => {
    const { operator } = buffer;

    describe('rule 1: subscribed with the output, before the source; must emit at once', () => {
      it.each([
        ['a number', () => 2],
        ['a BehaviorSubject', () => new BehaviorSubject(2)],
        ['of(n)', () => of(2)],
        ['startWith(n) on a silent Observable', () => NEVER.pipe(startWith(2))],
      ])('takes %s for capacity and concurrency alike', (_, make) => {
        // 2 run (a, b), c and d wait, e finds the queue full at 5.
        const third: Record<BufferCase['overflow'], [string, string, DropReason]> = {
          error: ['-----#', 'e', 'overflow'],
          'drop-incoming': ['-----ab--cd---|', 'e', 'overflow'],
          'drop-oldest': ['-----ab--de---|', 'c', 'overflow'],
          'drop-newest-queued': ['-----ab--ce---|', 'd', 'overflow'],
          'drop-queue': ['-----ab--e----|', 'c', 'overflow'],
          priority: ['-----ab--cd---|', 'e', 'shed'],
        };
        const [expected, first, reason] = third[buffer.overflow];
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-abcde--------|');
          const inner = cold(' ----(x|)');
          const capacity = make();
          const concurrency = make();
          expectObservable(
            source.pipe(
              buffer.make(capacity as number, work(inner), {
                concurrency: concurrency as number,
                onDrop: drops.onDrop,
              }),
            ),
          ).toBe(expected, undefined, new BufferOverflowError(2, 'e', operator));
        });
        expect(drops.timeline[0]).toEqual({ value: first, reason, frame: 5 });
      });

      describe.each(LIMIT_OPTIONS)('%s', (option) => {
        const message = `${operator}: the \`${option}\` Observable must emit its first value synchronously on subscription (a BehaviorSubject, of(n), or startWith(n))`;

        it.each([
          ['a Subject', () => new Subject<number>()],
          ['NEVER', () => NEVER],
          ['EMPTY (completes without a value)', () => EMPTY],
          ['timer(0) (emits later)', () => timer(0).pipe(map(() => 1))],
        ])('errors at once with a TypeError for %s, never subscribing the source', (_, make) => {
          testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
            const source = hot('-a-|');
            expectObservable(source.pipe(withLimit(buffer, option, make(), (v: string) => of(v)))).toBe(
              '#',
              undefined,
              new TypeError(message),
            );
            expectSubscriptions(source.subscriptions).toBe([]);
          });
        });

        it('unsubscribes the silent Observable (and the other limit) when it errors', () => {
          const silent = new Subject<number>();
          const other = new BehaviorSubject(3);
          let error: unknown;
          const source = new Subject<string>();
          const op =
            option === 'capacity'
              ? buffer.make(silent, (v: string) => of(v), { concurrency: other })
              : buffer.make(other, (v: string) => of(v), { concurrency: silent });
          source.pipe(op).subscribe({ error: (e: unknown) => (error = e) });
          expect(errorShape(error as Error)).toEqual(errorShape(new TypeError(message)));
          expect(silent.observed).toBe(false);
          expect(other.observed).toBe(false);
          expect(source.observed).toBe(false);
        });
      });

      it('subscribes to capacity, then concurrency, then the source, once per subscription', () => {
        const log: string[] = [];
        const logged = <T>(name: string, inner: Observable<T>): Observable<T> =>
          defer(() => {
            log.push(name);
            return inner;
          });
        const op = buffer.make(logged('capacity', of(2)), (v: string) => of(v), {
          concurrency: logged('concurrency', of(1)),
        });
        const source = logged('source', of('a'));
        source.pipe(op).subscribe();
        source.pipe(op).subscribe();
        expect(log).toEqual(['capacity', 'concurrency', 'source', 'capacity', 'concurrency', 'source']);
      });
    });

    describe('rule 2: each value is checked like the number form', () => {
      const bad: [LimitOption, unknown, typeof RangeError | typeof TypeError, string][] = [
        ['capacity', -1, RangeError, '-1 (number)'],
        ['capacity', 1.5, RangeError, '1.5 (number)'],
        ['capacity', NaN, RangeError, 'NaN (number)'],
        ['capacity', -Infinity, RangeError, '-Infinity (number)'],
        ['capacity', '2', TypeError, '"2" (string)'],
        ['capacity', null, TypeError, 'null'],
        ['concurrency', 0, RangeError, '0 (number)'],
        ['concurrency', -1, RangeError, '-1 (number)'],
        ['concurrency', 2.5, RangeError, '2.5 (number)'],
        ['concurrency', NaN, RangeError, 'NaN (number)'],
        ['concurrency', '2', TypeError, '"2" (string)'],
        ['concurrency', undefined, TypeError, 'undefined'],
      ];

      it.each(bad)('errors at subscription for a first %s of %p', (option, value, ctor, described) => {
        testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
          const source = hot('-a-|');
          const limit = new BehaviorSubject(value as number);
          expectObservable(source.pipe(withLimit(buffer, option, limit, (v: string) => of(v)))).toBe(
            '#',
            undefined,
            new ctor(`${operator}: \`${option}\` must be ${EXPECTED_RANGE[option]}, got ${described}`),
          );
          expectSubscriptions(source.subscriptions).toBe([]);
        });
      });

      it.each(bad)(
        "errors when %s %p is emitted later: waiting values 'cleared', work and source torn down",
        (option, value, ctor, described) => {
          const limit = new BehaviorSubject(option === 'capacity' ? 5 : 1);
          const d = drive(
            buffer,
            option === 'capacity' ? limit : 5,
            option === 'concurrency' ? { concurrency: limit } : {},
          );
          d.source.next('a');
          d.source.next('b');
          d.source.next('c');
          limit.next(value as number);
          expect(d.ended?.kind).toBe('error');
          expect(errorShape((d.ended as { error: Error }).error)).toEqual(
            errorShape(
              new ctor(`${operator}: \`${option}\` must be ${EXPECTED_RANGE[option]}, got ${described}`),
            ),
          );
          expect(d.drops.drops).toEqual([
            ['b', 'cleared'],
            ['c', 'cleared'],
          ]);
          expect(d.running).toEqual([]);
          expect(d.source.observed).toBe(false);
          expect(limit.observed).toBe(false);
        },
      );
    });

    describe('rule 3: a change applies at the instant it is emitted', () => {
      it('raising concurrency starts waiting values at once, as far as the new limit allows', () => {
        const concurrency = new BehaviorSubject(1);
        const d = drive(buffer, 5, { concurrency });
        for (const v of 'abcde') d.source.next(v);
        d.scheduler.advanceTo(7);
        concurrency.next(3);
        expect(d.running).toEqual(['a', 'b', 'c']);
        expect(d.started.slice(1)).toEqual([
          ['b', 1, 7],
          ['c', 2, 7],
        ]);
        concurrency.next(Infinity);
        expect(d.running).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(d.drops.drops).toEqual([]);
      });

      it('in virtual time: the raise applies at the frame it is emitted', () => {
        const starts: [string, number][] = [];
        const s = testScheduler();
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('     -abc-----------|');
          const concurrency = hot('----3-----------', { 3: 3 }).pipe(startWith(1));
          const inner = cold('      ------(x|)');
          const expected = '       -------a--(bc)-|';
          const project = (v: string): Observable<string> => {
            starts.push([v, s.now()]);
            return work(inner)(v);
          };
          expectObservable(source.pipe(buffer.make(5, project, { concurrency }))).toBe(expected);
        });
        expect(starts).toEqual([
          ['a', 1],
          ['b', 4],
          ['c', 4],
        ]);
      });

      it('raising concurrency with synchronous work drains the queue in one loop', () => {
        const concurrency = new BehaviorSubject(1);
        const gate = new Subject<number>();
        const out: number[] = [];
        const source = new Subject<number>();
        source
          .pipe(buffer.make(Infinity, (v: number) => (v === 0 ? gate : of(v)), { concurrency }))
          .subscribe((v) => out.push(v));
        for (let i = 0; i <= 10_000; i++) source.next(i);
        expect(out).toEqual([]);
        concurrency.next(2);
        expect(out.length).toBe(10_000);
      });

      it('lowering concurrency never cancels running work; new work starts when fewer than the new limit run', () => {
        const concurrency = new BehaviorSubject(3);
        const d = drive(buffer, 5, { concurrency });
        for (const v of 'abcde') d.source.next(v);
        expect(d.running).toEqual(['a', 'b', 'c']);
        concurrency.next(1);
        expect(d.running).toEqual(['a', 'b', 'c']);
        d.finish('a');
        expect(d.running).toEqual(['b', 'c']);
        d.finish('c');
        expect(d.running).toEqual(['b']);
        d.finish('b');
        expect(d.running).toEqual(['d']);
        concurrency.next(2);
        expect(d.running).toEqual(['d', 'e']);
        expect(d.out).toEqual(['a', 'c', 'b']);
        expect(d.drops.drops).toEqual([]);
      });

      it('raising capacity lets more values wait', () => {
        const capacity = new BehaviorSubject(1);
        const d = drive(buffer, capacity);
        d.source.next('a');
        d.source.next('b');
        capacity.next(3);
        d.source.next('c');
        d.source.next('d');
        expect(d.drops.drops).toEqual([]);
        d.finish('a');
        d.finish('b');
        d.finish('c');
        expect(d.running).toEqual(['d']);
      });

      it('lowering capacity to 0 keeps the waiting values and works them off', () => {
        const capacity = new BehaviorSubject(3);
        const d = drive(buffer, capacity);
        for (const v of 'abc') d.source.next(v);
        capacity.next(0);
        expect(d.drops.drops).toEqual([]);
        d.finish('a');
        d.finish('b');
        expect(d.running).toEqual(['c']);
        d.finish('c');
        d.source.next('d'); // nothing runs: starts at once
        expect(d.running).toEqual(['d']);
        expect(d.drops.drops).toEqual([]);
      });
    });

    describe('rule 4: completion, error and teardown of the limit', () => {
      it.each(LIMIT_OPTIONS)('keeps the last %s when its Observable completes', (option) => {
        const limit = new BehaviorSubject(1);
        const d = drive(
          buffer,
          option === 'capacity' ? limit : 5,
          option === 'concurrency' ? { concurrency: limit } : {},
        );
        limit.next(3);
        limit.complete();
        for (const v of 'abcd') d.source.next(v);
        if (option === 'capacity') expect(d.drops.drops).toEqual([]);
        else expect(d.running).toEqual(['a', 'b', 'c']);
        expect(d.ended).toBeUndefined();
      });

      it.each(LIMIT_OPTIONS)(
        "errors the output when the %s Observable errors, reporting waiting values 'cleared'",
        (option) => {
          const failure = new Error('remote config failed');
          const limit = new BehaviorSubject(option === 'capacity' ? 5 : 1);
          const other = new BehaviorSubject(option === 'capacity' ? 1 : 5);
          const d =
            option === 'capacity'
              ? drive(buffer, limit, { concurrency: other })
              : drive(buffer, other, { concurrency: limit });
          for (const v of 'abc') d.source.next(v);
          limit.error(failure);
          expect(d.ended).toEqual({ kind: 'error', error: failure });
          expect(d.drops.drops).toEqual([
            ['b', 'cleared'],
            ['c', 'cleared'],
          ]);
          expect(d.running).toEqual([]);
          expect(d.source.observed).toBe(false);
          expect(other.observed).toBe(false);
        },
      );

      it.each(['unsubscribe', 'complete', 'error'] as const)(
        'unsubscribes both limits on teardown (%s)',
        (how) => {
          const capacity = new BehaviorSubject(2);
          const concurrency = new BehaviorSubject(1);
          const d = drive(buffer, capacity, { concurrency });
          d.source.next('a');
          expect(capacity.observed).toBe(true);
          expect(concurrency.observed).toBe(true);
          if (how === 'unsubscribe') d.unsubscribe();
          if (how === 'complete') {
            d.source.complete();
            d.finish('a');
            expect(d.ended).toEqual({ kind: 'complete' });
          }
          if (how === 'error') d.fail('a');
          expect(capacity.observed).toBe(false);
          expect(concurrency.observed).toBe(false);
        },
      );
    });
  });

  describe('rule 3: lowering capacity drops nothing by itself; arrivals find the queue full', () => {
    interface LowerCase {
      /** Reports when e, then f, arrive to a queue of b, c, d with capacity lowered from 3 to 1. */
      drops: [string, DropReason][];
      /** What waits after f. */
      waiting: string[];
      /** Reports when g arrives (waits: the queue drained) and h arrives (full again). */
      later: [string, DropReason][];
    }
    const cases: Record<BufferCase['overflow'], LowerCase | undefined> = {
      error: undefined,
      'drop-incoming': {
        drops: [
          ['e', 'overflow'],
          ['f', 'overflow'],
        ],
        waiting: ['b', 'c', 'd'],
        later: [['h', 'overflow']],
      },
      'drop-oldest': {
        drops: [
          ['b', 'overflow'],
          ['c', 'overflow'],
        ],
        waiting: ['d', 'e', 'f'],
        later: [['g', 'overflow']],
      },
      'drop-newest-queued': {
        drops: [
          ['d', 'overflow'],
          ['e', 'overflow'],
        ],
        waiting: ['b', 'c', 'f'],
        later: [['g', 'overflow']],
      },
      'drop-queue': {
        drops: [
          ['b', 'overflow'],
          ['c', 'overflow'],
          ['d', 'overflow'],
          ['e', 'overflow'],
        ],
        waiting: ['f'],
        later: [['g', 'overflow']],
      },
      priority: {
        drops: [
          ['e', 'shed'],
          ['f', 'shed'],
        ],
        waiting: ['b', 'c', 'd'],
        later: [['h', 'shed']],
      },
    };

    it.each(BUFFERS.filter((b) => b.overflow !== 'error').map((b) => [b.label, b] as const))(
      '%s: the strategy applies to each arrival until the queue has drained below the new capacity',
      (_, buffer) => {
        const expected = cases[buffer.overflow]!;
        const capacity = new BehaviorSubject(3);
        const d = drive(buffer, capacity);
        for (const v of 'abcd') d.source.next(v);
        capacity.next(1);
        expect(d.drops.drops).toEqual([]);
        d.source.next('e');
        d.source.next('f');
        expect(d.drops.drops).toEqual(expected.drops);
        // Work off the queue: what waited starts in order.
        d.finish('a');
        for (const v of expected.waiting.slice(0, -1)) d.finish(v);
        expect(d.started.map(([v]) => v)).toEqual(['a', ...expected.waiting]);
        // Nothing waits now (the last one runs): g may wait again, h finds the queue full.
        d.source.next('g');
        d.source.next('h');
        expect(d.drops.drops).toEqual([...expected.drops, ...expected.later]);
      },
    );

    it('bufferFixed: an arrival to the lowered, still over-full queue errors with the new capacity', () => {
      const fixed = BUFFERS.find((b) => b.overflow === 'error')!;
      const capacity = new BehaviorSubject(3);
      const d = drive(fixed, capacity);
      for (const v of 'abcd') d.source.next(v);
      capacity.next(1);
      expect(d.ended).toBeUndefined();
      d.source.next('e');
      expect(d.drops.drops).toEqual([
        ['e', 'overflow'],
        ['b', 'cleared'],
        ['c', 'cleared'],
        ['d', 'cleared'],
      ]);
      expect(d.ended?.kind).toBe('error');
      expect(errorShape((d.ended as { error: Error }).error)).toEqual(
        errorShape(new BufferOverflowError(1, 'e', 'bufferFixed')),
      );
    });

    it('bufferFixed: once drained below the new capacity, values wait again without error', () => {
      const fixed = BUFFERS.find((b) => b.overflow === 'error')!;
      const capacity = new BehaviorSubject(3);
      const d = drive(fixed, capacity);
      for (const v of 'abcd') d.source.next(v);
      capacity.next(1);
      d.finish('a');
      d.finish('b');
      d.finish('c');
      d.source.next('e');
      expect(d.ended).toBeUndefined();
      expect(d.running).toEqual(['d']);
      d.finish('d');
      expect(d.running).toEqual(['e']);
    });

    it('bufferPriority: a lowered capacity still sheds the lowest for a more important arrival', () => {
      const priority = (v: string): number => ({ b: 1, c: 2, d: 3, e: 5 })[v] ?? 0;
      const capacity = new BehaviorSubject(3);
      const d = drive(
        BUFFERS.find((b) => b.overflow === 'priority')!,
        capacity,
        { priority },
      );
      for (const v of 'abcd') d.source.next(v);
      capacity.next(1);
      d.source.next('e');
      expect(d.drops.drops).toEqual([['b', 'shed']]);
      d.finish('a');
      expect(d.running).toEqual(['e']);
    });
  });

  it('subscribes to the limit once per subscription, however many values it emits', () => {
    let subscriptions = 0;
    const capacity = new BehaviorSubject(2);
    const counted = defer(() => {
      subscriptions++;
      return capacity;
    });
    const source = new Subject<string>();
    const sub = source.pipe(BUFFERS[0]!.make(counted, (v: string) => of(v))).subscribe();
    capacity.next(3);
    capacity.next(4);
    expect(subscriptions).toBe(1);
    sub.unsubscribe();
    expect(capacity.observed).toBe(false);
  });

  it('on the real clock too: a raise emitted from a timer starts waiting values in that same callback', async () => {
    const concurrency = new BehaviorSubject(1);
    const started: string[] = [];
    const source = new Subject<string>();
    const subscription = source
      .pipe(
        bufferDropping(
          5,
          (v: string) => {
            started.push(v);
            return NEVER;
          },
          { concurrency },
        ),
      )
      .subscribe();
    source.next('a');
    source.next('b');
    source.next('c');
    const seen = await new Promise<string[]>((resolve) => {
      setTimeout(() => {
        concurrency.next(2);
        resolve([...started]);
      }, 5);
    });
    expect(seen).toEqual(['a', 'b']);
    subscription.unsubscribe();
    expect(concurrency.observed).toBe(false);
  });

  describe('several values emitted synchronously on subscription: the last one is in force', () => {
    // Rules 3 and 4: a change applies when it is emitted, and a completed limit keeps its last value.
    it('capacity of(1, 3): three may wait, nothing is dropped', () => {
      const dropped: string[] = [];
      const source = new Subject<string>();
      source
        .pipe(bufferDropping(of(1, 3), () => NEVER, { onDrop: (v: string) => dropped.push(v) }))
        .subscribe();
      for (const v of 'abcd') source.next(v); // a runs; b, c and d wait
      expect(dropped).toEqual([]);
    });

    it('concurrency BehaviorSubject(3).pipe(startWith(1)): three run at once', () => {
      const started: string[] = [];
      const source = new Subject<string>();
      const concurrency = new BehaviorSubject(3).pipe(startWith(1));
      source
        .pipe(
          bufferDropping(
            10,
            (v: string) => {
              started.push(v);
              return NEVER;
            },
            { concurrency },
          ),
        )
        .subscribe();
      for (const v of 'abcd') source.next(v);
      expect(started).toEqual(['a', 'b', 'c']);
    });
  });
});
