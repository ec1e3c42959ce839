import fc from 'fast-check';
import { debounceTime, delay, interval, map, Subject, take, timer, type SchedulerAction } from 'rxjs';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';

/** Schedules a named action that logs `name@time` when it runs. */
function logger(scheduler: ManualTimeScheduler) {
  const log: string[] = [];
  const at = (name: string, delayMs: number) =>
    scheduler.schedule(() => {
      log.push(`${name}@${scheduler.now()}`);
    }, delayMs);
  return { log, at };
}

describe('ManualTimeScheduler', () => {
  describe('clock', () => {
    it('starts at 0, or at the given start time', () => {
      expect(new ManualTimeScheduler().now()).toBe(0);
      expect(new ManualTimeScheduler(1_700_000_000_000).now()).toBe(1_700_000_000_000);
      expect(new ManualTimeScheduler(-50).now()).toBe(-50);
    });

    it('moves only when advanced, and ends at the target', () => {
      const scheduler = new ManualTimeScheduler(100);
      scheduler.schedule(() => {}, 5);
      expect(scheduler.now()).toBe(100);
      scheduler.advanceBy(3);
      expect(scheduler.now()).toBe(103);
      scheduler.advanceBy(10);
      expect(scheduler.now()).toBe(113);
      scheduler.advanceTo(500);
      expect(scheduler.now()).toBe(500);
      scheduler.advanceTo(500);
      expect(scheduler.now()).toBe(500);
    });

    it('reads the due time of the running action, not the target', () => {
      const scheduler = new ManualTimeScheduler(1000);
      const { log, at } = logger(scheduler);
      at('a', 7);
      at('b', 7.5);
      at('c', 40);
      scheduler.advanceBy(100);
      expect(log).toEqual(['a@1007', 'b@1007.5', 'c@1040']);
      expect(scheduler.now()).toBe(1100);
    });
  });

  describe('ordering', () => {
    it('runs actions in time order, same-time actions in scheduling order', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      at('d', 30);
      at('b', 10);
      at('e', 30);
      at('a', 0);
      at('c', 10);
      scheduler.advanceBy(30);
      expect(log).toEqual(['a@0', 'b@10', 'c@10', 'd@30', 'e@30']);
    });

    it('never runs an action synchronously: delay 0 waits for the next advance', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      at('now', 0);
      expect(log).toEqual([]);
      scheduler.advanceBy(0);
      expect(log).toEqual(['now@0']);
    });

    it('runs actions scheduled while advancing that fall inside the window, in the same call', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      scheduler.schedule(() => {
        log.push(`outer@${scheduler.now()}`);
        at('same-time', 0); // due at 10, after the other action already due at 10
        at('inside', 15); // due at 25
        at('edge', 20); // due at 30: the window's last instant
        at('outside', 21); // due at 31
      }, 10);
      at('other', 10);
      scheduler.advanceBy(30);
      expect(log).toEqual(['outer@10', 'other@10', 'same-time@10', 'inside@25', 'edge@30']);
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(1);
      expect(log).toEqual(['outer@10', 'other@10', 'same-time@10', 'inside@25', 'edge@30', 'outside@31']);
    });

    it('runs in (time, scheduling order) for any schedule and any way of advancing', () => {
      fc.assert(
        fc.property(
          fc.array(fc.nat({ max: 50 }), { maxLength: 40 }),
          fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 10 }),
          (delays, steps) => {
            const scheduler = new ManualTimeScheduler();
            const ran: { index: number; at: number }[] = [];
            delays.forEach((d, index) =>
              scheduler.schedule(() => {
                ran.push({ index, at: scheduler.now() });
              }, d),
            );
            for (const step of steps) scheduler.advanceBy(step);
            const end = steps.reduce((a, b) => a + b, 0);
            const expected = delays
              .map((d, index) => ({ index, at: d }))
              .filter(({ at }) => at <= end)
              .sort((x, y) => x.at - y.at || x.index - y.index);
            expect(ran).toEqual(expected);
            expect(scheduler.pendingCount).toBe(delays.length - expected.length);
          },
        ),
      );
    });

    it('keeps time order across many actions (200,000, shuffled due times)', () => {
      const scheduler = new ManualTimeScheduler();
      const n = 200_000;
      let last = -1;
      let count = 0;
      let outOfOrder = 0;
      const work = () => {
        const t = scheduler.now();
        if (t < last) outOfOrder++;
        last = t;
        count++;
      };
      // A deterministic shuffle of due times (multiplication by a number coprime with n).
      for (let i = 0; i < n; i++) scheduler.schedule(work, (i * 7919) % n); // 7919 is prime, n = 2^6 * 5^5
      expect(scheduler.pendingCount).toBe(n);
      scheduler.advanceBy(n);
      expect({ count, outOfOrder, last }).toEqual({ count: n, outOfOrder: 0, last: n - 1 });
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('actions', () => {
    it('passes the state and binds `this` to the action', () => {
      const scheduler = new ManualTimeScheduler();
      const seen: unknown[] = [];
      const action = scheduler.schedule(
        function (this: SchedulerAction<string>, state?: string) {
          seen.push(state, this);
        },
        5,
        'hello',
      );
      scheduler.advanceBy(5);
      expect(seen).toEqual(['hello', action]);
    });

    it('reschedules the same action from inside its work (the periodic idiom)', () => {
      const scheduler = new ManualTimeScheduler();
      const log: string[] = [];
      const actions = new Set<unknown>();
      scheduler.schedule(
        function (this: SchedulerAction<number>, n?: number) {
          actions.add(this);
          log.push(`${n}@${scheduler.now()}`);
          if (n! < 3) this.schedule(n! + 1, 10);
        },
        0,
        0,
      );
      scheduler.advanceBy(15);
      expect(log).toEqual(['0@0', '1@10']);
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(100);
      expect(log).toEqual(['0@0', '1@10', '2@20', '3@30']);
      expect(actions.size).toBe(1);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('moves a pending action when it is rescheduled; it stays one pending action', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      const a = at('a', 10);
      at('b', 20);
      expect(scheduler.pendingCount).toBe(2);
      a.schedule(undefined, 30); // later
      expect(scheduler.pendingCount).toBe(2);
      expect(scheduler.nextDueTime).toBe(20);
      scheduler.advanceBy(25);
      expect(log).toEqual(['b@20']);
      a.schedule(undefined, 1); // earlier: from now (25)
      expect(scheduler.nextDueTime).toBe(26);
      scheduler.advanceBy(100);
      expect(log).toEqual(['b@20', 'a@26']);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('orders a rescheduled action after those already scheduled for the same time', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      const a = at('a', 10);
      at('b', 10);
      a.schedule(undefined, 10);
      scheduler.advanceBy(10);
      expect(log).toEqual(['b@10', 'a@10']);
    });

    it('can schedule an action again after it ran, as RxJS actions can', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      const a = at('a', 5);
      scheduler.advanceBy(5);
      expect(a.closed).toBe(false);
      a.schedule(undefined, 5);
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(5);
      expect(log).toEqual(['a@5', 'a@10']);
    });

    it('cancels an action when it is unsubscribed; a cancelled action cannot be rescheduled', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      const a = at('a', 10);
      const b = at('b', 10);
      at('c', 10);
      b.unsubscribe();
      expect(scheduler.pendingCount).toBe(2);
      b.unsubscribe();
      expect(scheduler.pendingCount).toBe(2);
      expect(b.schedule(undefined, 1)).toBe(b);
      expect(scheduler.pendingCount).toBe(2);
      a.unsubscribe();
      scheduler.advanceBy(10);
      expect(log).toEqual(['c@10']);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('lets an action cancel another action due at the same time', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      scheduler.schedule(() => {
        b.unsubscribe();
      }, 10);
      const b = at('b', 10);
      at('c', 10);
      scheduler.advanceBy(10);
      expect(log).toEqual(['c@10']);
    });

    it('stops rescheduling when the action unsubscribes itself after rescheduling', () => {
      const scheduler = new ManualTimeScheduler();
      let runs = 0;
      const action = scheduler.schedule(function (this: SchedulerAction<unknown>) {
        runs++;
        this.schedule(undefined, 10);
        this.unsubscribe();
      });
      scheduler.advanceBy(100);
      expect(runs).toBe(1);
      expect(action.closed).toBe(true);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('counts pending actions through schedule, run, cancel and reschedule', () => {
      const scheduler = new ManualTimeScheduler();
      const counts: number[] = [];
      const a = scheduler.schedule(() => {}, 10);
      counts.push(scheduler.pendingCount); // 1
      const b = scheduler.schedule(function (this: SchedulerAction<unknown>) {
        counts.push(scheduler.pendingCount); // 0 while b runs (a ran first, b left the queue)
        this.schedule(undefined, 5);
        counts.push(scheduler.pendingCount); // 1 again
      }, 20);
      counts.push(scheduler.pendingCount); // 2
      a.schedule(undefined, 15);
      counts.push(scheduler.pendingCount); // still 2
      scheduler.advanceBy(20);
      counts.push(scheduler.pendingCount); // 1: b rescheduled itself for 25
      b.unsubscribe();
      counts.push(scheduler.pendingCount); // 0
      expect(counts).toEqual([1, 2, 2, 0, 1, 1, 0]);
    });

    it('treats a negative delay as 0 and an omitted delay as 0', () => {
      const scheduler = new ManualTimeScheduler(10);
      const { log, at } = logger(scheduler);
      at('negative', -5);
      scheduler.schedule(() => log.push(`omitted@${scheduler.now()}`));
      expect(scheduler.nextDueTime).toBe(10);
      scheduler.advanceBy(0);
      expect(log).toEqual(['negative@10', 'omitted@10']);
    });

    it('reports when the next action is due', () => {
      const scheduler = new ManualTimeScheduler();
      expect(scheduler.nextDueTime).toBeUndefined();
      const a = scheduler.schedule(() => {}, 25);
      scheduler.schedule(() => {}, 40);
      expect(scheduler.nextDueTime).toBe(25);
      a.unsubscribe();
      expect(scheduler.nextDueTime).toBe(40);
    });
  });

  describe('flush', () => {
    it('runs finite work to the end, including work scheduled meanwhile; the clock stops at the last action', () => {
      const scheduler = new ManualTimeScheduler();
      const log: string[] = [];
      timer(100, scheduler).subscribe(() => {
        log.push(`timer@${scheduler.now()}`);
        scheduler.schedule(() => log.push(`follow-up@${scheduler.now()}`), 50);
      });
      interval(30, scheduler)
        .pipe(take(2))
        .subscribe((n) => log.push(`interval ${n}@${scheduler.now()}`));
      scheduler.flush();
      expect(log).toEqual(['interval 0@30', 'interval 1@60', 'timer@100', 'follow-up@150']);
      expect(scheduler.now()).toBe(150);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('does nothing when nothing is pending', () => {
      const scheduler = new ManualTimeScheduler(42);
      scheduler.flush();
      expect(scheduler.now()).toBe(42);
    });

    it('throws a clear error on a periodic timer instead of looping forever', () => {
      const scheduler = new ManualTimeScheduler();
      let ticks = 0;
      const subscription = interval(10, scheduler).subscribe(() => ticks++);
      expect(() => scheduler.flush()).toThrow(
        /ran 1000000 actions.*interval\(\) keeps rescheduling.*advanceBy\(ms\) or advanceTo\(time\)/,
      );
      expect(ticks).toBe(1_000_000);
      // Still usable: stop the timer and the next flush succeeds.
      subscription.unsubscribe();
      scheduler.flush();
      expect(scheduler.pendingCount).toBe(0);
    });

    it('honours the flushLimit option: exactly the limit succeeds, one more throws', () => {
      const chain = (scheduler: ManualTimeScheduler, length: number) => {
        scheduler.schedule(
          function (this: SchedulerAction<number>, n?: number) {
            if (n! < length) this.schedule(n! + 1, 1);
          },
          1,
          1,
        );
      };
      const exact = new ManualTimeScheduler(0, { flushLimit: 5 });
      chain(exact, 5);
      exact.flush();
      expect(exact.now()).toBe(5);

      const over = new ManualTimeScheduler(0, { flushLimit: 5 });
      chain(over, 6);
      expect(() => over.flush()).toThrow(/ran 5 actions \(flushLimit\).*1 pending, next due at 6, now 5/);
      expect(over.pendingCount).toBe(1);
    });

    it('advanceBy and advanceTo stop an action that keeps rescheduling at the same instant', () => {
      const livelock = (scheduler: ManualTimeScheduler) =>
        scheduler.schedule(function (this: SchedulerAction<undefined>) {
          this.schedule(undefined, 0);
        }, 3);
      const a = new ManualTimeScheduler(0, { flushLimit: 5 });
      livelock(a);
      expect(() => {
        a.advanceBy(10);
      }).toThrow(/advanceBy: ran 5 actions \(flushLimit\) at 3 without time moving on/);
      const b = new ManualTimeScheduler(0, { flushLimit: 5 });
      livelock(b);
      expect(() => {
        b.advanceTo(10);
      }).toThrow(/advanceTo: ran 5 actions \(flushLimit\) at 3/);
    });

    it('advanceBy runs any number of actions over time, and up to flushLimit at one instant', () => {
      const scheduler = new ManualTimeScheduler(0, { flushLimit: 5 });
      let ran = 0;
      // 5 at one instant (the limit), then 20 more one ms apart: 25 in one call.
      for (let i = 0; i < 5; i++) scheduler.schedule(() => ran++, 1);
      for (let i = 0; i < 20; i++) scheduler.schedule(() => ran++, 2 + i);
      scheduler.advanceBy(100);
      expect(ran).toBe(25);
      scheduler.schedule(() => ran++, 0);
      for (let i = 0; i < 5; i++) scheduler.schedule(() => ran++, 0);
      expect(() => {
        scheduler.advanceBy(0);
      }).toThrow(/ran 5 actions \(flushLimit\) at 100/);
    });

    it('accepts an infinite flushLimit', () => {
      const scheduler = new ManualTimeScheduler(0, { flushLimit: Infinity });
      let ran = 0;
      for (let i = 0; i < 10; i++) scheduler.schedule(() => ran++, i);
      scheduler.flush();
      expect(ran).toBe(10);
    });
  });

  describe('errors from actions', () => {
    it('propagate out of advanceBy after the action is removed; the scheduler stays usable', () => {
      const scheduler = new ManualTimeScheduler();
      const { log, at } = logger(scheduler);
      const boom = new Error('boom');
      at('before', 5);
      const failing = scheduler.schedule(function (this: SchedulerAction<unknown>) {
        this.schedule(undefined, 100); // cancelled by the throw
        throw boom;
      }, 10);
      at('same-time', 10);
      at('after', 20);
      expect(() => scheduler.advanceBy(30)).toThrow(boom);
      expect(log).toEqual(['before@5']);
      expect(scheduler.now()).toBe(10);
      expect(failing.closed).toBe(true);
      expect(scheduler.pendingCount).toBe(2);
      scheduler.advanceBy(20);
      expect(log).toEqual(['before@5', 'same-time@10', 'after@20']);
      expect(scheduler.now()).toBe(30);
    });

    it('propagate out of advanceTo and flush', () => {
      const scheduler = new ManualTimeScheduler();
      scheduler.schedule(() => {
        throw new TypeError('first');
      }, 1);
      scheduler.schedule(() => {
        throw new RangeError('second');
      }, 2);
      expect(() => scheduler.advanceTo(5)).toThrow(new TypeError('first'));
      expect(() => scheduler.flush()).toThrow(new RangeError('second'));
      expect(scheduler.pendingCount).toBe(0);
    });

    it('do not include errors thrown in operator callbacks: RxJS sends those to the subscriber', () => {
      const scheduler = new ManualTimeScheduler();
      const errors: unknown[] = [];
      timer(10, scheduler)
        .pipe(
          map(() => {
            throw new Error('from map');
          }),
        )
        .subscribe({ error: (e: unknown) => errors.push(e) });
      expect(() => scheduler.advanceBy(10)).not.toThrow();
      expect(errors).toEqual([new Error('from map')]);
    });
  });

  describe('with RxJS operators (explicit scheduler)', () => {
    it('runs timer, interval, delay and debounceTime virtually', () => {
      const scheduler = new ManualTimeScheduler();
      const log: string[] = [];
      const push = (what: string) => log.push(`${what}@${scheduler.now()}`);
      timer(50, scheduler).subscribe(() => push('timer'));
      interval(20, scheduler)
        .pipe(take(3))
        .subscribe((n) => push(`interval ${n}`));
      const input = new Subject<string>();
      input.pipe(delay(5, scheduler)).subscribe((v) => push(`delay ${v}`));
      input.pipe(debounceTime(30, scheduler)).subscribe((v) => push(`debounce ${v}`));
      input.next('x');
      scheduler.advanceBy(10);
      input.next('y');
      scheduler.advanceBy(100);
      expect(log).toEqual([
        'delay x@5',
        'delay y@15',
        'interval 0@20',
        'interval 1@40', // rescheduled at 20 for 40
        'debounce y@40', // rescheduled at 30 for 40 (30 ms after y), so after the interval
        'timer@50',
        'interval 2@60',
      ]);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('leaves nothing pending after an early unsubscribe', () => {
      const scheduler = new ManualTimeScheduler();
      const subscription = interval(10, scheduler).subscribe();
      timer(100, scheduler).subscribe().unsubscribe();
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(35);
      subscription.unsubscribe();
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('bad arguments', () => {
    it('refuses a bad start time or flushLimit', () => {
      expect(() => new ManualTimeScheduler(NaN)).toThrow(
        new RangeError('ManualTimeScheduler: `startTime` must be a finite number, got NaN (number)'),
      );
      expect(() => new ManualTimeScheduler(Infinity)).toThrow(RangeError);
      expect(() => new ManualTimeScheduler('0' as unknown as number)).toThrow(TypeError);
      expect(() => new ManualTimeScheduler(0, { flushLimit: 0 })).toThrow(
        new RangeError(
          'ManualTimeScheduler: `flushLimit` must be a positive integer or Infinity, got 0 (number)',
        ),
      );
      expect(() => new ManualTimeScheduler(0, { flushLimit: 2.5 })).toThrow(RangeError);
      expect(() => new ManualTimeScheduler(0, { flushLimit: -1 })).toThrow(RangeError);
      expect(() => new ManualTimeScheduler(0, { flushLimit: '10' as unknown as number })).toThrow(TypeError);
    });

    it('refuses a start time that is not a finite number, null included', () => {
      const make = (startTime: unknown) => () => new ManualTimeScheduler(startTime as number);
      expect(make(null)).toThrow(
        new TypeError('ManualTimeScheduler: `startTime` must be a finite number, got null'),
      );
      expect(make('0')).toThrow(
        new TypeError('ManualTimeScheduler: `startTime` must be a finite number, got "0" (string)'),
      );
      expect(make(true)).toThrow(
        new TypeError('ManualTimeScheduler: `startTime` must be a finite number, got true (boolean)'),
      );
      expect(make({})).toThrow(TypeError);
      expect(make(-Infinity)).toThrow(
        new RangeError('ManualTimeScheduler: `startTime` must be a finite number, got -Infinity (number)'),
      );
      expect(new ManualTimeScheduler(undefined).now()).toBe(0);
    });

    it.each([
      [null, 'null'],
      [5, '5 (number)'],
      ['x', '"x" (string)'],
      [true, 'true (boolean)'],
      [() => ({ flushLimit: 5 }), 'a function'],
      [[], 'an array'],
      [[5], 'an array'],
    ])('refuses options %p: only undefined means the defaults', (options, got) => {
      expect(() => new ManualTimeScheduler(0, options as never)).toThrow(
        new TypeError(`ManualTimeScheduler: \`options\` must be an object, got ${got}`),
      );
    });

    it('refuses an unknown option, suggesting the one meant', () => {
      expect(() => new ManualTimeScheduler(0, { flushLimt: 5 } as never)).toThrow(
        new TypeError(
          'ManualTimeScheduler: unknown option `flushLimt` (did you mean `flushLimit`?); known: `flushLimit`',
        ),
      );
      // startTime is the first argument, not an option: a clear error instead of a silent start at 0.
      expect(() => new ManualTimeScheduler(undefined, { startTime: 5 } as never)).toThrow(
        new TypeError('ManualTimeScheduler: unknown option `startTime`; known: `flushLimit`'),
      );
    });

    it('takes undefined, {} and an undefined flushLimit as the defaults', () => {
      for (const options of [undefined, {}, { flushLimit: undefined }]) {
        expect(new ManualTimeScheduler(7, options).now()).toBe(7);
      }
    });

    it('refuses to schedule something that is not a function, at once', () => {
      const scheduler = new ManualTimeScheduler();
      for (const [work, got] of [
        [undefined, 'undefined'],
        [null, 'null'],
        [5, '5 (number)'],
        ['work', '"work" (string)'],
        [{}, '[object Object] (object)'],
      ] as const) {
        expect(() => scheduler.schedule(work as never, 10)).toThrow(
          new TypeError(`ManualTimeScheduler.schedule: \`work\` must be a function, got ${got}`),
        );
      }
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceBy(10); // nothing left behind to fail here
    });

    it('refuses to advance by a negative, NaN or infinite amount', () => {
      const scheduler = new ManualTimeScheduler();
      expect(() => scheduler.advanceBy(-1)).toThrow(
        new RangeError(
          'ManualTimeScheduler.advanceBy: `ms` must be a finite, non-negative number, got -1 (number)',
        ),
      );
      expect(() => scheduler.advanceBy(NaN)).toThrow(RangeError);
      expect(() => scheduler.advanceBy(Infinity)).toThrow(RangeError);
      expect(() => scheduler.advanceBy(undefined as unknown as number)).toThrow(TypeError);
      expect(scheduler.now()).toBe(0);
    });

    it('refuses to advance to the past or to a non-finite time', () => {
      const scheduler = new ManualTimeScheduler(100);
      expect(() => scheduler.advanceTo(99)).toThrow(
        new RangeError('ManualTimeScheduler.advanceTo: cannot go back in time from 100 to 99'),
      );
      expect(() => scheduler.advanceTo(NaN)).toThrow(RangeError);
      expect(() => scheduler.advanceTo(Infinity)).toThrow(RangeError);
      expect(scheduler.now()).toBe(100);
    });

    it('refuses a NaN, infinite or non-number delay', () => {
      const scheduler = new ManualTimeScheduler();
      expect(() => scheduler.schedule(() => {}, NaN)).toThrow(
        new RangeError(
          'ManualTimeScheduler.schedule: `delay` must be a finite number of ms (negative counts as 0), got NaN (number)',
        ),
      );
      expect(() => scheduler.schedule(() => {}, Infinity)).toThrow(RangeError);
      expect(() => scheduler.schedule(() => {}, '5' as unknown as number)).toThrow(TypeError);
      const action = scheduler.schedule(() => {}, 5);
      expect(() => action.schedule(undefined, NaN)).toThrow(RangeError);
      expect(scheduler.nextDueTime).toBe(5);
      expect(scheduler.pendingCount).toBe(1);
    });

    it('refuses to advance or flush from inside a running action', () => {
      const scheduler = new ManualTimeScheduler();
      const errors: unknown[] = [];
      scheduler.schedule(() => {
        for (const call of [
          () => scheduler.advanceBy(1),
          () => scheduler.advanceTo(5),
          () => scheduler.flush(),
        ]) {
          try {
            call();
          } catch (e) {
            errors.push((e as Error).message);
          }
        }
      }, 1);
      scheduler.advanceBy(1);
      expect(errors).toEqual([
        'ManualTimeScheduler.advanceBy: cannot be called from inside a scheduled action (the scheduler is already running actions)',
        'ManualTimeScheduler.advanceTo: cannot be called from inside a scheduled action (the scheduler is already running actions)',
        'ManualTimeScheduler.flush: cannot be called from inside a scheduled action (the scheduler is already running actions)',
      ]);
      expect(scheduler.now()).toBe(1);
    });
  });
});
