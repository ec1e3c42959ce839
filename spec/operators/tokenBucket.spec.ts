import {
  BehaviorSubject,
  from,
  of,
  Observable,
  Subject,
  VirtualTimeScheduler,
  range,
  take,
  tap,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import {
  BufferOverflowError,
  OVERFLOW_STRATEGIES,
  RateLimitExceededError,
  isRateLimitExceededError,
  tokenBucket,
  type DropReason,
  type OverflowStrategy,
  type TokenBucketOptions,
} from '../../src/index';
import { ManualTimeScheduler } from '../../src/schedulers/ManualTimeScheduler';
import { withVirtualTime } from '../../src/schedulers/withVirtualTime';
import { recordDrops, testScheduler } from '../helpers/marbles';

/** What a subscriber saw, with the virtual time of each notification. */
type LogEntry<T> =
  ['next', number, T] | ['drop', number, T, DropReason] | ['complete', number] | ['error', number, unknown];

/** A source that emits each `[time, value]` on `scheduler` (same time: listed order), then completes at `completeAt`. */
function arrivals<T>(
  scheduler: SchedulerLike,
  values: readonly (readonly [number, T])[],
  completeAt?: number,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    for (const [time, value] of values) {
      subscriber.add(scheduler.schedule(() => subscriber.next(value), time));
    }
    if (completeAt !== undefined) {
      subscriber.add(scheduler.schedule(() => subscriber.complete(), completeAt));
    }
  });
}

