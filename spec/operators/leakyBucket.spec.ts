import {
  BehaviorSubject,
  Observable,
  of,
  Subject,
  VirtualTimeScheduler,
  range,
  take,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import {
  BufferOverflowError,
  leakyBucket,
  type DropReason,
  type LeakyBucketOptions,
  type OverflowStrategy,
} from '../../src/index';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { withVirtualTime } from '../../src/schedulers/withVirtualTime';
import { recordDrops, testScheduler } from '../helpers/marbles';

/** What a subscriber saw, with the virtual time of each notification. */
type LogEntry<T> =
  ['next', number, T] | ['drop', number, T, DropReason] | ['complete', number] | ['error', number, unknown];

/** Subscribes `source` through a leaky bucket on `scheduler`, logging emissions, drops and the end. */
function observe<T>(
  scheduler: SchedulerLike,
  source: Observable<T>,
  options: Omit<LeakyBucketOptions<T>, 'scheduler' | 'onDrop'>,
): { log: LogEntry<T>[]; subscription: Subscription } {
  const log: LogEntry<T>[] = [];
  const subscription = source
    .pipe(
      leakyBucket<T>({
        ...options,
        scheduler,
        onDrop: (value, reason) => log.push(['drop', scheduler.now(), value, reason]),
      }),
    )
    .subscribe({
      next: (value) => log.push(['next', scheduler.now(), value]),
      error: (err: unknown) => log.push(['error', scheduler.now(), err]),
      complete: () => log.push(['complete', scheduler.now()]),
    });
  return { log, subscription };
}

const SCHEDULER_MODES = [
  ['the default scheduler (asyncScheduler, virtual under run)', false],
  ['an explicit TestScheduler', true],
] as const;

describe.each(SCHEDULER_MODES)('leakyBucket on %s', (_name, explicit) => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = testScheduler();
  });
  /** The options, with the TestScheduler passed explicitly in the explicit mode. */
  function opts<T>(options: LeakyBucketOptions<T>): LeakyBucketOptions<T> {
    return explicit ? { ...options, scheduler: ts } : options;
  }

  it('the documented example (interval 10): a, b, c at 0 and d at 35 leave at 0, 10, 20 and 35', () => {
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' (abc) 30ms        d|');
      const subs = '        ^ 35ms !';
      const expected = '    a 9ms b 9ms c 14ms d|';
      //                    0     10    20     35
      expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('gives every subscription its own bucket', () => {
    ts.run(({ cold, expectObservable }) => {
      const source = cold(' (ab|)');
      const expected = '    a 9ms (b|)';
      const leaky = source.pipe(leakyBucket(opts({ interval: 10 })));
      expectObservable(leaky).toBe(expected);
      expectObservable(leaky).toBe(expected);
    });
  });

  describe('pacing', () => {
    it('emits the first value at once', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' 5ms a|');
        const expected = '    5ms a|';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      });
    });

    it('emits at once a value arriving after the bucket was idle for at least interval', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 9ms b 12ms c|');
        const expected = '    a 9ms b 12ms c|';
        //                    0     10     23
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      });
    });

    it('holds a value arriving sooner than interval after the previous emission', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 3ms b 2ms c|');
        const expected = '    a 9ms b 9ms (c|)';
        //                    0     10    20
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      });
    });

    it('does not bank idle time: a burst after a long pause still leaves one per interval', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' 100ms (abc|)');
        const expected = '    100ms a 9ms b 9ms (c|)';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      });
    });

    it('interval 0: nothing is held', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc) 2ms d|');
        const expected = '    (abc) 2ms d|';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 0 })))).toBe(expected);
      });
    });
  });

  describe('capacity and overflow (interval 10, capacity 2)', () => {
    // a leaves at once; b and c wait; d arrives when 2 values already wait.
    const cases: [OverflowStrategy, string, [string, DropReason][]][] = [
      ['drop-incoming', 'a 9ms b 9ms (c|)', [['d', 'overflow']]],
      ['drop-oldest', 'a 9ms c 9ms (d|)', [['b', 'overflow']]],
      ['drop-newest-queued', 'a 9ms b 9ms (d|)', [['c', 'overflow']]],
      [
        'drop-queue',
        'a 9ms (d|)',
        [
          ['b', 'overflow'],
          ['c', 'overflow'],
        ],
      ],
    ];
    it.each(cases)('%s: emits %p', (overflow, expected, dropped) => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold('(abcd|)');
        expectObservable(
          source.pipe(leakyBucket(opts({ interval: 10, capacity: 2, overflow, onDrop: drops.onDrop }))),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual(dropped);
    });

    it("error: reports the arrival 'overflow', the waiting values 'cleared', then errors with BufferOverflowError", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    (a#)';
        expectObservable(
          source.pipe(
            leakyBucket(opts({ interval: 10, capacity: 2, overflow: 'error', onDrop: drops.onDrop })),
          ),
        ).toBe(expected, undefined, new BufferOverflowError(2, 'd', 'leakyBucket'));
      });
      expect(drops.drops).toEqual([
        ['d', 'overflow'],
        ['b', 'cleared'],
        ['c', 'cleared'],
      ]);
    });

    it("defaults to 'drop-incoming'", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    a 9ms b 9ms (c|)';
        expectObservable(
          source.pipe(leakyBucket(opts({ interval: 10, capacity: 2, onDrop: drops.onDrop }))),
        ).toBe(expected);
      });
      expect(drops.drops).toEqual([['d', 'overflow']]);
    });

    it('capacity 0: a value that cannot leave at once is dropped', () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 4ms b 4ms c|');
        const expected = '    a 9ms       c|';
        expectObservable(
          source.pipe(leakyBucket(opts({ interval: 10, capacity: 0, onDrop: drops.onDrop }))),
        ).toBe(expected);
      });
      expect(drops.timeline).toEqual([{ value: 'b', reason: 'overflow', frame: 5 }]);
    });

    it('a dropped value takes no slot: the next one keeps the pace of the emitted ones', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc) 8ms d|');
        const expected = '    a 9ms    b 9ms (d|)';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10, capacity: 1 })))).toBe(expected);
      });
    });
  });

  describe('completion', () => {
    it('waiting values keep leaking at the rate; the output completes with the last one', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abc|)');
        const subs = '        (^!)';
        const expected = '    a 9ms b 9ms (c|)';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('completes at once when nothing waits', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 20ms |');
        const expected = '    a 20ms |';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10 })))).toBe(expected);
      });
    });

    it('an empty source completes at once; a silent one never emits', () => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('|').pipe(leakyBucket(opts({ interval: 10 })))).toBe('|');
        expectObservable(cold('-').pipe(leakyBucket(opts({ interval: 10 })))).toBe('-');
      });
    });
  });

  describe('errors and unsubscribe', () => {
    it("a source error is sent at once; waiting values are reported 'cleared', in order", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abc) 7ms #');
        const subs = '        ^ 11ms !';
        const expected = '    a 9ms b -#';
        //                    0     10  12
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10, onDrop: drops.onDrop })))).toBe(
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(drops.timeline).toEqual([{ value: 'c', reason: 'cleared', frame: 12 }]);
    });

    it("early unsubscribe: nothing more is emitted; waiting values are reported 'cleared'", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abcd)-----------------|');
        const unsub = '       ---------------!';
        const subs = '        ^--------------!';
        const expected = '    a 9ms b-----';
        expectObservable(source.pipe(leakyBucket(opts({ interval: 10, onDrop: drops.onDrop }))), unsub).toBe(
          expected,
        );
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'cleared', frame: 15 },
        { value: 'd', reason: 'cleared', frame: 15 },
      ]);
    });

    it('a throwing onDrop errors the stream with what it threw', () => {
      const boom = new Error('onDrop failed');
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (ab)');
        const expected = '    (a#)';
        const leaky = source.pipe(
          leakyBucket(
            opts({
              interval: 10,
              capacity: 0,
              onDrop: () => {
                throw boom;
              },
            }),
          ),
        );
        expectObservable(leaky).toBe(expected, undefined, boom);
      });
    });
  });
});

