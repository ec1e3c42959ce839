import { Subject, type SchedulerLike } from 'rxjs';
import { tokenBucket, type DropReason, type TokenStore } from '../../src/index';

/** What the conformance suite needs of a store implementation. */
export interface ConformanceHarness {
  /** A store on a new, full bucket. */
  store(): TokenStore | Promise<TokenStore>;
  /**
   * Another store object on the same bucket as `store` (Redis: the same key, through another client;
   * memory: the same object).
   */
  sameBucket(store: TokenStore): TokenStore | Promise<TokenStore>;
  /** The operators' scheduler: virtual for the memory store, the real clock for Redis. */
  scheduler: SchedulerLike;
  /** Lets `ms` pass (virtual: advances the clock; real: sleeps), so that answers arrive. */
  settle(ms: number): Promise<void>;
  /** How far a delay may be off: 0 in virtual time, the time a Redis round trip takes in real time. */
  tolerance: number;
}

/** One token per minute: in a test lasting seconds the bucket does not visibly refill. */
const PERIOD = 60_000;
const LIMIT = { capacity: 5, tokensPerInterval: 1, interval: PERIOD } as const;

/**
 * The same cases for every store: counts, and delays in units of a one-minute period, so that the
 * real clock's noise (Redis) does not matter while the virtual clock (memory) is exact.
 */
export function tokenStoreConformance(getHarness: () => ConformanceHarness): void {
  let h: ConformanceHarness;
  beforeEach(() => {
    h = getHarness();
  });

  const close = (actual: number, expected: number) => {
    expect(Math.abs(actual - expected)).toBeLessThanOrEqual(h.tolerance);
  };

  describe('the store', () => {
    it('reserve takes tokens whether they exist or not and answers when they do', async () => {
      const store = await h.store();
      const ask = async (mode: 'reserve' | 'police', cost: number) =>
        store.acquire({ mode, cost, capacity: 3, period: PERIOD });
      expect(await ask('reserve', 3)).toMatchObject({ granted: true, delay: 0 });
      const refused = await ask('police', 1);
      expect(refused.granted).toBe(false);
      close(refused.delay, PERIOD);
      const reserved = await ask('reserve', 2);
      expect(reserved.granted).toBe(true);
      close(reserved.delay, 2 * PERIOD);
      const later = await ask('police', 1);
      expect(later.granted).toBe(false);
      close(later.delay, 3 * PERIOD);
      expect(typeof later.time).toBe('number');
    });

    it('police takes nothing when it refuses, and takes the tokens when they exist', async () => {
      const store = await h.store();
      const ask = async (mode: 'reserve' | 'police', cost: number) =>
        store.acquire({ mode, cost, capacity: 4, period: PERIOD });
      expect(await ask('police', 3)).toMatchObject({ granted: true, delay: 0 });
      expect((await ask('police', 2)).granted).toBe(false);
      expect((await ask('police', 2)).granted).toBe(false);
      expect(await ask('police', 1)).toMatchObject({ granted: true, delay: 0 });
      expect((await ask('police', 1)).granted).toBe(false);
    });

    it('grants a cost of 0 at once, even from an empty bucket; a period of 0 never limits', async () => {
      const store = await h.store();
      await store.acquire({ mode: 'reserve', cost: 2, capacity: 2, period: PERIOD });
      expect(await store.acquire({ mode: 'police', cost: 0, capacity: 2, period: PERIOD })).toMatchObject({
        granted: true,
        delay: 0,
      });
      const free = await h.store();
      for (let i = 0; i < 5; i++) {
        expect(await free.acquire({ mode: 'police', cost: 2, capacity: 2, period: 0 })).toMatchObject({
          granted: true,
          delay: 0,
        });
      }
    });

    it('is one bucket for every store object on it', async () => {
      const a = await h.store();
      const b = await h.sameBucket(a);
      expect((await a.acquire({ mode: 'police', cost: 2, capacity: 3, period: PERIOD })).granted).toBe(true);
      expect((await b.acquire({ mode: 'police', cost: 2, capacity: 3, period: PERIOD })).granted).toBe(false);
      expect((await b.acquire({ mode: 'police', cost: 1, capacity: 3, period: PERIOD })).granted).toBe(true);
      expect((await a.acquire({ mode: 'police', cost: 1, capacity: 3, period: PERIOD })).granted).toBe(false);
    });

    it('keeps requests atomic: of many at once, exactly capacity are granted', async () => {
      const store = await h.store();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          Promise.resolve(store.acquire({ mode: 'police', cost: 1, capacity: 7, period: PERIOD })),
        ),
      );
      expect(answers.filter((a) => a.granted)).toHaveLength(7);
    });
  });

  /** Runs `count` values into `tokenBucket` at once and reports what left or was dropped. */
  async function burst(store: TokenStore, count: number, options: object) {
    const source = new Subject<number>();
    const released: number[] = [];
    const dropped: [number, DropReason][] = [];
    const subscription = source
      .pipe(
        tokenBucket<number>({
          ...LIMIT,
          ...options,
          store,
          scheduler: h.scheduler,
          onDrop: (value, reason) => dropped.push([value, reason]),
        }),
      )
      .subscribe((v) => released.push(v));
    for (let i = 0; i < count; i++) source.next(i);
    await h.settle(300);
    return { released, dropped, subscription, source };
  }

  describe('through tokenBucket', () => {
    it('shape: a burst gets capacity values through at once, in order; the rest wait', async () => {
      const { released, dropped, subscription } = await burst(await h.store(), 8, {});
      expect(released).toEqual([0, 1, 2, 3, 4]);
      expect(dropped).toEqual([]);
      subscription.unsubscribe();
      expect(dropped).toEqual([
        [5, 'cleared'],
        [6, 'cleared'],
        [7, 'cleared'],
      ]);
    });

    it('shape with costs: tokens, not values, are counted', async () => {
      const { released, subscription } = await burst(await h.store(), 6, {
        cost: (v: number) => (v % 2) + 1,
      });
      // costs 1, 2, 1, 2, ...: 1 + 2 + 1 = 4 tokens, the next one (2) does not fit in 5.
      expect(released).toEqual([0, 1, 2]);
      subscription.unsubscribe();
    });

    it('police: capacity values pass, the rest are rejected in order', async () => {
      const { released, dropped, subscription } = await burst(await h.store(), 8, { mode: 'police' });
      expect(released).toEqual([0, 1, 2, 3, 4]);
      expect(dropped).toEqual([
        [5, 'rejected'],
        [6, 'rejected'],
        [7, 'rejected'],
      ]);
      subscription.unsubscribe();
    });

    it('two operators on one bucket get capacity values through together', async () => {
      const store = await h.store();
      const first = await burst(store, 4, {});
      const second = await burst(await h.sameBucket(store), 4, {});
      expect(first.released).toEqual([0, 1, 2, 3]);
      expect(second.released).toEqual([0]);
      first.subscription.unsubscribe();
      second.subscription.unsubscribe();
    });
  });
}