/** Subscribes `source` through a token bucket on `scheduler`, logging emissions, drops and the end. */
function observe<T>(
  scheduler: SchedulerLike,
  source: Observable<T>,
  options: Omit<TokenBucketOptions<T>, 'scheduler' | 'onDrop'>,
): { log: LogEntry<T>[]; subscription: Subscription } {
  const log: LogEntry<T>[] = [];
  const subscription = source
    .pipe(
      tokenBucket<T>({
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

/** The error an observable sent (synchronously or after `flush`), or a failure if it sent none. */
function caughtError(run: (onError: (err: unknown) => void) => void): unknown {
  let caught: unknown = undefined;
  let sent = false;
  run((err) => {
    sent = true;
    caught = err;
  });
  if (!sent) throw new Error('expected the stream to error');
  return caught;
}

const SCHEDULER_MODES = [
  ['the default scheduler (asyncScheduler, virtual under run)', false],
  ['an explicit TestScheduler', true],
] as const;

describe.each(SCHEDULER_MODES)('tokenBucket on %s', (_name, explicit) => {
  let ts: TestScheduler;
  beforeEach(() => {
    ts = testScheduler();
  });
  /** The options, with the TestScheduler passed explicitly in the explicit mode. */
  function opts<T>(options: TokenBucketOptions<T>): TokenBucketOptions<T> {
    return explicit ? { ...options, scheduler: ts } : options;
  }

  describe('the examples of the documentation (capacity 2, 1 token per 10 ms)', () => {
    it('shape: a, b, c, d at 0 are emitted at 0, 0, 10 and 20, then it completes', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abcd|)');
        const subs = '        (^!)';
        const expected = '    (ab) 6ms c 9ms (d|)';
        //                    0        10    20
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10 }))),
        ).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('police: a and b pass, c and d are rejected; after 20 ms idle a burst of 2 passes again', () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd) 14ms (efg)|');
        const expected = '    (ab)   16ms (ef) -|';
        //                    0           20      25
        const policed = source.pipe(
          tokenBucket(
            opts({ capacity: 2, tokensPerInterval: 1, interval: 10, mode: 'police', onDrop: drops.onDrop }),
          ),
        );
        expectObservable(policed).toBe(expected);
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'rejected', frame: 0 },
        { value: 'd', reason: 'rejected', frame: 0 },
        { value: 'g', reason: 'rejected', frame: 20 },
      ]);
    });
  });

  it('gives every subscription its own bucket', () => {
    ts.run(({ cold, expectObservable }) => {
      const source = cold(' (abc|)');
      const expected = '    (ab) 6ms (c|)';
      const shaped = source.pipe(tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10 })));
      expectObservable(shaped).toBe(expected);
      expectObservable(shaped).toBe(expected);
    });
  });

  describe('bursts and refill', () => {
    it('lets a burst up to capacity through at once, then paces the rest at the refill rate', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcde|)');
        const expected = '    (abc) 5ms d 9ms (e|)';
        //                    0         10    20
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 3, tokensPerInterval: 1, interval: 10 }))),
        ).toBe(expected);
      });
    });

    it('refills while idle: after a pause a new burst passes at once', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc) 35ms (def)|');
        const expected = '    (ab) 6ms c 29ms (de) 6ms (f|)';
        //                    0        10     40       50
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10 }))),
        ).toBe(expected);
      });
    });

    it('never refills above capacity, however long it was idle', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' 100ms (abcd|)');
        const expected = '    100ms (ab) 6ms c 9ms (d|)';
        //                    100        110   120
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10 }))),
        ).toBe(expected);
      });
    });

    it('refills continuously: half a token accrues in half an interval', () => {
      ts.run(({ cold, expectObservable }) => {
        // 2 tokens per 10 ms: one token every 5 ms.
        const source = cold(' (abc|)');
        const expected = '    a 4ms b 4ms (c|)';
        //                    0     5     10
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 2, interval: 10 }))),
        ).toBe(expected);
      });
    });

    it('lets values through untouched when they arrive slower than the rate', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 9ms b 19ms c|');
        const expected = '    a 9ms b 19ms c|';
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10 }))),
        ).toBe(expected);
      });
    });

    it('defaults interval to 1000 ms', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    a 999ms b 999ms (c|)';
        expectObservable(source.pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1 })))).toBe(
          expected,
        );
      });
    });
  });

  describe('initialTokens', () => {
    it('0: the bucket starts empty, so even the first value waits for its token', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (ab|)');
        const expected = '    10ms a 9ms (b|)';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10, initialTokens: 0 })),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('fractional: half a token makes the first value wait half a period', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (ab|)');
        const expected = '    5ms a 9ms (b|)';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10, initialTokens: 0.5 })),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('equal to capacity: the same as the default (starts full)', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    (ab) 6ms (c|)';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10, initialTokens: 2 })),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('0 in police mode: rejects until tokens have accrued', () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 4ms b 4ms c|');
        const expected = '    ----- ----- c|';
        const policed = source.pipe(
          tokenBucket(
            opts({
              capacity: 1,
              tokensPerInterval: 1,
              interval: 10,
              initialTokens: 0,
              mode: 'police',
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(policed).toBe(expected);
      });
      expect(drops.timeline).toEqual([
        { value: 'a', reason: 'rejected', frame: 0 },
        { value: 'b', reason: 'rejected', frame: 5 },
      ]);
    });
  });

  describe('interval 0', () => {
    it('shape: refills at once, so nothing is ever delayed', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd) 3ms e|');
        const expected = '    (abcd) 3ms e|';
        expectObservable(
          source.pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 0 }))),
        ).toBe(expected);
      });
    });

    it('police: nothing is rejected', () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    (abcd|)';
        const policed = source.pipe(
          tokenBucket(
            opts({ capacity: 1, tokensPerInterval: 1, interval: 0, mode: 'police', onDrop: drops.onDrop }),
          ),
        );
        expectObservable(policed).toBe(expected);
      });
      expect(drops.drops).toEqual([]);
    });
  });

  describe('overflow strategies in shape mode (capacity 1, 1 token per 10 ms, queueCapacity 2)', () => {
    // a leaves at once; b and c wait; d arrives when the queue is full.
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
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 1,
              tokensPerInterval: 1,
              interval: 10,
              queueCapacity: 2,
              overflow,
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected);
      });
      expect(drops.drops).toEqual(dropped);
    });

    it("error: reports the arrival 'overflow', the waiting values 'cleared', then errors with BufferOverflowError", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    (a#)';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 1,
              tokensPerInterval: 1,
              interval: 10,
              queueCapacity: 2,
              overflow: 'error',
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, new BufferOverflowError(2, 'd', 'tokenBucket'));
      });
      expect(drops.drops).toEqual([
        ['d', 'overflow'],
        ['b', 'cleared'],
        ['c', 'cleared'],
      ]);
    });

    it('the strategies listed here are all the strategies there are', () => {
      expect([...cases.map(([strategy]) => strategy), 'error'].sort()).toEqual(
        [...OVERFLOW_STRATEGIES].sort(),
      );
    });

    it("queueCapacity 0: a value that cannot pass at once is dropped with reason 'overflow'", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc) 5ms d|');
        const expected = '    a     9ms d|';
        const shaped = source.pipe(
          tokenBucket(
            opts({ capacity: 1, tokensPerInterval: 1, interval: 10, queueCapacity: 0, onDrop: drops.onDrop }),
          ),
        );
        expectObservable(shaped).toBe(expected);
      });
      expect(drops.timeline).toEqual([
        { value: 'b', reason: 'overflow', frame: 0 },
        { value: 'c', reason: 'overflow', frame: 0 },
      ]);
    });

    it("queueCapacity 0 with overflow 'error': errors on the first value that cannot pass", () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (ab|)');
        const expected = '    (a#)';
        const shaped = source.pipe(
          tokenBucket(
            opts({ capacity: 1, tokensPerInterval: 1, interval: 10, queueCapacity: 0, overflow: 'error' }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, new BufferOverflowError(0, 'b', 'tokenBucket'));
      });
    });

    it('drop-oldest replacing a cheap head by an expensive one: the new head waits for its own tokens', () => {
      const costs: Record<string, number> = { a: 3, b: 1, c: 3 };
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    a 29ms (c|)';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 3,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => costs[v]!,
              queueCapacity: 1,
              overflow: 'drop-oldest',
            }),
          ),
        );
        expectObservable(shaped).toBe(expected);
      });
    });
  });

  describe("police mode with overflow 'error'", () => {
    it("reports the value 'rejected', then errors with RateLimitExceededError", () => {
      const drops = recordDrops<string>(ts);
      const error = new RateLimitExceededError('c', 1, 0, 'tokenBucket', 10);
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abcd|)');
        const subs = '        (^!)';
        const expected = '    (ab#)';
        const policed = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              mode: 'police',
              overflow: 'error',
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(policed).toBe(expected, undefined, error);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(drops.drops).toEqual([['c', 'rejected']]);
    });

    it('the error carries name, value, cost and the tokens that were available', () => {
      const err = caughtError((onError) => {
        ts.run(({ cold }) => {
          cold('a 4ms b')
            .pipe(
              tokenBucket(
                opts({
                  capacity: 2,
                  tokensPerInterval: 1,
                  interval: 10,
                  cost: 2,
                  mode: 'police',
                  overflow: 'error',
                }),
              ),
            )
            .subscribe({ error: onError });
        });
      });
      expect(err).toBeInstanceOf(RateLimitExceededError);
      expect(isRateLimitExceededError(err)).toBe(true);
      const rle = err as RateLimitExceededError<string>;
      expect(rle.name).toBe('RateLimitExceededError');
      expect(rle.value).toBe('b');
      expect(rle.cost).toBe(2);
      // b arrives 5 ms after a emptied the bucket: half a token has accrued.
      expect(rle.available).toBe(0.5);
      expect(rle.message).toMatch(/^tokenBucket: /);
    });
  });

  describe('completion', () => {
    it('shape: waiting values are emitted at their times, then the output completes', () => {
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abc) 2ms |');
        const subs = '        ^------!';
        const expected = '    a 9ms b 9ms (c|)';
        const shaped = source.pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10 })));
        expectObservable(shaped).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('police: completes at once', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    (ab|)';
        const policed = source.pipe(
          tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10, mode: 'police' })),
        );
        expectObservable(policed).toBe(expected);
      });
    });

    it('an empty source completes at once', () => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('|').pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10 }))),
        ).toBe('|');
      });
    });

    it('a source that never emits never emits', () => {
      ts.run(({ cold, expectObservable }) => {
        expectObservable(
          cold('-').pipe(tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10 }))),
        ).toBe('-');
      });
    });
  });

  describe('source error', () => {
    it("is sent at once; waiting values are reported 'cleared', in order, before it", () => {
      const drops = recordDrops<string>(ts);
      const order: string[] = [];
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abcd) 2ms #');
        const subs = '        ^-------!';
        const expected = '    (ab) 4ms #';
        //                    0        8
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              onDrop: (value: string, reason: DropReason) => {
                order.push(`drop ${value}`);
                drops.onDrop(value, reason);
              },
            }),
          ),
          tap({ error: () => order.push('error') }),
        );
        expectObservable(shaped).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(drops.timeline).toEqual([
        { value: 'c', reason: 'cleared', frame: 8 },
        { value: 'd', reason: 'cleared', frame: 8 },
      ]);
      expect(order).toEqual(['drop c', 'drop d', 'error']);
    });

    it('police: is sent at once', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 3ms #');
        const expected = '    a 3ms #';
        const policed = source.pipe(
          tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10, mode: 'police' })),
        );
        expectObservable(policed).toBe(expected);
      });
    });
  });

  describe('early unsubscribe', () => {
    it("emits nothing more, unsubscribes from the source and reports waiting values 'cleared'", () => {
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' (abcd)------------|');
        const unsub = '       ------------!';
        const subs = '        ^-----------!';
        const expected = '    (ab) 6ms c--';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 2, tokensPerInterval: 1, interval: 10, onDrop: drops.onDrop })),
        );
        expectObservable(shaped, unsub).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
      expect(drops.timeline).toEqual([{ value: 'd', reason: 'cleared', frame: 12 }]);
    });
  });

  describe('cost', () => {
    it('as a number: each value takes that many tokens', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    (ab) 16ms (c|)';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 4, tokensPerInterval: 1, interval: 10, cost: 2 })),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('as a function: variable costs, served in arrival order (a cheap value waits behind an expensive one)', () => {
      const costs: Record<string, number> = { a: 1, b: 3, c: 1 };
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    a 9ms b 9ms (c|)';
        //                    0     10    20
        const shaped = source.pipe(
          tokenBucket(
            opts({ capacity: 3, tokensPerInterval: 1, interval: 10, cost: (v: string) => costs[v]! }),
          ),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('as a function in police mode: an expensive value is rejected, a cheaper one after it passes', () => {
      const costs: Record<string, number> = { a: 2, b: 2, c: 1 };
      const drops = recordDrops<string>(ts);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abc|)');
        const expected = '    (ac|)';
        const policed = source.pipe(
          tokenBucket(
            opts({
              capacity: 3,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => costs[v]!,
              mode: 'police',
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(policed).toBe(expected);
      });
      expect(drops.drops).toEqual([['b', 'rejected']]);
    });

    it('is asked once per value, on arrival, with the value', () => {
      const asked: [string, number][] = [];
      ts.run(({ cold, expectObservable, time }) => {
        const source = cold(' (abc|)');
        const expected = '    a 9ms b 9ms (c|)';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 1,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => {
                asked.push([v, ts.now()]);
                return 1;
              },
            }),
          ),
        );
        expectObservable(shaped).toBe(expected);
        expect(time('|')).toBe(0);
      });
      expect(asked).toEqual([
        ['a', 0],
        ['b', 0],
        ['c', 0],
      ]);
    });

    it('0: passes even with an empty bucket when nothing waits', () => {
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcd|)');
        const expected = '    (abcd|)';
        const shaped = source.pipe(
          tokenBucket(opts({ capacity: 1, tokensPerInterval: 1, interval: 10, initialTokens: 0, cost: 0 })),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it('0: still waits behind values queued ahead of it', () => {
      const costs: Record<string, number> = { a: 1, b: 1, z: 0 };
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abz|)');
        const expected = '    a 9ms (bz|)';
        const shaped = source.pipe(
          tokenBucket(
            opts({ capacity: 1, tokensPerInterval: 1, interval: 10, cost: (v: string) => costs[v]! }),
          ),
        );
        expectObservable(shaped).toBe(expected);
      });
    });

    it("a value costing more than capacity: reported 'rejected', waiting values 'cleared', then a RangeError", () => {
      const costs: Record<string, number> = { a: 1, b: 1, c: 1, x: 3 };
      const drops = recordDrops<string>(ts);
      const error = new RangeError(
        'tokenBucket: a value costs 3 token(s) but the bucket holds at most `capacity` 2, so it can never pass',
      );
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' (abcx|)');
        const expected = '    (ab#)';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => costs[v]!,
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, error);
      });
      expect(drops.drops).toEqual([
        ['x', 'rejected'],
        ['c', 'cleared'],
      ]);
    });

    it("a cost function returning more than capacity: the value is reported 'rejected' and the stream errors with a RangeError", () => {
      const drops = recordDrops<string>(ts);
      const error = new RangeError(
        'tokenBucket: a value costs 3 token(s) but the bucket holds at most `capacity` 2, so it can never pass',
      );
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' --a');
        const expected = '    --#';
        const shaped = source.pipe(
          tokenBucket(
            opts({ capacity: 2, tokensPerInterval: 1, interval: 10, cost: () => 3, onDrop: drops.onDrop }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, error);
      });
      expect(drops.drops).toEqual([['a', 'rejected']]);
    });

    it("a cost function returning Infinity exceeds any capacity: reported 'rejected', then a RangeError", () => {
      const drops = recordDrops<string>(ts);
      const error = new RangeError(
        'tokenBucket: a value costs Infinity token(s) but the bucket holds at most `capacity` 2, so it can never pass',
      );
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' --a');
        const expected = '    --#';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              cost: () => Infinity,
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, error);
      });
      expect(drops.drops).toEqual([['a', 'rejected']]);
    });

    it.each([
      ['a negative number', -1, '-1 (number)'],
      ['NaN', NaN, 'NaN (number)'],
      ['a string', '1', '"1" (string)'],
      ['undefined', undefined, 'undefined'],
    ])("a cost function returning %s: reported 'rejected', then a TypeError", (_what, returned, got) => {
      const drops = recordDrops<string>(ts);
      const error = new TypeError(`tokenBucket: \`cost\` must return a number >= 0, got ${got}`);
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a 4ms b');
        const expected = '    a 4ms #';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => (v === 'b' ? (returned as number) : 1),
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, error);
      });
      expect(drops.drops).toEqual([['b', 'rejected']]);
    });

    it("a throwing cost function: the value is reported 'rejected' and the stream errors with what it threw", () => {
      const drops = recordDrops<string>(ts);
      const boom = new Error('boom');
      ts.run(({ cold, expectObservable }) => {
        const source = cold(' a-b');
        const expected = '    a-#';
        const shaped = source.pipe(
          tokenBucket(
            opts({
              capacity: 2,
              tokensPerInterval: 1,
              interval: 10,
              cost: (v: string) => {
                if (v === 'b') throw boom;
                return 1;
              },
              onDrop: drops.onDrop,
            }),
          ),
        );
        expectObservable(shaped).toBe(expected, undefined, boom);
      });
      expect(drops.drops).toEqual([['b', 'rejected']]);
    });
  });

  it('a throwing onDrop errors the stream with what it threw', () => {
    const boom = new Error('onDrop failed');
    ts.run(({ cold, expectObservable }) => {
      const source = cold(' (ab)');
      const expected = '    (a#)';
      const policed = source.pipe(
        tokenBucket(
          opts({
            capacity: 1,
            tokensPerInterval: 1,
            interval: 10,
            mode: 'police',
            onDrop: () => {
              throw boom;
            },
          }),
        ),
      );
      expectObservable(policed).toBe(expected, undefined, boom);
    });
  });
});