describe('leakyBucket with the default scheduler', () => {
  it('runs in virtual time under TestScheduler.run with no scheduler argument', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // A real asyncScheduler could not emit b and c within a synchronous run().
      const source = cold(' (abc|)');
      const expected = '    a 59999ms b 59999ms (c|)';
      expectObservable(source.pipe(leakyBucket({ interval: 60_000 }))).toBe(expected);
    });
  });
});

describe('leakyBucket under withVirtualTime (no scheduler argument)', () => {
  it('runs on the ManualTimeScheduler that drives asyncScheduler, with one action while values wait', () => {
    withVirtualTime((scheduler) => {
      const seen: [number, string][] = [];
      const source = new Subject<string>();
      source.pipe(leakyBucket({ interval: 10 })).subscribe((v) => seen.push([scheduler.now(), v]));
      for (const v of ['a', 'b', 'c']) source.next(v);
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(35);
      expect(scheduler.pendingCount).toBe(0);
      source.next('d');
      expect(seen).toEqual([
        [0, 'a'],
        [10, 'b'],
        [20, 'c'],
        [35, 'd'],
      ]);
    });
  });
});

describe('leakyBucket with an explicit VirtualTimeScheduler (outside run)', () => {
  it('the documented example: emitted at 0, 10, 20 and 35', () => {
    const scheduler = new VirtualTimeScheduler();
    const source = new Observable<string>((subscriber) => {
      for (const v of ['a', 'b', 'c']) subscriber.next(v);
      subscriber.add(scheduler.schedule(() => subscriber.next('d'), 35));
      subscriber.add(scheduler.schedule(() => subscriber.complete(), 36));
    });
    const { log } = observe(scheduler, source, { interval: 10 });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 10, 'b'],
      ['next', 20, 'c'],
      ['next', 35, 'd'],
      ['complete', 36],
    ]);
  });

  it('a fractional interval: 2.5 ms apart', () => {
    const scheduler = new VirtualTimeScheduler();
    const { log } = observe(scheduler, range(0, 4), { interval: 2.5 });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 0],
      ['next', 2.5, 1],
      ['next', 5, 2],
      ['next', 7.5, 3],
      ['complete', 7.5],
    ]);
  });

  it('a value fed back while emitting is emitted after the current one, not inside it', () => {
    const scheduler = new VirtualTimeScheduler();
    const subject = new Subject<string>();
    const log: string[] = [];
    subject.pipe(leakyBucket({ interval: 0, scheduler })).subscribe((value) => {
      log.push(`start ${value}`);
      if (value === 'a') subject.next('b');
      log.push(`end ${value}`);
    });
    subject.next('a');
    scheduler.flush();
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('stops a synchronous firehose when the output is unsubscribed downstream', () => {
    let produced = 0;
    const firehose = new Observable<number>((subscriber) => {
      for (let i = 0; i < 1_000_000 && !subscriber.closed; i++) {
        produced++;
        subscriber.next(i);
      }
    });
    const seen: number[] = [];
    firehose.pipe(leakyBucket({ interval: 0 }), take(3)).subscribe((v) => seen.push(v));
    expect(seen).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
  });
});

