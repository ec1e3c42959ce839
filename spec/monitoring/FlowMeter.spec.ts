import { interval, map, Subject, take, type Subscription } from 'rxjs';
import {
  bufferBounded,
  bufferDropping,
  bufferFixed,
  bufferPriority,
  FlowMeter,
  isFlowMeter,
  leakyBucket,
  ManualTimeScheduler,
  pullFeedback,
  tokenBucket,
  type DropReason,
  type FlowDrop,
  type FlowSnapshot,
} from 'rxjs-backpressure';
import { testScheduler, thrownBy } from '../helpers/marbles';

/*
 * The meter itself (issue 9, section 1): creation, the snapshot's shape, `snapshots$` timing (rule 4:
 * one action per subscription, none after unsubscribe) and `drops$` (rules 4 and 5).
 */

const ZERO_DISTRIBUTION = { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 };

/** What a meter that has seen nothing reports. */
function emptySnapshot(name: string, time: number): FlowSnapshot {
  return {
    name,
    time,
    received: 0,
    released: 0,
    dropped: { overflow: 0, rejected: 0, expired: 0, shed: 0, cleared: 0 },
    droppedTotal: 0,
    waiting: 0,
    maxWaiting: 0,
    running: 0,
    maxRunning: 0,
    completed: 0,
    failed: 0,
    capacity: 0,
    concurrency: 0,
    tokens: 0,
    wait: ZERO_DISTRIBUTION,
    duration: ZERO_DISTRIBUTION,
    subscriptions: 0,
    storeFailures: 0,
  };
}

/** Ends a subscription while keeping it typed for the linter. */
function stop(subscription: Subscription): void {
  subscription.unsubscribe();
}