describe('tokenBucket with the default scheduler', () => {
  it('runs in virtual time under TestScheduler.run with no scheduler argument', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      // A real asyncScheduler could not emit b and c within a synchronous run().
      const source = cold(' (abc|)');
      const expected = '    a 59999ms b 59999ms (c|)';
      expectObservable(
        source.pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 60_000 })),
      ).toBe(expected);
    });
  });
});

describe('tokenBucket under withVirtualTime (no scheduler argument)', () => {
  it('runs on the ManualTimeScheduler that drives asyncScheduler, with one action while values wait', () => {
    withVirtualTime((scheduler) => {
      const seen: [number, string][] = [];
      const source = new Subject<string>();
      source
        .pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10 }))
        .subscribe((v) => seen.push([scheduler.now(), v]));
      for (const v of ['a', 'b', 'c', 'd']) source.next(v);
      expect(scheduler.pendingCount).toBe(1);
      scheduler.advanceBy(20);
      expect(scheduler.pendingCount).toBe(0);
      expect(seen).toEqual([
        [0, 'a'],
        [0, 'b'],
        [10, 'c'],
        [20, 'd'],
      ]);
    });
  });
});

describe('tokenBucket with an explicit VirtualTimeScheduler (outside run)', () => {
  it('shape example: a, b, c, d at 0 are emitted at 0, 0, 10, 20', () => {
    const scheduler = new VirtualTimeScheduler();
    const source = arrivals(
      scheduler,
      [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
        [0, 'd'],
      ],
      0,
    );
    const { log } = observe(scheduler, source, { capacity: 2, tokensPerInterval: 1, interval: 10 });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 0, 'b'],
      ['next', 10, 'c'],
      ['next', 20, 'd'],
      ['complete', 20],
    ]);
  });

  it('police example: c and d rejected, a burst of 2 passes again after 20 ms idle', () => {
    const scheduler = new VirtualTimeScheduler();
    const source = arrivals(
      scheduler,
      [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
        [0, 'd'],
        [20, 'e'],
        [20, 'f'],
      ],
      20,
    );
    const { log } = observe(scheduler, source, {
      capacity: 2,
      tokensPerInterval: 1,
      interval: 10,
      mode: 'police',
    });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 0, 'b'],
      ['drop', 0, 'c', 'rejected'],
      ['drop', 0, 'd', 'rejected'],
      ['next', 20, 'e'],
      ['next', 20, 'f'],
      ['complete', 20],
    ]);
  });

  it('fractional token periods: 2 tokens per 5 ms emit every 2.5 ms', () => {
    const scheduler = new VirtualTimeScheduler();
    const source = arrivals(
      scheduler,
      [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
        [0, 'd'],
      ],
      0,
    );
    const { log } = observe(scheduler, source, { capacity: 1, tokensPerInterval: 2, interval: 5 });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 2.5, 'b'],
      ['next', 5, 'c'],
      ['next', 7.5, 'd'],
      ['complete', 7.5],
    ]);
  });

  it('a token period of 1/3 ms: emissions every third of a millisecond', () => {
    const scheduler = new VirtualTimeScheduler();
    const n = 600;
    const { log } = observe(scheduler, range(0, n), { capacity: 1, tokensPerInterval: 3, interval: 1 });
    scheduler.flush();
    const times = log.filter((e) => e[0] === 'next').map((e) => e[1]);
    expect(times).toHaveLength(n);
    const worst = Math.max(...times.map((t, k) => Math.abs(t - k / 3)));
    expect(worst).toBeLessThan(1e-6);
  });

  it("police 'error': the refused value is reported 'rejected' before the error is sent", () => {
    const scheduler = new VirtualTimeScheduler();
    const source = arrivals(scheduler, [
      [0, 'a'],
      [3, 'b'],
      [4, 'c'],
    ]);
    const { log } = observe(scheduler, source, {
      capacity: 1,
      tokensPerInterval: 1,
      interval: 10,
      mode: 'police',
      overflow: 'error',
    });
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['drop', 3, 'b', 'rejected'],
      ['error', 3, expect.any(RateLimitExceededError)],
    ]);
    const err = log[2]![2] as RateLimitExceededError<string>;
    expect([err.name, err.value, err.cost]).toEqual(['RateLimitExceededError', 'b', 1]);
    // 3 ms after a emptied the bucket, 3/10 of a token has accrued.
    expect(err.available).toBeCloseTo(0.3, 9);
    expect(err.message).toBe('tokenBucket: rate limit exceeded: value needed 1 token(s), 0.300 available');
  });

  it("early unsubscribe: waiting values 'cleared', nothing emitted afterwards", () => {
    const scheduler = new VirtualTimeScheduler();
    const source = arrivals(scheduler, [
      [0, 'a'],
      [0, 'b'],
      [0, 'c'],
    ]);
    const { log, subscription } = observe(scheduler, source, {
      capacity: 1,
      tokensPerInterval: 1,
      interval: 10,
    });
    scheduler.schedule(() => subscription.unsubscribe(), 15);
    scheduler.flush();
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 10, 'b'],
      ['drop', 15, 'c', 'cleared'],
    ]);
    expect(scheduler.actions).toHaveLength(0);
  });

  it('a value fed back while emitting is emitted after the current one, not inside it', () => {
    const scheduler = new VirtualTimeScheduler();
    const subject = new Subject<string>();
    const log: string[] = [];
    subject
      .pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, scheduler }))
      .subscribe((value) => {
        log.push(`start ${value}@${scheduler.now()}`);
        if (value === 'a') {
          subject.next('b');
          subject.next('c');
        }
        log.push(`end ${value}`);
      });
    subject.next('a');
    scheduler.flush();
    expect(log).toEqual(['start a@0', 'end a', 'start b@0', 'end b', 'start c@10', 'end c']);
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
    firehose
      .pipe(tokenBucket({ capacity: 5, tokensPerInterval: 1, interval: 10, mode: 'police' }), take(3))
      .subscribe((v) => seen.push(v));
    expect(seen).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
  });

  it('uses a TestScheduler instance passed outside run (10 frames per marble character)', () => {
    const ts = testScheduler();
    const source = ts.createColdObservable('(abcd|)');
    const expected = '(ab)------c---------(d|)';
    ts.expectObservable(
      source.pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 100, scheduler: ts })),
    ).toBe(expected);
    ts.flush();
  });
});

