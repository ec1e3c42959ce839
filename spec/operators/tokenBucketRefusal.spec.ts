import { Observable, type SchedulerLike } from 'rxjs';
import {
  ManualTimeScheduler,
  memoryTokenStore,
  RateLimitExceededError,
  tokenBucket,
  type DropDetail,
  type DropReason,
  type TokenBucketOptions,
  type TokenStore,
} from '../../src/index';

/** A source that emits each `[time, value]` on `scheduler`, then completes at `completeAt`. */
function arrivals<T>(
  scheduler: SchedulerLike,
  values: readonly (readonly [number, T])[],
  completeAt: number,
) {
  return new Observable<T>((subscriber) => {
    for (const [time, value] of values)
      subscriber.add(scheduler.schedule(() => subscriber.next(value), time));
    subscriber.add(scheduler.schedule(() => subscriber.complete(), completeAt));
  });
}

type Entry = [string, number, ...unknown[]];

/** Runs the values through a police-mode bucket (in-process, or on a memory store), logging everything. */
function police(
  values: readonly (readonly [number, string])[],
  options: Omit<TokenBucketOptions<string>, 'scheduler' | 'onDrop' | 'mode'>,
  withStore: boolean,
): Entry[] {
  const s = new ManualTimeScheduler();
  const log: Entry[] = [];
  const store: TokenStore | undefined = withStore ? memoryTokenStore({ scheduler: s }) : undefined;
  arrivals(s, values, 10_000)
    .pipe(
      tokenBucket<string>({
        ...options,
        ...(store ? { store } : {}),
        mode: 'police',
        scheduler: s,
        onDrop: (value: string, reason: DropReason, detail?: DropDetail) => {
          // Tokens are fractions of a period: compared to 9 decimals.
          const rounded = detail && { ...detail, available: Math.round(detail.available * 1e9) / 1e9 };
          log.push(['drop', s.now(), value, reason, rounded]);
        },
      }),
    )
    .subscribe({
      next: (value) => log.push(['next', s.now(), value]),
      error: (err: unknown) => log.push(['error', s.now(), err]),
      complete: () => log.push(['complete', s.now()]),
    });
  s.advanceBy(20_000);
  return log;
}

describe.each([
  ['in-process', false],
  ['on a shared store', true],
])('tokenBucket police mode, %s: what onDrop is told of a refusal', (_name, withStore) => {
  // 2 tokens, one more per second.
  const bucket = { capacity: 2, tokensPerInterval: 1, interval: 1000 };

  it('the tokens there were and the time until the value would pass (a Retry-After)', () => {
    const log = police(
      [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
        [400, 'd'],
        [1000, 'e'],
        [1250, 'f'],
      ],
      bucket,
      withStore,
    );
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 0, 'b'],
      ['drop', 0, 'c', 'rejected', { cost: 1, available: 0, retryAfter: 1000 }],
      ['drop', 400, 'd', 'rejected', { cost: 1, available: 0.4, retryAfter: 600 }],
      ['next', 1000, 'e'],
      ['drop', 1250, 'f', 'rejected', { cost: 1, available: 0.25, retryAfter: 750 }],
      ['complete', 10_000],
    ]);
  });

  it('with costs: the wait is for the whole cost', () => {
    const cost = (v: string) => (v === 'big' ? 2 : 1);
    const log = police(
      [
        [0, 'small'],
        [500, 'big'],
      ],
      { ...bucket, cost },
      withStore,
    );
    // At 500: 1.5 tokens; 2 exist at 1000.
    expect(log.slice(0, 2)).toEqual([
      ['next', 0, 'small'],
      ['drop', 500, 'big', 'rejected', { cost: 2, available: 1.5, retryAfter: 500 }],
    ]);
  });

  it("overflow 'error': the RateLimitExceededError carries the same retryAfter", () => {
    const log = police(
      [
        [0, 'a'],
        [0, 'b'],
        [300, 'c'],
      ],
      { ...bucket, overflow: 'error' },
      withStore,
    );
    expect(log.slice(0, 3)).toEqual([
      ['next', 0, 'a'],
      ['next', 0, 'b'],
      ['drop', 300, 'c', 'rejected', { cost: 1, available: 0.3, retryAfter: 700 }],
    ]);
    const [kind, time, err] = log[3] as Entry;
    expect([kind, time]).toEqual(['error', 300]);
    expect(err).toBeInstanceOf(RateLimitExceededError);
    expect((err as RateLimitExceededError).retryAfter).toBe(700);
    expect((err as RateLimitExceededError).available).toBeCloseTo(0.3);
    expect(log).toHaveLength(4);
  });
});

describe('what onDrop is told besides a rate-limit refusal', () => {
  it('nothing: shape-mode overflow gives no detail', () => {
    const s = new ManualTimeScheduler();
    const details: unknown[] = [];
    arrivals(
      s,
      [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
      ],
      100,
    )
      .pipe(
        tokenBucket<string>({
          capacity: 1,
          tokensPerInterval: 1,
          interval: 10,
          queueCapacity: 1,
          scheduler: s,
          onDrop: (value, reason, detail) => details.push([value, reason, detail]),
        }),
      )
      .subscribe();
    s.advanceBy(1000);
    expect(details).toEqual([['c', 'overflow', undefined]]);
  });

  it("nothing either for a value refused because the store cannot be reached ('closed')", () => {
    const s = new ManualTimeScheduler();
    const details: unknown[] = [];
    const failing: TokenStore = {
      acquire: () => {
        throw new Error('down');
      },
    };
    arrivals(s, [[0, 'a']], 100)
      .pipe(
        tokenBucket<string>({
          capacity: 1,
          tokensPerInterval: 1,
          interval: 10,
          mode: 'police',
          store: failing,
          onStoreError: 'closed',
          scheduler: s,
          onDrop: (value, reason, detail) => details.push([value, reason, detail]),
        }),
      )
      .subscribe();
    s.advanceBy(1000);
    expect(details).toEqual([['a', 'rejected', undefined]]);
  });
});