describe('FlowMeter', () => {
  describe('creation: a clear error for a bad argument', () => {
    it.each<[string, () => unknown, Record<string, unknown>]>([
      [
        'no options',
        () => new (FlowMeter as unknown as new () => FlowMeter)(),
        { class: TypeError, message: 'FlowMeter: `options` must be an object, got undefined' },
      ],
      [
        'null',
        () => new FlowMeter(null as never),
        { class: TypeError, message: 'FlowMeter: `options` must be an object, got null' },
      ],
      [
        'a string',
        () => new FlowMeter('uploads' as never),
        { class: TypeError, message: 'FlowMeter: `options` must be an object, got "uploads" (string)' },
      ],
      [
        'a missing name',
        () => new FlowMeter({} as never),
        { class: TypeError, message: 'FlowMeter: `name` must be a non-empty string, got undefined' },
      ],
      [
        'an empty name',
        () => new FlowMeter({ name: '' }),
        { class: TypeError, message: 'FlowMeter: `name` must be a non-empty string, got "" (string)' },
      ],
      [
        'a name that is not a string',
        () => new FlowMeter({ name: 42 as never }),
        { class: TypeError, message: 'FlowMeter: `name` must be a non-empty string, got 42 (number)' },
      ],
      [
        'an unknown key',
        () => new FlowMeter({ name: 'x', schedular: null } as never),
        {
          class: TypeError,
          message:
            'FlowMeter: unknown option `schedular` (did you mean `scheduler`?); known: `name`, `scheduler`',
        },
      ],
      [
        'a scheduler that is not one',
        () => new FlowMeter({ name: 'x', scheduler: {} as never }),
        {
          class: TypeError,
          message:
            'FlowMeter: `scheduler` must be a SchedulerLike (with now() and schedule()), got [object Object] (object)',
        },
      ],
    ])('%s', (_, make, error) => {
      expect(thrownBy(make)).toMatchObject(error);
    });

    it.each<[string, unknown, ErrorConstructor]>([
      ['0', 0, RangeError],
      ['-1', -1, RangeError],
      ['NaN', NaN, RangeError],
      ['Infinity', Infinity, RangeError],
      ['a string', '10', TypeError],
      ['undefined', undefined, TypeError],
    ])('snapshots$(%s) throws when called, not when subscribed', (_, period, ctor) => {
      const meter = new FlowMeter({ name: 'm' });
      expect(thrownBy(() => meter.snapshots$(period as number))).toMatchObject({
        class: ctor,
        message: expect.stringMatching(/^FlowMeter\.snapshots\$: `period` must be a finite number > 0, got /),
      });
    });
  });

  describe('snapshot()', () => {
    it('a new meter: its name, the scheduler time, every count 0 and every drop reason present', () => {
      const scheduler = new ManualTimeScheduler(1000);
      const meter = new FlowMeter({ name: 'uploads', scheduler });
      expect(meter.name).toBe('uploads');
      expect(meter.snapshot()).toEqual(emptySnapshot('uploads', 1000));
      expect(Object.keys(meter.snapshot().dropped).sort()).toEqual(
        ['cleared', 'expired', 'overflow', 'rejected', 'shed'].sort(),
      );
      scheduler.advanceBy(250);
      expect(meter.snapshot().time).toBe(1250);
    });

    it('reads the asyncScheduler by default, so virtual time applies under TestScheduler.run', () => {
      testScheduler().run(({ flush }) => {
        const meter = new FlowMeter({ name: 'm' });
        const times: number[] = [];
        interval(7)
          .pipe(take(2))
          .subscribe(() => times.push(meter.snapshot().time));
        flush();
        expect(times).toEqual([7, 14]);
      });
    });

    it('each snapshot is a copy: changing one changes neither the meter nor the next snapshot', () => {
      const meter = new FlowMeter({ name: 'm', scheduler: new ManualTimeScheduler() });
      const first = meter.snapshot();
      first.dropped.overflow = 99;
      first.wait.count = 99;
      expect(meter.snapshot()).toEqual(emptySnapshot('m', 0));
    });

    it('isFlowMeter recognises a meter, also from another copy of the library (by its registered symbol)', () => {
      expect(isFlowMeter(new FlowMeter({ name: 'm' }))).toBe(true);
      const attach = Symbol.for('rxjs-backpressure.FlowMeter.attach');
      expect(isFlowMeter({ isFlowMeter: true, [attach]: () => ({}) })).toBe(true);
      for (const other of [
        undefined,
        null,
        {},
        'meter',
        { isFlowMeter: 'yes' },
        { isFlowMeter: true },
        () => true,
      ]) {
        expect(isFlowMeter(other)).toBe(false);
      }
    });
  });

  describe('snapshots$(period)', () => {
    it('the first after one period, then every period, as interval does', () => {
      testScheduler().run(({ expectObservable }) => {
        const meter = new FlowMeter({ name: 'm' });
        const sub = '  ^ 20ms !';
        // (At 21 the unsubscription, scheduled first, runs before the snapshot.)
        const expected = '---a--b--c--d--e--f--';
        expectObservable(meter.snapshots$(3).pipe(map((s) => s.time)), sub).toBe(expected, {
          a: 3,
          b: 6,
          c: 9,
          d: 12,
          e: 15,
          f: 18,
        });
        // (toEqual ignores an unsubscription marble, so both are cut by take.)
        expectObservable(
          meter.snapshots$(3).pipe(
            take(7),
            map(() => 'x'),
          ),
        ).toEqual(
          interval(3).pipe(
            take(7),
            map(() => 'x'),
          ),
        );
      });
    });

    it('a late subscriber counts its periods from its own subscription', () => {
      testScheduler().run(({ expectObservable }) => {
        const meter = new FlowMeter({ name: 'm' });
        const sub = '  -----^ 12ms !';
        const expected = '---------a---b---c';
        expectObservable(meter.snapshots$(4).pipe(map((s) => s.time)), sub).toBe(expected, {
          a: 9,
          b: 13,
          c: 17,
        });
      });
    });

    it('each snapshot tells what the operators have done by then', () => {
      testScheduler().run(({ hot, cold, expectObservable }) => {
        const meter = new FlowMeter({ name: 'uploads' });
        // bufferFixed(1): a runs 0-4, b waits 2-4 and runs 4-8, c waits 5-8 and runs 8-12.
        const source = hot('  a-b--c---|');
        const inner = cold('  ----(x|)');
        const output = '      ----a---b---(c|)';
        const figures = '     ---p--q--r--s--t';
        expectObservable(source.pipe(bufferFixed(1, (v) => inner.pipe(map(() => v)), { meter }))).toBe(
          output,
        );
        expectObservable(
          meter.snapshots$(3).pipe(
            map(({ received, released, waiting, running, completed, subscriptions }) => ({
              received,
              released,
              waiting,
              running,
              completed,
              subscriptions,
            })),
          ),
          '^ 15ms !',
        ).toBe(figures, {
          p: { received: 2, released: 1, waiting: 1, running: 1, completed: 0, subscriptions: 1 },
          q: { received: 3, released: 2, waiting: 1, running: 1, completed: 1, subscriptions: 1 },
          r: { received: 3, released: 3, waiting: 0, running: 1, completed: 2, subscriptions: 1 },
          // At 12, c's inner (scheduled at 8) ends before the snapshot (rescheduled at 9).
          s: { received: 3, released: 3, waiting: 0, running: 0, completed: 3, subscriptions: 0 },
          t: { received: 3, released: 3, waiting: 0, running: 0, completed: 3, subscriptions: 0 },
        });
      });
    });

    it('holds one scheduled action per subscription, and none after unsubscribe', () => {
      const scheduler = new ManualTimeScheduler();
      const meter = new FlowMeter({ name: 'm', scheduler });
      const times: number[][] = [[], [], []];
      const first = meter.snapshots$(5).subscribe((s) => times[0]!.push(s.time));
      expect(scheduler.pendingCount).toBe(1);
      const second = meter.snapshots$(2).subscribe((s) => times[1]!.push(s.time));
      expect(scheduler.pendingCount).toBe(2);
      scheduler.advanceTo(11);
      expect(scheduler.pendingCount).toBe(2);
      const third = meter.snapshots$(1).subscribe((s) => times[2]!.push(s.time));
      expect(scheduler.pendingCount).toBe(3);
      scheduler.advanceTo(13);
      stop(second);
      expect(scheduler.pendingCount).toBe(2);
      stop(first);
      stop(third);
      expect(scheduler.pendingCount).toBe(0);
      scheduler.advanceTo(100);
      expect(times).toEqual([
        [5, 10],
        [2, 4, 6, 8, 10, 12],
        [12, 13],
      ]);
    });

    it('stops at once when unsubscribed from inside its own notification (take)', () => {
      const scheduler = new ManualTimeScheduler();
      const meter = new FlowMeter({ name: 'm', scheduler });
      const times: number[] = [];
      meter
        .snapshots$(10)
        .pipe(take(2))
        .subscribe((s) => times.push(s.time));
      scheduler.advanceTo(20);
      expect(times).toEqual([10, 20]);
      expect(scheduler.pendingCount).toBe(0);
      let inside: Subscription | undefined = undefined;
      inside = meter.snapshots$(3).subscribe(() => inside?.unsubscribe());
      scheduler.advanceTo(23);
      expect(scheduler.pendingCount).toBe(0);
    });

    it('is cold: nothing is scheduled until it is subscribed', () => {
      const scheduler = new ManualTimeScheduler();
      const meter = new FlowMeter({ name: 'm', scheduler });
      meter.snapshots$(1);
      expect(scheduler.pendingCount).toBe(0);
    });
  });

  describe('drops$', () => {
    type Event = [string, ...unknown[]];

    it('emits synchronously, right after each onDrop, in the same order, with the time', () => {
      const scheduler = new ManualTimeScheduler(100);
      const meter = new FlowMeter({ name: 'm', scheduler });
      const log: Event[] = [];
      const source = new Subject<string>();
      const running = new Subject<string>();
      meter.drops$.subscribe(({ value, reason, time }) => log.push(['drops$', value, reason, time]));
      source
        .pipe(
          bufferBounded(3, () => running, {
            overflow: 'drop-queue',
            scheduler,
            meter,
            onDrop: (value, reason) => log.push(['onDrop', value, reason]),
          }),
        )
        .subscribe();
      const send = (value: string): void => {
        log.push(['send', value]);
        source.next(value);
        log.push(['sent', value]);
      };
      send('a'); // runs
      send('b');
      send('c');
      scheduler.advanceBy(5);
      send('d'); // the queue is full
      send('e'); // evicts b, c, d
      expect(log).toEqual([
        ['send', 'a'],
        ['sent', 'a'],
        ['send', 'b'],
        ['sent', 'b'],
        ['send', 'c'],
        ['sent', 'c'],
        ['send', 'd'],
        ['sent', 'd'],
        ['send', 'e'],
        ['onDrop', 'b', 'overflow'],
        ['drops$', 'b', 'overflow', 105],
        ['onDrop', 'c', 'overflow'],
        ['drops$', 'c', 'overflow', 105],
        ['onDrop', 'd', 'overflow'],
        ['drops$', 'd', 'overflow', 105],
        ['sent', 'e'],
      ]);
    });

    it('tells values cleared by unsubscribe, at that instant, after their onDrop', () => {
      const scheduler = new ManualTimeScheduler();
      const meter = new FlowMeter({ name: 'm', scheduler });
      const log: Event[] = [];
      meter.drops$.subscribe(({ value, reason, time }) => log.push(['drops$', value, reason, time]));
      const source = new Subject<number>();
      const subscription = source
        .pipe(
          bufferFixed(5, () => new Subject<number>(), {
            meter,
            scheduler,
            onDrop: (value, reason) => log.push(['onDrop', value, reason]),
          }),
        )
        .subscribe();
      [1, 2, 3].forEach((v) => source.next(v));
      scheduler.advanceTo(42);
      subscription.unsubscribe();
      expect(log).toEqual([
        ['onDrop', 2, 'cleared'],
        ['drops$', 2, 'cleared', 42],
        ['onDrop', 3, 'cleared'],
        ['drops$', 3, 'cleared', 42],
      ]);
    });

    it.each<[DropReason, string]>([
      ['overflow', 'bufferDropping'],
      ['rejected', 'tokenBucket police'],
      ['expired', 'leakyBucket ttl'],
      ['shed', 'bufferPriority'],
      ['cleared', 'pullFeedback on error'],
    ])("'%s' (%s): right after onDrop, at the instant of the drop", (reason) => {
      const scheduler = new ManualTimeScheduler();
      const meter = new FlowMeter({ name: 'm', scheduler });
      const log: Event[] = [];
      meter.drops$.subscribe((d) => log.push(['drops$', d.value, d.reason, d.time]));
      const onDrop = (value: unknown, why: DropReason): void => {
        log.push(['onDrop', value, why, scheduler.now()]);
      };
      const source = new Subject<string>();
      const never = (): Subject<never> => new Subject<never>();
      const operators = {
        overflow: () => bufferDropping(0, never, { meter, scheduler, onDrop }),
        rejected: () =>
          tokenBucket<string>({
            capacity: 1,
            tokensPerInterval: 1,
            mode: 'police',
            meter,
            scheduler,
            onDrop,
          }),
        expired: () => leakyBucket<string>({ interval: 100, ttl: 5, meter, scheduler, onDrop }),
        shed: () => bufferPriority(0, never, { priority: () => 0, meter, scheduler, onDrop }),
        cleared: () => pullFeedback<string>(new Subject<number>(), { meter, scheduler, onDrop }),
      };
      source.pipe(operators[reason]()).subscribe({ error: () => {} });
      scheduler.advanceTo(3);
      source.next('a');
      source.next('b');
      if (reason === 'cleared') source.error(new Error('x'));
      scheduler.advanceTo(20);
      const dropped = reason === 'cleared' ? ['a', 'b'] : ['b'];
      const time = reason === 'expired' ? 8 : 3;
      expect(log).toEqual(
        dropped.flatMap((v) => [
          ['onDrop', v, reason, time],
          ['drops$', v, reason, time],
        ]),
      );
    });

    it('passes the dropped value itself on', () => {
      const meter = new FlowMeter({ name: 'm' });
      const heavy = { payload: new Array<number>(10).fill(1) };
      const seen: FlowDrop[] = [];
      meter.drops$.subscribe((drop) => seen.push(drop));
      const source = new Subject<object>();
      source.pipe(bufferDropping(0, () => new Subject<never>(), { meter })).subscribe();
      source.next({ first: true });
      source.next(heavy);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.value).toBe(heavy);
      expect(seen[0]!.reason).toBe<DropReason>('overflow');
    });

    it('is hot and replays nothing: a late subscriber gets no earlier drop', () => {
      const meter = new FlowMeter({ name: 'm' });
      const source = new Subject<number>();
      source.pipe(bufferDropping(0, () => new Subject<never>(), { meter })).subscribe();
      const early: unknown[] = [];
      meter.drops$.subscribe((d) => early.push(d.value));
      source.next(1);
      source.next(2); // dropped
      const late: unknown[] = [];
      const lateSubscription = meter.drops$.subscribe((d) => late.push(d.value));
      expect(late).toEqual([]);
      source.next(3); // dropped, seen by both
      lateSubscription.unsubscribe();
      source.next(4); // dropped, seen by the early one only
      expect(early).toEqual([2, 3, 4]);
      expect(late).toEqual([3]);
      expect(meter.snapshot().dropped.overflow).toBe(3);
    });

    it('keeps no reference to a dropped value anywhere in the meter', () => {
      const meter = new FlowMeter({ name: 'm' });
      const source = new Subject<object>();
      const dropped = { secret: 'dropped' };
      meter.drops$.subscribe(() => {});
      source.pipe(bufferDropping(0, () => new Subject<never>(), { meter })).subscribe();
      source.next({});
      source.next(dropped);
      expect(meter.snapshot().droppedTotal).toBe(1);
      expect(reaches(meter, dropped)).toBe(false);
    });

    it('counts a drop, and tells it, even when onDrop throws (the value is gone either way)', () => {
      const meter = new FlowMeter({ name: 'm' });
      const told: unknown[] = [];
      meter.drops$.subscribe((d) => told.push(d.value));
      const source = new Subject<number>();
      let error: unknown;
      source
        .pipe(
          bufferDropping(0, () => new Subject<never>(), {
            meter,
            onDrop: () => {
              throw new Error('onDrop failed');
            },
          }),
        )
        .subscribe({ error: (err: unknown) => (error = err) });
      source.next(1);
      source.next(2);
      expect(error).toEqual(new Error('onDrop failed'));
      expect(told).toEqual([2]);
      expect(meter.snapshot()).toMatchObject({ received: 2, released: 1, droppedTotal: 1, waiting: 0 });
    });
  });
});

/**
 * Whether `target` can be reached from `root` through properties, array items, Map and Set entries
 * (closures are opaque, so this checks what the meter stores, not what a subscriber captured).
 */
function reaches(root: unknown, target: object): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === target) return true;
    if ((typeof node !== 'object' && typeof node !== 'function') || node === null || seen.has(node)) continue;
    seen.add(node);
    if (node instanceof Map) {
      for (const [k, v] of node) stack.push(k, v);
    } else if (node instanceof Set) {
      for (const v of node) stack.push(v);
    }
    for (const key of Reflect.ownKeys(node)) {
      const descriptor = Object.getOwnPropertyDescriptor(node, key);
      if (descriptor && 'value' in descriptor) stack.push(descriptor.value);
    }
  }
  return false;
}