describe('tokenBucket timer discipline (ManualTimeScheduler)', () => {
  /** A Subject source (it schedules nothing itself) through a token bucket on a fresh ManualTimeScheduler. */
  function setup(options: Omit<TokenBucketOptions<number>, 'scheduler' | 'onDrop'>) {
    const scheduler = new ManualTimeScheduler();
    const source = new Subject<number>();
    const { log, subscription } = observe(scheduler, source, options);
    return { scheduler, source, log, subscription };
  }

  it('holds no scheduled action while idle, one while values wait, none once they have left', () => {
    const { scheduler, source, log } = setup({ capacity: 1, tokensPerInterval: 1, interval: 10 });
    expect(scheduler.pendingCount).toBe(0);
    source.next(1);
    expect(scheduler.pendingCount).toBe(0);
    source.next(2);
    source.next(3);
    expect(scheduler.pendingCount).toBe(1);
    scheduler.advanceBy(10);
    expect(scheduler.pendingCount).toBe(1);
    scheduler.advanceBy(10);
    expect(scheduler.pendingCount).toBe(0);
    scheduler.advanceBy(100);
    expect(log).toEqual([
      ['next', 0, 1],
      ['next', 10, 2],
      ['next', 20, 3],
    ]);
  });

  it('never holds more than one action, and holds one exactly while values wait', () => {
    const { scheduler, source, log } = setup({
      capacity: 3,
      tokensPerInterval: 2,
      interval: 7,
      queueCapacity: 5,
      overflow: 'drop-oldest',
    });
    let pushed = 0;
    const settled = (): number => log.filter((e) => e[0] === 'next' || e[0] === 'drop').length;
    for (let t = 0; t < 400; t++) {
      // bursts of up to 4 values every few ms, with quiet stretches
      const burst = t % 50 < 30 ? (t * 7) % 5 : 0;
      for (let i = 0; i < burst; i++) {
        source.next(pushed++);
        expect(scheduler.pendingCount).toBe(settled() < pushed ? 1 : 0);
      }
      scheduler.advanceBy(1);
      expect(scheduler.pendingCount).toBe(settled() < pushed ? 1 : 0);
    }
    scheduler.advanceBy(1000);
    expect(scheduler.pendingCount).toBe(0);
    expect(settled()).toBe(pushed);
  });

  it('keeps one action when the head of the queue changes (drop-oldest with variable costs)', () => {
    const scheduler = new ManualTimeScheduler();
    const source = new Subject<number>();
    const { log } = observe(scheduler, source, {
      capacity: 3,
      tokensPerInterval: 1,
      interval: 10,
      cost: (v: number) => v,
      queueCapacity: 1,
      overflow: 'drop-oldest',
    });
    source.next(3); // passes, bucket empty
    source.next(1); // waits until 10
    expect(scheduler.pendingCount).toBe(1);
    source.next(3); // evicts 1, waits until 30
    expect(scheduler.pendingCount).toBe(1);
    expect(scheduler.nextDueTime).toBe(30);
    scheduler.advanceBy(30);
    expect(scheduler.pendingCount).toBe(0);
    expect(log).toEqual([
      ['next', 0, 3],
      ['drop', 0, 1, 'overflow'],
      ['next', 30, 3],
    ]);
  });

  it('cancels the action when the queue empties without it (a free value replaced the waiting one)', () => {
    const scheduler = new ManualTimeScheduler();
    const source = new Subject<number>();
    const { log } = observe(scheduler, source, {
      capacity: 3,
      tokensPerInterval: 1,
      interval: 10,
      cost: (v: number) => v,
      queueCapacity: 1,
      overflow: 'drop-oldest',
    });
    source.next(3); // passes, bucket empty
    source.next(1); // waits until 10
    expect(scheduler.pendingCount).toBe(1);
    source.next(0); // evicts 1 and, costing nothing, leaves at once
    expect(scheduler.pendingCount).toBe(0);
    expect(log).toEqual([
      ['next', 0, 3],
      ['drop', 0, 1, 'overflow'],
      ['next', 0, 0],
    ]);
  });

  it('early unsubscribe cancels the action: pendingCount back to 0, waiting values cleared', () => {
    const { scheduler, source, log, subscription } = setup({
      capacity: 1,
      tokensPerInterval: 1,
      interval: 10,
    });
    source.next(1);
    source.next(2);
    source.next(3);
    expect(scheduler.pendingCount).toBe(1);
    scheduler.advanceBy(5);
    subscription.unsubscribe();
    expect(scheduler.pendingCount).toBe(0);
    expect(source.observed).toBe(false);
    scheduler.advanceBy(100);
    expect(log).toEqual([
      ['next', 0, 1],
      ['drop', 5, 2, 'cleared'],
      ['drop', 5, 3, 'cleared'],
    ]);
  });

  it('completion while values wait: they leave at their times, then the output completes and no action is left', () => {
    const { scheduler, source, log } = setup({ capacity: 1, tokensPerInterval: 1, interval: 10 });
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

  it('police mode never schedules anything', () => {
    const { scheduler, source, log } = setup({
      capacity: 1,
      tokensPerInterval: 1,
      interval: 10,
      mode: 'police',
    });
    source.next(1);
    source.next(2);
    expect(scheduler.pendingCount).toBe(0);
    source.complete();
    expect(log).toEqual([
      ['next', 0, 1],
      ['drop', 0, 2, 'rejected'],
      ['complete', 0],
    ]);
  });

  it('a source error cancels the action: pendingCount back to 0', () => {
    const { scheduler, source, log } = setup({ capacity: 1, tokensPerInterval: 1, interval: 10 });
    const boom = new Error('boom');
    source.next(1);
    source.next(2);
    expect(scheduler.pendingCount).toBe(1);
    source.error(boom);
    expect(scheduler.pendingCount).toBe(0);
    expect(log).toEqual([
      ['next', 0, 1],
      ['drop', 0, 2, 'cleared'],
      ['error', 0, boom],
    ]);
  });

  it("an overflow 'error' cancels the action: pendingCount back to 0", () => {
    const { scheduler, source, log } = setup({
      capacity: 1,
      tokensPerInterval: 1,
      interval: 10,
      queueCapacity: 1,
      overflow: 'error',
    });
    source.next(1);
    source.next(2);
    source.next(3);
    expect(scheduler.pendingCount).toBe(0);
    expect(log.map((e) => e.slice(0, 3))).toEqual([
      ['next', 0, 1],
      ['drop', 0, 3],
      ['drop', 0, 2],
      ['error', 0, new BufferOverflowError(1, 3, 'tokenBucket')],
    ]);
  });

  it('computes times from now(): a timer that fires late does not push later values back', () => {
    const manual = new ManualTimeScheduler();
    let late = 1;
    // Delivers the first timer it is asked for 1 ms late; reschedules go to the action itself.
    const scheduler: SchedulerLike = {
      now: () => manual.now(),
      schedule: (work, delay = 0, state) => {
        const extra = late;
        late = 0;
        return manual.schedule(work, delay + extra, state);
      },
    };
    const times: [number, string][] = [];
    arrivalsNow(['a', 'b', 'c', 'd', 'e'])
      .pipe(tokenBucket({ capacity: 2, tokensPerInterval: 1, interval: 10, scheduler }))
      .subscribe((v) => times.push([manual.now(), v]));
    manual.advanceBy(100);
    // c is due at 10 but delivered at 11; d and e keep their times, 20 and 30.
    expect(times).toEqual([
      [0, 'a'],
      [0, 'b'],
      [11, 'c'],
      [20, 'd'],
      [30, 'e'],
    ]);
  });
});

/** The values, synchronously, at subscription. */
function arrivalsNow<T>(values: readonly T[]): Observable<T> {
  return new Observable<T>((subscriber) => {
    for (const value of values) subscriber.next(value);
  });
}

describe('tokenBucket exactness', () => {
  it('after 1,000,000 values every emission is on a whole millisecond: value k at 3k (capacity 1, 10 tokens per 30 ms)', () => {
    const scheduler = new ManualTimeScheduler();
    const n = 1_000_000;
    let count = 0;
    let firstWrong: [number, number] | undefined;
    range(0, n)
      .pipe(tokenBucket({ capacity: 1, tokensPerInterval: 10, interval: 30, scheduler }))
      .subscribe((k) => {
        const t = scheduler.now();
        if (firstWrong === undefined && (t !== 3 * k || !Number.isInteger(t))) firstWrong = [k, t];
        count++;
      });
    scheduler.advanceTo(3 * (n - 1));
    expect(firstWrong).toBeUndefined();
    expect(count).toBe(n);
    expect(scheduler.pendingCount).toBe(0);
  });

  it('with a burst: capacity 4, one token per 3 ms, value k at max(0, 3(k - 3)), over 20,000 values', () => {
    const scheduler = new ManualTimeScheduler();
    const n = 20_000;
    let count = 0;
    let firstWrong: [number, number] | undefined;
    range(0, n)
      .pipe(tokenBucket({ capacity: 4, tokensPerInterval: 1, interval: 3, scheduler }))
      .subscribe((k) => {
        const t = scheduler.now();
        if (firstWrong === undefined && t !== Math.max(0, 3 * (k - 3))) firstWrong = [k, t];
        count++;
      });
    scheduler.advanceTo(3 * n);
    expect(firstWrong).toBeUndefined();
    expect(count).toBe(n);
  });
});

describe('tokenBucket bad input (thrown when the operator is created)', () => {
  const base = { capacity: 2, tokensPerInterval: 1 };
  const cases: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['no options', undefined, TypeError, /^tokenBucket: `options` must be an object, got undefined$/],
    ['null options', null, TypeError, /^tokenBucket: `options` must be an object, got null/],
    ['options not an object', 5, TypeError, /^tokenBucket: `options` must be an object, got 5 \(number\)/],
    ['missing capacity', { tokensPerInterval: 1 }, TypeError, /^tokenBucket: `capacity` .*got undefined/],
    ['capacity 0', { ...base, capacity: 0 }, RangeError, /^tokenBucket: `capacity` .*got 0 \(number\)/],
    [
      'negative capacity',
      { ...base, capacity: -1 },
      RangeError,
      /^tokenBucket: `capacity` .*got -1 \(number\)/,
    ],
    ['NaN capacity', { ...base, capacity: NaN }, RangeError, /^tokenBucket: `capacity` .*got NaN \(number\)/],
    [
      'infinite capacity',
      { ...base, capacity: Infinity },
      RangeError,
      /^tokenBucket: `capacity` .*got Infinity \(number\)/,
    ],
    [
      'string capacity',
      { ...base, capacity: '2' },
      TypeError,
      /^tokenBucket: `capacity` .*got "2" \(string\)/,
    ],
    [
      'missing tokensPerInterval',
      { capacity: 2 },
      TypeError,
      /^tokenBucket: `tokensPerInterval` .*got undefined/,
    ],
    [
      'tokensPerInterval 0',
      { ...base, tokensPerInterval: 0 },
      RangeError,
      /^tokenBucket: `tokensPerInterval` .*got 0 \(number\)/,
    ],
    [
      'negative tokensPerInterval',
      { ...base, tokensPerInterval: -2 },
      RangeError,
      /^tokenBucket: `tokensPerInterval` .*got -2 \(number\)/,
    ],
    [
      'infinite tokensPerInterval',
      { ...base, tokensPerInterval: Infinity },
      RangeError,
      /^tokenBucket: `tokensPerInterval` .*got Infinity \(number\)/,
    ],
    [
      'negative interval',
      { ...base, interval: -1 },
      RangeError,
      /^tokenBucket: `interval` .*got -1 \(number\)/,
    ],
    ['NaN interval', { ...base, interval: NaN }, RangeError, /^tokenBucket: `interval` .*got NaN \(number\)/],
    [
      'infinite interval',
      { ...base, interval: Infinity },
      RangeError,
      /^tokenBucket: `interval` .*got Infinity \(number\)/,
    ],
    [
      'string interval',
      { ...base, interval: '10' },
      TypeError,
      /^tokenBucket: `interval` .*got "10" \(string\)/,
    ],
    [
      'negative initialTokens',
      { ...base, initialTokens: -0.5 },
      RangeError,
      /^tokenBucket: `initialTokens` .*from 0 to 2.*got -0.5 \(number\)/,
    ],
    [
      'initialTokens above capacity',
      { ...base, initialTokens: 3 },
      RangeError,
      /^tokenBucket: `initialTokens` .*got 3 \(number\)/,
    ],
    [
      'NaN initialTokens',
      { ...base, initialTokens: NaN },
      RangeError,
      /^tokenBucket: `initialTokens` .*got NaN \(number\)/,
    ],
    ['negative cost', { ...base, cost: -1 }, RangeError, /^tokenBucket: `cost` .*got -1 \(number\)/],
    ['NaN cost', { ...base, cost: NaN }, RangeError, /^tokenBucket: `cost` .*got NaN \(number\)/],
    [
      'infinite cost',
      { ...base, cost: Infinity },
      RangeError,
      /^tokenBucket: `cost` .*got Infinity \(number\)/,
    ],
    ['string cost', { ...base, cost: '1' }, TypeError, /^tokenBucket: `cost` .*got "1" \(string\)/],
    ['unknown mode', { ...base, mode: 'burst' }, RangeError, /^tokenBucket: `mode` .*got "burst" \(string\)/],
    [
      'unknown overflow',
      { ...base, overflow: 'drop-all' },
      RangeError,
      /^tokenBucket: `overflow` .*"drop-all"/,
    ],
    [
      'non-string overflow',
      { ...base, overflow: 1 },
      TypeError,
      /^tokenBucket: `overflow` .*got 1 \(number\)/,
    ],
    [
      "'drop-oldest' in police mode",
      { ...base, mode: 'police', overflow: 'drop-oldest' },
      RangeError,
      /^tokenBucket: `overflow` must be one of 'drop-incoming', 'error', got "drop-oldest" \(string\)/,
    ],
    [
      "'drop-newest-queued' in police mode",
      { ...base, mode: 'police', overflow: 'drop-newest-queued' },
      RangeError,
      /^tokenBucket: `overflow` .*got "drop-newest-queued" \(string\)/,
    ],
    [
      "'drop-queue' in police mode",
      { ...base, mode: 'police', overflow: 'drop-queue' },
      RangeError,
      /^tokenBucket: `overflow` .*got "drop-queue" \(string\)/,
    ],
    [
      'queueCapacity in police mode',
      { ...base, mode: 'police', queueCapacity: 10 },
      RangeError,
      /^tokenBucket: `queueCapacity` .*police.*got 10 \(number\)/,
    ],
    [
      'a constant cost above capacity (no value could ever pass)',
      { ...base, cost: 5 },
      RangeError,
      /^tokenBucket: `cost` 5 exceeds `capacity` 2: no value could ever pass$/,
    ],
    [
      'the default cost of 1 above a fractional capacity',
      { capacity: 0.5, tokensPerInterval: 1 },
      RangeError,
      /^tokenBucket: `cost` 1 exceeds `capacity` 0.5/,
    ],
    [
      'negative queueCapacity',
      { ...base, queueCapacity: -1 },
      RangeError,
      /^tokenBucket: `queueCapacity` .*got -1 \(number\)/,
    ],
    [
      'fractional queueCapacity',
      { ...base, queueCapacity: 1.5 },
      RangeError,
      /^tokenBucket: `queueCapacity` .*got 1.5 \(number\)/,
    ],
    [
      'a scheduler without schedule()',
      { ...base, scheduler: { now: () => 0 } },
      TypeError,
      /^tokenBucket: `scheduler`/,
    ],
    [
      'a number as scheduler',
      { ...base, scheduler: 5 },
      TypeError,
      /^tokenBucket: `scheduler` .*got 5 \(number\)/,
    ],
    [
      'onDrop not a function',
      { ...base, onDrop: 'log' },
      TypeError,
      /^tokenBucket: `onDrop` .*got "log" \(string\)/,
    ],
  ];

  it.each(cases)('%s', (_what, options, ctor, message) => {
    const create = (): unknown => tokenBucket(options as TokenBucketOptions<unknown>);
    expect(create).toThrow(ctor);
    expect(create).toThrow(message);
  });

  it('accepts the boundaries: initialTokens 0 and capacity, cost 0, interval 0, fractional capacity', () => {
    expect(() => tokenBucket({ ...base, initialTokens: 0 })).not.toThrow();
    expect(() => tokenBucket({ ...base, initialTokens: 2 })).not.toThrow();
    expect(() => tokenBucket({ ...base, cost: 0 })).not.toThrow();
    expect(() => tokenBucket({ ...base, interval: 0 })).not.toThrow();
    expect(() => tokenBucket({ capacity: 0.5, tokensPerInterval: 0.25, cost: 0.5 })).not.toThrow();
    expect(() => tokenBucket({ ...base, mode: 'police', overflow: 'error' })).not.toThrow();
    expect(() => tokenBucket({ ...base, queueCapacity: 0, overflow: 'drop-queue' })).not.toThrow();
  });
});

describe('tokenBucket with extreme numbers', () => {
  it('refuses a token period that overflows to Infinity, instead of stalling with NaN times', () => {
    expect(() => tokenBucket({ capacity: 1, tokensPerInterval: 1e-10, interval: 1e308 })).toThrow(
      new RangeError(
        'tokenBucket: the token period (`interval` / `tokensPerInterval` = 1e+308 / 1e-10) times `capacity` 1 must be finite',
      ),
    );
    // Finite period, but capacity times it overflows.
    expect(() => tokenBucket({ capacity: 1e300, tokensPerInterval: 1, interval: 1e10 })).toThrow(RangeError);
  });

  it('works at the largest finite numbers it accepts', () => {
    const out: number[] = [];
    from([1, 2])
      .pipe(tokenBucket({ capacity: 1, tokensPerInterval: 1, interval: 1e300, mode: 'police' }))
      .subscribe((v) => out.push(v));
    expect(out).toEqual([1]); // a full bucket lets the first value through at once
  });
});

describe('tokenBucket ttl', () => {
  it('expires a value still waiting for tokens after ttl', () => {
    testScheduler().run(({ cold, expectObservable, flush }) => {
      const drops = recordDrops<string>();
      const source = cold('(abc)-----------------------|');
      const bucket = tokenBucket<string>({
        capacity: 1,
        tokensPerInterval: 1,
        interval: 10,
        ttl: 15,
        onDrop: drops.onDrop,
      });
      // a at 0, b at 10 (waited 10), c would leave at 20 but its deadline is 15.
      expectObservable(source.pipe(bucket)).toBe('a 9ms b 17ms |');
      flush();
      expect(drops.drops).toEqual([['c', 'expired']]);
    });
  });

  it('releases a value whose tokens arrive exactly at its deadline', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('(ab)---------------|');
      const bucket = tokenBucket<string>({ capacity: 1, tokensPerInterval: 1, interval: 10, ttl: 10 });
      expectObservable(source.pipe(bucket)).toBe('a 9ms b 8ms |');
    });
  });

  it('refuses a finite ttl in police mode, accepts Infinity', () => {
    expect(() => tokenBucket({ capacity: 1, tokensPerInterval: 1, mode: 'police', ttl: 5 })).toThrow(
      new RangeError(
        "tokenBucket: `ttl` applies to mode 'shape' only (police mode never queues), got 5 (number)",
      ),
    );
    expect(() =>
      tokenBucket({ capacity: 1, tokensPerInterval: 1, mode: 'police', ttl: Infinity }),
    ).not.toThrow();
    expect(() => tokenBucket({ capacity: 1, tokensPerInterval: 1, ttl: -1 })).toThrow(
      new RangeError('tokenBucket: `ttl` must be a finite number >= 0 or Infinity, got -1 (number)'),
    );
  });
});