describe('leakyBucket timer discipline (ManualTimeScheduler)', () => {
  function setup(options: Omit<LeakyBucketOptions<number>, 'scheduler' | 'onDrop'>) {
    const scheduler = new ManualTimeScheduler();
    const source = new Subject<number>();
    const { log, subscription } = observe(scheduler, source, options);
    return { scheduler, source, log, subscription };
  }

  it('holds no action while idle and exactly one while values wait', () => {
    const { scheduler, source, log } = setup({ interval: 10, capacity: 3, overflow: 'drop-oldest' });
    let pushed = 0;
    const settled = (): number => log.filter((e) => e[0] === 'next' || e[0] === 'drop').length;
    for (let t = 0; t < 300; t++) {
      const burst = t % 60 < 25 ? (t * 3) % 4 : 0;
      for (let i = 0; i < burst; i++) {
        source.next(pushed++);
        expect(scheduler.pendingCount).toBe(settled() < pushed ? 1 : 0);
      }
      scheduler.advanceBy(1);
      expect(scheduler.pendingCount).toBe(settled() < pushed ? 1 : 0);
    }
    scheduler.advanceBy(100);
    expect(scheduler.pendingCount).toBe(0);
    expect(settled()).toBe(pushed);
    const times = log.filter((e) => e[0] === 'next').map((e) => e[1]);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(10);
  });

  it('early unsubscribe leaves no action behind', () => {
    const { scheduler, source, log, subscription } = setup({ interval: 10 });
    source.next(1);
    source.next(2);
    expect(scheduler.pendingCount).toBe(1);
    subscription.unsubscribe();
    expect(scheduler.pendingCount).toBe(0);
    expect(source.observed).toBe(false);
    scheduler.advanceBy(50);
    expect(log).toEqual([
      ['next', 0, 1],
      ['drop', 0, 2, 'cleared'],
    ]);
  });

  it('completion leaves no action once the last value has leaked', () => {
    const { scheduler, source, log } = setup({ interval: 10 });
    source.next(1);
    source.next(2);
    source.complete();
    expect(scheduler.pendingCount).toBe(1);
    scheduler.advanceBy(10);
    expect(scheduler.pendingCount).toBe(0);
    expect(log).toEqual([
      ['next', 0, 1],
      ['next', 10, 2],
      ['complete', 10],
    ]);
  });

  it('a source error leaves no action behind', () => {
    const { scheduler, source, log } = setup({ interval: 10 });
    const boom = new Error('boom');
    source.next(1);
    source.next(2);
    source.error(boom);
    expect(scheduler.pendingCount).toBe(0);
    expect(log).toEqual([
      ['next', 0, 1],
      ['drop', 0, 2, 'cleared'],
      ['error', 0, boom],
    ]);
  });

  it('exact over 20,000 values: value k at 3k with interval 3', () => {
    const scheduler = new ManualTimeScheduler();
    const n = 20_000;
    let firstWrong: [number, number] | undefined;
    let count = 0;
    range(0, n)
      .pipe(leakyBucket({ interval: 3, scheduler }))
      .subscribe((k) => {
        const t = scheduler.now();
        if (firstWrong === undefined && t !== 3 * k) firstWrong = [k, t];
        count++;
      });
    scheduler.advanceTo(3 * n);
    expect(firstWrong).toBeUndefined();
    expect(count).toBe(n);
  });
});

