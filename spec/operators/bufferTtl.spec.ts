import {
  BehaviorSubject,
  concat,
  map,
  Observable,
  Subject,
  take,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { BufferOverflowError, bufferFixed, ManualTimeScheduler, type DropReason } from 'rxjs-backpressure';
import { BUFFERS, drive, NAMED_BUFFERS, type BufferCase } from '../helpers/buffers';
import { errorShape, recordDrops, testScheduler, thrownBy } from '../helpers/marbles';

/** `project` for marble tests: the work is `inner` (a cold observable), whose `x` becomes the value. */
function work(inner: Observable<string>): (value: string) => Observable<string> {
  return (value) => inner.pipe(map(() => value));
}

/** A scheduler that counts what the operator asks of it, delegating to a {@link ManualTimeScheduler}. */
function countingScheduler(): {
  scheduler: SchedulerLike;
  manual: ManualTimeScheduler;
  counts: { now: number; schedule: number };
} {
  const manual = new ManualTimeScheduler();
  const counts = { now: 0, schedule: 0 };
  const scheduler: SchedulerLike = {
    now: () => {
      counts.now++;
      return manual.now();
    },
    schedule<S>(work: (this: SchedulerAction<S>, state: S) => void, delay?: number, state?: S): Subscription {
      counts.schedule++;
      return manual.schedule(work, delay, state);
    },
  };
  return { scheduler, manual, counts };
}

describe('ttl (issue 8, section 1)', () => {
  describe('the example of the issue', () => {
    it('bufferFixed(10, project, { ttl: 4 }): c expires at frame 8, b ran from 5 to 10', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      const starts: [string, number][] = [];
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('a-b-c---------|');
        const inner = cold('-----(x|)');
        const expected = '  -----A----B---|';
        const project = (v: string): Observable<string> => {
          starts.push([v, s.now()]);
          return inner.pipe(map(() => v.toUpperCase()));
        };
        expectObservable(source.pipe(bufferFixed(10, project, { ttl: 4, onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'expired', frame: 8 }]);
      // b arrived at 2 and started at 5, having waited 3 frames.
      expect(starts).toEqual([
        ['a', 0],
        ['b', 5],
      ]);
    });
  });

  describe.each(BUFFERS)('$label', (buffer: BufferCase) => {
    it('behaves as the example of the issue with room to wait', () => {
      const s = testScheduler();
      const drops = recordDrops<string>(s);
      s.run(({ hot, cold, expectObservable }) => {
        const source = hot('a-b-c---------|');
        const inner = cold('-----(x|)');
        const expected = '  -----a----b---|';
        expectObservable(source.pipe(buffer.make(10, work(inner), { ttl: 4, onDrop: drops.onDrop }))).toBe(
          expected,
        );
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'expired', frame: 8 }]);
    });

    describe('rules 1 and 2: the wait runs from arrival to release; never longer than ttl', () => {
      it('releases a value whose slot frees at its deadline instant', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab--------|');
          const inner = cold(' ----(x|)');
          const expected = '  -----a---b-|';
          expectObservable(source.pipe(buffer.make(5, work(inner), { ttl: 3, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.drops).toEqual([]);
      });

      it("reports a value still waiting after its deadline 'expired'; it never reaches project or the output", () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        const starts: string[] = [];
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab--------|');
          const inner = cold(' ----(x|)');
          const expected = '  -----a-----|';
          const project = (v: string): Observable<string> => {
            starts.push(v);
            return work(inner)(v);
          };
          expectObservable(source.pipe(buffer.make(5, project, { ttl: 2, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(starts).toEqual(['a']);
        expect(drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 4 }]);
      });

      it('expires each waiting value at its own deadline, re-arming for the next one', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab-c--d---------|');
          const inner = cold(' -------------(x|)');
          const expected = '  --------------a--|';
          expectObservable(source.pipe(buffer.make(5, work(inner), { ttl: 3, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.timeline).toEqual([
          { value: 'b', reason: 'expired', frame: 5 },
          { value: 'c', reason: 'expired', frame: 7 },
          { value: 'd', reason: 'expired', frame: 10 },
        ]);
      });

      it('measures the wait on the given scheduler, with fractional ttl', () => {
        const d = drive(buffer, 5, { ttl: 2.5 });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b');
        d.scheduler.advanceTo(3.4);
        expect(d.drops.timeline).toEqual([]);
        d.scheduler.advanceTo(3.5);
        expect(d.drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 3.5 }]);
      });

      it('lets a value that starts at once start, whatever the ttl', () => {
        const d = drive(buffer, 5, { ttl: 0, concurrency: 2 });
        d.source.next('a');
        d.source.next('b');
        d.scheduler.advanceBy(10);
        expect(d.started).toEqual([
          ['a', 0, 0],
          ['b', 1, 0],
        ]);
        expect(d.drops.drops).toEqual([]);
      });
    });

    describe('rule 3: ttl 0', () => {
      it('expires a value that cannot start at its arrival instant, at that instant', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab---|');
          const inner = cold(' ---(x|)');
          const expected = '  ----a-|';
          expectObservable(source.pipe(buffer.make(5, work(inner), { ttl: 0, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 2 }]);
      });

      it('releases a value that arrives at the instant a slot frees (the slot is used first)', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          // b arrives at 4, then a's inner completes at 4: b starts at 4.
          const source = hot('-a--b-|');
          const inner = cold(' ---(x|)');
          const expected = '  ----a--(b|)';
          expectObservable(source.pipe(buffer.make(5, work(inner), { ttl: 0, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.drops).toEqual([]);
      });
    });

    describe('rule 4: at most one expiry action, at the earliest deadline, none while nothing waits', () => {
      it('holds one action however many wait, none once nothing waits, and never one due late', () => {
        const { scheduler, manual, counts } = countingScheduler();
        // The counting wrapper is the operator's scheduler; `manual` only stamps the drop records.
        const e = drive(buffer, Infinity, { ttl: 10, scheduler }, manual);
        const deadlines = new Map<string, number>();
        const arrive = (v: string): void => {
          deadlines.set(v, manual.now() + 10);
          e.source.next(v);
        };
        const waiting = (): string[] =>
          [...deadlines.keys()].filter(
            (v) => !e.started.some(([s]) => s === v) && !e.drops.drops.some(([dv]) => dv === v),
          );
        const check = (): void => {
          const w = waiting();
          expect(manual.pendingCount).toBe(w.length > 0 ? 1 : 0);
          if (w.length > 0) {
            const earliest = Math.min(...w.map((v) => deadlines.get(v)!));
            // Never due after the earliest deadline (a value would wait too long), never in the past.
            expect(manual.nextDueTime).toBeLessThanOrEqual(earliest);
            expect(manual.nextDueTime).toBeGreaterThanOrEqual(manual.now());
          }
        };
        arrive('a');
        check();
        manual.advanceTo(1);
        arrive('b');
        check();
        expect(manual.nextDueTime).toBe(11);
        manual.advanceTo(2);
        arrive('c');
        manual.advanceTo(3);
        arrive('d');
        arrive('e');
        check();
        expect(manual.nextDueTime).toBe(11);
        manual.advanceTo(11);
        expect(e.drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 11 }]);
        check();
        expect(manual.nextDueTime).toBe(12);
        e.finish('a');
        expect(e.started.map(([v]) => v)).toEqual(['a', 'c']);
        check();
        e.finish('c');
        check();
        manual.advanceTo(13);
        expect(e.drops.timeline.map(({ value, frame }) => [value, frame])).toEqual([
          ['b', 11],
          ['e', 13],
        ]);
        check();
        e.finish('d');
        check();
        expect(manual.pendingCount).toBe(0);
        // One action all along: armed once, then moved (hop, re-arm), never made anew.
        expect(counts.schedule).toBe(1);
        arrive('f');
        arrive('g');
        check();
        expect(manual.nextDueTime).toBe(23);
        expect(counts.schedule).toBe(2);
      });

      type Ending = 'complete' | 'source error' | 'inner error' | 'unsubscribe' | 'take' | 'capacity error';
      const endings: Ending[] = [
        'complete',
        'source error',
        'inner error',
        'unsubscribe',
        'take',
        'capacity error',
      ];

      it.each(endings)('cancels the action when the output ends (%s)', (ending) => {
        const manual = new ManualTimeScheduler();
        const source = new Subject<string>();
        const capacity = new BehaviorSubject(5);
        const inners = new Map<string, Subject<string>>();
        const drops = recordDrops<string>(manual);
        let ended = 'open';
        const project = (v: string): Observable<string> => {
          const inner = new Subject<string>();
          inners.set(v, inner);
          return inner;
        };
        const sub = source
          .pipe(
            buffer.make(capacity, project, { ttl: 10, scheduler: manual, onDrop: drops.onDrop }),
            take(ending === 'take' ? 1 : Infinity),
          )
          .subscribe({ error: () => (ended = 'error'), complete: () => (ended = 'complete') });
        source.next('a');
        source.next('b');
        source.next('c');
        expect(manual.pendingCount).toBe(1);
        switch (ending) {
          case 'complete':
            source.complete();
            inners.get('a')!.complete();
            expect(manual.pendingCount).toBe(1); // c still waits
            inners.get('b')!.complete();
            inners.get('c')!.complete();
            expect(ended).toBe('complete');
            break;
          case 'source error':
            source.error(new Error('source failed'));
            expect(ended).toBe('error');
            break;
          case 'inner error':
            inners.get('a')!.error(new Error('inner failed'));
            expect(ended).toBe('error');
            break;
          case 'unsubscribe':
            sub.unsubscribe();
            break;
          case 'take':
            inners.get('a')!.next('A');
            expect(ended).toBe('complete');
            break;
          case 'capacity error':
            capacity.error(new Error('config failed'));
            expect(ended).toBe('error');
            break;
        }
        expect(manual.pendingCount).toBe(0);
        expect(source.observed).toBe(false);
        manual.advanceBy(100);
        expect(drops.drops.filter(([, reason]) => reason === 'expired')).toEqual([]);
      });

      it("errors with the error of an `onDrop` that throws on 'expired', clearing the rest, cancelling the action", () => {
        const boom = new Error('onDrop failed');
        const reports: string[] = [];
        const d = drive(buffer, 5, {
          ttl: 3,
          onDrop: (v: string, reason: DropReason) => {
            reports.push(`${reason} ${v}@${d.scheduler.now()}`);
            if (reason === 'expired') throw boom;
          },
        });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b');
        d.scheduler.advanceTo(2);
        d.source.next('c');
        d.scheduler.advanceTo(4);
        expect(reports).toEqual(['expired b@4', 'cleared c@4']);
        expect(d.ended).toEqual({ kind: 'error', error: boom });
        expect(d.scheduler.pendingCount).toBe(0);
        expect(d.source.observed).toBe(false);
        expect(d.running).toEqual([]);
      });
    });

    describe('rule 6: completion waits for expiries', () => {
      it('completes once the source has completed and nothing waits or runs; expired values are not emitted', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-abc|');
          const inner = cold(' --------(x|)');
          const expected = '  ---------(a|)';
          expectObservable(source.pipe(buffer.make(5, work(inner), { ttl: 3, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.timeline).toEqual([
          { value: 'b', reason: 'expired', frame: 5 },
          { value: 'c', reason: 'expired', frame: 6 },
        ]);
      });

      it('with delayError, reports the expiries, works off the rest, then sends the source error', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab#');
          const inner = cold(' --------(x|)');
          const expected = '  ---------(a#)';
          expectObservable(
            source.pipe(buffer.make(5, work(inner), { ttl: 3, delayError: true, onDrop: drops.onDrop })),
          ).toBe(expected);
        });
        expect(drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 5 }]);
      });

      it('after the source completed, still works off what waits before completing', () => {
        const d = drive(buffer, 5, { ttl: 10 });
        d.source.next('a');
        d.source.next('b');
        d.source.complete();
        d.finish('a');
        expect(d.ended).toBeUndefined();
        expect(d.running).toEqual(['b']);
        d.finish('b');
        expect(d.ended).toEqual({ kind: 'complete' });
        expect(d.out).toEqual(['a', 'b']);
      });
    });

    describe('rule 7: ties at one instant, a slot freed at the deadline is used first', () => {
      it('releases a value when the slot frees at its deadline by an action scheduled after the expiry', () => {
        const d = drive(buffer, 5, { ttl: 3 });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b'); // the expiry action is armed now, for 4
        d.scheduler.schedule(() => d.finish('a'), 3); // also due at 4, but scheduled after it
        d.scheduler.advanceTo(4);
        expect(d.started).toEqual([
          ['a', 0, 0],
          ['b', 1, 4],
        ]);
        expect(d.drops.drops).toEqual([]);
        expect(d.scheduler.pendingCount).toBe(0);
      });

      it('expires it when the slot frees one instant later', () => {
        const d = drive(buffer, 5, { ttl: 3 });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b');
        d.scheduler.schedule(() => d.finish('a'), 4);
        d.scheduler.advanceTo(5);
        expect(d.started.map(([v]) => v)).toEqual(['a']);
        expect(d.drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 4 }]);
      });

      it('in marbles: the inner that frees the slot was subscribed after the value arrived', () => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          // a's work is two steps; the second is subscribed at 2, after b arrived, and ends at 5,
          // b's deadline: the expiry check for 5 runs after it, so b starts at 5.
          const source = hot('-ab------|');
          const project = (v: string): Observable<string> =>
            v === 'a' ? concat(cold('-|'), cold('---(x|)', { x: 'a' })) : cold('-(x|)', { x: v });
          const expected = '  -----ab--|';
          expectObservable(source.pipe(buffer.make(5, project, { ttl: 3, onDrop: drops.onDrop }))).toBe(
            expected,
          );
        });
        expect(drops.drops).toEqual([]);
      });

      it('releases a value when concurrency is raised at its deadline by an action scheduled after the expiry', () => {
        const concurrency = new BehaviorSubject(1);
        const d = drive(buffer, 5, { ttl: 3, concurrency });
        d.source.next('a');
        d.scheduler.advanceTo(1);
        d.source.next('b');
        d.scheduler.schedule(() => concurrency.next(2), 3);
        d.scheduler.advanceTo(4);
        expect(d.started).toEqual([
          ['a', 0, 0],
          ['b', 1, 4],
        ]);
        expect(d.drops.drops).toEqual([]);
      });
    });

    describe('rule 2 with a late timer: a value past its deadline is never released', () => {
      /** Runs every action the operator schedules 10 ms later than asked (a busy event loop). */
      function lateScheduler(manual: ManualTimeScheduler): SchedulerLike {
        return {
          now: () => manual.now(),
          schedule: <S>(work: (this: SchedulerAction<S>, state: S) => void, delay = 0, state?: S) =>
            manual.schedule(work, delay + 10, state),
        };
      }

      it("reports it 'expired' when a slot frees after its deadline, before the late expiry action runs", () => {
        const manual = new ManualTimeScheduler();
        const d = drive(buffer, 5, { ttl: 3, scheduler: lateScheduler(manual) }, manual);
        d.source.next('a');
        manual.advanceTo(1);
        d.source.next('b'); // deadline 4; the expiry action will only run at 11
        manual.advanceTo(6);
        expect(d.drops.drops).toEqual([]);
        d.finish('a');
        expect(d.started.map(([v]) => v)).toEqual(['a']);
        expect(d.drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 6 }]);
        d.source.complete();
        expect(d.ended).toEqual({ kind: 'complete' });
        expect(manual.pendingCount).toBe(0);
      });

      it('releases it when the slot frees at its deadline exactly', () => {
        const manual = new ManualTimeScheduler();
        const d = drive(buffer, 5, { ttl: 3, scheduler: lateScheduler(manual) }, manual);
        d.source.next('a');
        manual.advanceTo(1);
        d.source.next('b');
        manual.advanceTo(4);
        d.finish('a');
        expect(d.started.map(([v, , t]) => [v, t])).toEqual([
          ['a', 0],
          ['b', 4],
        ]);
        expect(d.drops.drops).toEqual([]);
      });
    });

    describe('validation', () => {
      const p = (v: number): Observable<number> => new BehaviorSubject(v);
      const { operator } = buffer;

      it.each([
        [NaN, 'NaN (number)'],
        [-1, '-1 (number)'],
        [-Infinity, '-Infinity (number)'],
        [-0.5, '-0.5 (number)'],
      ])('refuses ttl %p with a RangeError at creation', (ttl, described) => {
        expect(thrownBy(() => buffer.make(1, p, { ttl }))).toEqual(
          errorShape(
            new RangeError(`${operator}: \`ttl\` must be a finite number >= 0 or Infinity, got ${described}`),
          ),
        );
      });

      it.each([
        ['x', '"x" (string)'],
        [null, 'null'],
        ['5', '"5" (string)'],
        [true, 'true (boolean)'],
      ])('refuses ttl %p with a TypeError at creation', (ttl, described) => {
        expect(thrownBy(() => buffer.make(1, p, { ttl: ttl as never }))).toEqual(
          errorShape(
            new TypeError(`${operator}: \`ttl\` must be a finite number >= 0 or Infinity, got ${described}`),
          ),
        );
      });

      it('accepts ttl Infinity, 0, a fraction and undefined', () => {
        for (const ttl of [Infinity, 0, 0.5, 1e9, undefined]) {
          expect(typeof buffer.make(1, p, { ttl })).toBe('function');
        }
      });

      it('refuses a scheduler that is not a SchedulerLike', () => {
        expect(thrownBy(() => buffer.make(1, p, { scheduler: {} as never }))).toEqual(
          errorShape(
            new TypeError(
              `${operator}: \`scheduler\` must be a SchedulerLike (with now() and schedule()), got [object Object] (object)`,
            ),
          ),
        );
        expect(() => buffer.make(1, p, { scheduler: null as never })).toThrow(TypeError);
        expect(() => buffer.make(1, p, { scheduler: (() => 0) as never })).toThrow(TypeError);
      });
    });

    it('with ttl Infinity (or none), never reads the clock nor schedules anything', () => {
      for (const ttl of [Infinity, undefined]) {
        const { scheduler, manual, counts } = countingScheduler();
        const d = drive(buffer, 10, { ttl, scheduler }, manual);
        for (const v of 'abcdef') d.source.next(v);
        manual.advanceBy(1000);
        d.finish('a');
        expect(counts).toEqual({ now: 0, schedule: 0 });
        expect(manual.pendingCount).toBe(0);
      }
    });
  });

  describe('rule 5: expiry and the overflow strategy both apply', () => {
    interface OverflowCase {
      label: string;
      expected: string;
      drops: { value: string; reason: DropReason; frame: number }[];
    }
    // capacity 1, ttl 5; a runs 1-9; b waits from 2; c arrives at 3 to a full queue.
    const cases: Record<string, OverflowCase> = {
      error: {
        label: 'bufferFixed',
        expected: '---#',
        drops: [
          { value: 'c', reason: 'overflow', frame: 3 },
          { value: 'b', reason: 'cleared', frame: 3 },
        ],
      },
      'drop-incoming': {
        label: 'bufferDropping',
        expected: '---------a-|',
        drops: [
          { value: 'c', reason: 'overflow', frame: 3 },
          { value: 'b', reason: 'expired', frame: 7 },
        ],
      },
      'drop-oldest': {
        label: 'bufferSliding',
        expected: '---------a-|',
        drops: [
          { value: 'b', reason: 'overflow', frame: 3 },
          { value: 'c', reason: 'expired', frame: 8 },
        ],
      },
      'drop-newest-queued': {
        label: "bufferBounded 'drop-newest-queued'",
        expected: '---------a-|',
        drops: [
          { value: 'b', reason: 'overflow', frame: 3 },
          { value: 'c', reason: 'expired', frame: 8 },
        ],
      },
      'drop-queue': {
        label: "bufferBounded 'drop-queue'",
        expected: '---------a-|',
        drops: [
          { value: 'b', reason: 'overflow', frame: 3 },
          { value: 'c', reason: 'expired', frame: 8 },
        ],
      },
      priority: {
        label: 'bufferPriority (equal priorities)',
        expected: '---------a-|',
        drops: [
          { value: 'c', reason: 'shed', frame: 3 },
          { value: 'b', reason: 'expired', frame: 7 },
        ],
      },
    };

    it.each(BUFFERS.map((b) => [cases[b.overflow]!.label, b] as const))(
      '%s: a full queue applies its strategy on arrival; what stays still expires',
      (_, buffer) => {
        const { expected, drops: expectedDrops } = cases[buffer.overflow]!;
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-abc-------|');
          const inner = cold(' --------(x|)');
          expectObservable(source.pipe(buffer.make(1, work(inner), { ttl: 5, onDrop: drops.onDrop }))).toBe(
            expected,
            undefined,
            new BufferOverflowError(1, 'c', 'bufferFixed'),
          );
        });
        expect(drops.timeline).toEqual(expectedDrops);
      },
    );

    it('bufferPriority: a higher priority evicts the lowest; the survivors expire by arrival, not by priority', () => {
      const priority = (v: string): number => ({ x: 1, y: 5, z: 3, w: 4 })[v] ?? 0;
      const bufferPriority = BUFFERS.find((b) => b.overflow === 'priority')!;
      const d = drive(bufferPriority, 3, { ttl: 4, priority });
      d.source.next('a');
      d.scheduler.advanceTo(1);
      d.source.next('x');
      d.scheduler.advanceTo(2);
      d.source.next('y');
      d.scheduler.advanceTo(3);
      d.source.next('z');
      // The earliest deadline is x's (the oldest), not y's (the first to start).
      expect(d.scheduler.nextDueTime).toBe(5);
      d.source.next('w'); // full: x (1) is the lowest, w (4) outranks it
      expect(d.drops.timeline).toEqual([{ value: 'x', reason: 'shed', frame: 3 }]);
      d.scheduler.advanceTo(5);
      d.finish('a'); // y (5) starts: the highest priority, though x was older
      expect(d.started.map(([v]) => v)).toEqual(['a', 'y']);
      d.scheduler.advanceTo(7);
      expect(d.drops.timeline).toEqual([
        { value: 'x', reason: 'shed', frame: 3 },
        { value: 'z', reason: 'expired', frame: 7 },
        { value: 'w', reason: 'expired', frame: 7 },
      ]);
      expect(d.scheduler.pendingCount).toBe(0);
    });
  });

  describe('the scheduler option', () => {
    it.each(NAMED_BUFFERS.map((b) => [b.label, b] as const))(
      '%s: defaults to asyncScheduler (virtual under TestScheduler.run)',
      (_, buffer) => {
        const s = testScheduler();
        const drops = recordDrops<string>(s);
        s.run(({ hot, cold, expectObservable }) => {
          const source = hot('-ab---|');
          const inner = cold(' -----(x|)');
          expectObservable(source.pipe(buffer.make(1, work(inner), { ttl: 2, onDrop: drops.onDrop }))).toBe(
            '------(a|)',
          );
        });
        expect(drops.timeline).toEqual([{ value: 'b', reason: 'expired', frame: 4 }]);
      },
    );
  });
});