describe('tokenBucket limits that change while the stream runs', () => {
  /** Emission times of `count` values queued at 0, with the rate changed by `changes`. */
  function run(
    options: (limits: {
      capacity: BehaviorSubject<number>;
      rate: BehaviorSubject<number>;
      queue: BehaviorSubject<number>;
    }) => Parameters<typeof tokenBucket<number>>[0],
    count: number,
    changes: (
      scheduler: ManualTimeScheduler,
      limits: {
        capacity: BehaviorSubject<number>;
        rate: BehaviorSubject<number>;
        queue: BehaviorSubject<number>;
      },
    ) => void,
  ) {
    const scheduler = new ManualTimeScheduler();
    const limits = {
      capacity: new BehaviorSubject(1),
      rate: new BehaviorSubject(1),
      queue: new BehaviorSubject(Infinity),
    };
    const times: number[] = [];
    const drops: [number, DropReason][] = [];
    let error: unknown;
    const source = new Subject<number>();
    source
      .pipe(tokenBucket<number>({ ...options(limits), scheduler, onDrop: (v, r) => drops.push([v, r]) }))
      .subscribe({ next: () => times.push(scheduler.now()), error: (e: unknown) => (error = e) });
    for (let i = 0; i < count; i++) source.next(i);
    changes(scheduler, limits);
    return { times, drops, error, limits, source, scheduler };
  }

  it('applies a new rate from the instant it is emitted, keeping the tokens accrued at the old rate', () => {
    const { times } = run(
      (l) => ({ capacity: 1, tokensPerInterval: l.rate, interval: 10 }),
      6,
      (scheduler, l) => {
        scheduler.advanceTo(25); // released at 0, 10, 20; half a token accrued
        l.rate.next(2); // 5 ms per token: the missing half takes 2.5 ms
        scheduler.advanceTo(1000);
      },
    );
    expect(times).toEqual([0, 10, 20, 27.5, 32.5, 37.5]);
  });

  it('does not drift over many rate changes with whole-millisecond periods', () => {
    const { times } = run(
      (l) => ({ capacity: 1, tokensPerInterval: l.rate, interval: 10 }),
      20_000,
      (scheduler, l) => {
        for (let t = 100; t <= 100_000; t += 100) {
          scheduler.advanceTo(t);
          l.rate.next(l.rate.value === 1 ? 2 : 1);
        }
      },
    );
    expect(times.every((t) => Number.isInteger(t))).toBe(true);
    for (let i = 1; i < times.length; i++)
      expect([5, 10]).toContain((times[i] as number) - (times[i - 1] as number));
    // 500 phases of 100 ms at 10 ms per token and 500 at 5 ms: 10 + 20 per pair, plus the first value.
    expect(times.filter((t) => t <= 100_000)).toHaveLength(15_001);
  });

  it('clips the tokens held when the capacity is lowered and keeps them when it is raised', () => {
    const { times, scheduler, source, limits } = run(
      (l) => ({ capacity: l.capacity, tokensPerInterval: 1, interval: 10, initialTokens: 0 }),
      0,
      () => undefined,
    );
    limits.capacity.next(4);
    scheduler.advanceTo(40); // 4 tokens
    limits.capacity.next(2); // clipped to 2
    for (let i = 0; i < 3; i++) source.next(i);
    expect(times).toEqual([40, 40]);
    scheduler.advanceTo(50);
    expect(times).toEqual([40, 40, 50]);
    scheduler.advanceTo(70); // 2 tokens again, the most capacity 2 holds
    limits.capacity.next(5); // kept
    for (let i = 0; i < 3; i++) source.next(i);
    expect(times).toEqual([40, 40, 50, 70, 70]);
    scheduler.advanceTo(80);
    expect(times).toEqual([40, 40, 50, 70, 70, 80]);
  });

  it('rejects a waiting value whose cost is now above the capacity, and errors', () => {
    const scheduler = new ManualTimeScheduler();
    const capacity = new BehaviorSubject(5);
    const source = new Subject<number>();
    const drops: [number, DropReason][] = [];
    let error: unknown;
    source
      .pipe(
        tokenBucket<number>({
          capacity,
          tokensPerInterval: 1,
          interval: 10,
          initialTokens: 0,
          cost: (v) => v,
          scheduler,
          onDrop: (v, r) => drops.push([v, r]),
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    source.next(3);
    source.next(4);
    capacity.next(3); // 4 can never pass now
    expect(drops).toEqual([
      [4, 'rejected'],
      [3, 'cleared'],
    ]);
    expect(error).toEqual(
      new RangeError(
        'tokenBucket: a value costs 4 token(s) but the bucket holds at most `capacity` 3, so it can never pass',
      ),
    );
  });

  it('lowering queueCapacity drops nothing by itself; arrivals find the queue full', () => {
    const { times, drops, limits, source, scheduler } = run(
      (l) => ({ capacity: 1, tokensPerInterval: 1, interval: 10, queueCapacity: l.queue }),
      5, // 0 leaves, 1-4 wait
      () => undefined,
    );
    limits.queue.next(2);
    expect(drops).toEqual([]);
    source.next(5);
    expect(drops).toEqual([[5, 'overflow']]);
    scheduler.advanceTo(30); // 1, 2, 3 leave: 4 waits alone, below the new capacity
    source.next(6);
    scheduler.advanceTo(100);
    expect(times).toEqual([0, 10, 20, 30, 40, 50]);
    expect(drops).toEqual([[5, 'overflow']]);
  });

  it('errors at once when a limit Observable does not emit on subscription', () => {
    let error: unknown;
    of(1)
      .pipe(tokenBucket({ capacity: new Subject<number>(), tokensPerInterval: 1 }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toEqual(
      new TypeError(
        'tokenBucket: the `capacity` Observable must emit its first value synchronously on subscription (a BehaviorSubject, of(n), or startWith(n))',
      ),
    );
  });

  it('errors on an invalid emitted value, reporting waiting values cleared, and unsubscribes the limits', () => {
    const scheduler = new ManualTimeScheduler();
    const rate = new BehaviorSubject(1);
    const drops: [number, DropReason][] = [];
    let error: unknown;
    of(1, 2, 3)
      .pipe(
        tokenBucket<number>({
          capacity: 1,
          tokensPerInterval: rate,
          scheduler,
          onDrop: (v, r) => drops.push([v, r]),
        }),
      )
      .subscribe({ error: (e: unknown) => (error = e) });
    rate.next(-1);
    expect(error).toEqual(
      new RangeError('tokenBucket: `tokensPerInterval` must be a finite number > 0, got -1 (number)'),
    );
    expect(drops).toEqual([
      [2, 'cleared'],
      [3, 'cleared'],
    ]);
    expect(rate.observed).toBe(false);
    expect(scheduler.pendingCount).toBe(0);
  });
});