describe('leakyBucket bad input (thrown when the operator is created)', () => {
  const cases: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['no options', undefined, TypeError, /^leakyBucket: `options` must be an object, got undefined$/],
    ['null options', null, TypeError, /^leakyBucket: `options` must be an object, got null/],
    ['missing interval', {}, TypeError, /^leakyBucket: `interval` .*got undefined/],
    ['negative interval', { interval: -1 }, RangeError, /^leakyBucket: `interval` .*got -1 \(number\)/],
    ['NaN interval', { interval: NaN }, RangeError, /^leakyBucket: `interval` .*got NaN \(number\)/],
    [
      'infinite interval',
      { interval: Infinity },
      RangeError,
      /^leakyBucket: `interval` .*got Infinity \(number\)/,
    ],
    ['string interval', { interval: '10' }, TypeError, /^leakyBucket: `interval` .*got "10" \(string\)/],
    [
      'negative capacity',
      { interval: 10, capacity: -1 },
      RangeError,
      /^leakyBucket: `capacity` .*got -1 \(number\)/,
    ],
    [
      'fractional capacity',
      { interval: 10, capacity: 2.5 },
      RangeError,
      /^leakyBucket: `capacity` .*got 2.5 \(number\)/,
    ],
    [
      'NaN capacity',
      { interval: 10, capacity: NaN },
      RangeError,
      /^leakyBucket: `capacity` .*got NaN \(number\)/,
    ],
    [
      'unknown overflow',
      { interval: 10, overflow: 'drop-latest' },
      RangeError,
      /^leakyBucket: `overflow` .*got "drop-latest" \(string\)/,
    ],
    ['a bad scheduler', { interval: 10, scheduler: {} }, TypeError, /^leakyBucket: `scheduler` .*got/],
    [
      'onDrop not a function',
      { interval: 10, onDrop: true },
      TypeError,
      /^leakyBucket: `onDrop` .*got true \(boolean\)/,
    ],
  ];

  it.each(cases)('%s', (_what, options, ctor, message) => {
    const create = (): unknown => leakyBucket(options as LeakyBucketOptions<unknown>);
    expect(create).toThrow(ctor);
    expect(create).toThrow(message);
  });

  it('accepts interval 0, capacity 0 and capacity Infinity', () => {
    expect(() => leakyBucket({ interval: 0 })).not.toThrow();
    expect(() => leakyBucket({ interval: 10, capacity: 0 })).not.toThrow();
    expect(() => leakyBucket({ interval: 10, capacity: Infinity, overflow: 'error' })).not.toThrow();
  });
});

describe('leakyBucket ttl and an interval that changes', () => {
  it('expires a value still waiting after ttl', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const drops = recordDrops<string>();
      const source = cold('(abc)--------------------|');
      expectObservable(
        source.pipe(leakyBucket<string>({ interval: 10, ttl: 10, onDrop: drops.onDrop })),
      ).toBe('a 9ms b 14ms |');
      flush();
      expect(drops.drops).toEqual([['c', 'expired']]);
    });
  });

  it('makes the next release due one new interval after the previous release', () => {
    const scheduler = new ManualTimeScheduler();
    const interval = new BehaviorSubject(10);
    const times: number[] = [];
    of(1, 2, 3, 4)
      .pipe(leakyBucket({ interval, scheduler }))
      .subscribe(() => times.push(scheduler.now()));
    scheduler.advanceTo(15); // released at 0 and 10
    interval.next(30);
    scheduler.advanceTo(1000);
    expect(times).toEqual([0, 10, 40, 70]);
  });

  it('lets waiting values go at once when the interval is shortened past their due time', () => {
    const scheduler = new ManualTimeScheduler();
    const interval = new BehaviorSubject(100);
    const times: number[] = [];
    of(1, 2, 3)
      .pipe(leakyBucket({ interval, scheduler }))
      .subscribe(() => times.push(scheduler.now()));
    scheduler.advanceTo(50);
    interval.next(20); // the next release was due at 100; now at 0 + 20, already past
    expect(times).toEqual([0, 50]);
    scheduler.advanceTo(1000);
    expect(times).toEqual([0, 50, 70]);
  });
});
