import fc from 'fast-check';
import { merge, Observable, Subject, type SchedulerLike } from 'rxjs';
import {
  BufferOverflowError,
  FlowMeter,
  ManualTimeScheduler,
  memoryTokenStore,
  RateLimitExceededError,
  tokenBucket,
  type DropReason,
  type StoreErrorMode,
  type TokenBucketOptions,
  type TokenStore,
} from '../../src/index';
import { recordDrops, testScheduler } from '../helpers/marbles';
import { ManualStore } from './helpers';

type Log = (string | number)[][];

/** Subscribes `source` through `tokenBucket(options)` on `s`, logging values, drops and the end. */
function run<T>(
  s: ManualTimeScheduler,
  source: Observable<T>,
  options: Omit<TokenBucketOptions<T>, 'scheduler' | 'onDrop'>,
): { log: Log; unsubscribe: () => void } {
  const log: Log = [];
  const subscription = source
    .pipe(
      tokenBucket<T>({
        ...options,
        scheduler: s,
        onDrop: (value, reason) => log.push(['drop', s.now(), String(value), reason]),
      }),
    )
    .subscribe({
      next: (value) => log.push(['next', s.now(), String(value)]),
      error: (err: unknown) => log.push(['error', s.now(), (err as Error).message]),
      complete: () => log.push(['complete', s.now()]),
    });
  return { log, unsubscribe: () => subscription.unsubscribe() };
}

const BUCKET = { capacity: 3, tokensPerInterval: 1, interval: 10 } as const;

describe('memoryTokenStore', () => {
  it('shares one bucket between two operators, exactly in virtual time (the diagram)', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const store = memoryTokenStore();
      const options = { capacity: 2, tokensPerInterval: 1, interval: 10, store };
      const a = cold('  (ab)------------------|');
      const b = cold('  --(cd)----------------|');
      const outA = '    (ab)------------------|';
      const outB = '    ----------c---------d-|';
      expectObservable(a.pipe(tokenBucket(options))).toBe(outA);
      expectObservable(b.pipe(tokenBucket(options))).toBe(outB);
    });
  });

  it('answers synchronously, from its scheduler, as GCRA does', () => {
    const s = new ManualTimeScheduler(1000);
    const store = memoryTokenStore({ scheduler: s });
    const reserve = (cost: number) => store.acquire({ mode: 'reserve', cost, capacity: 2, period: 10 });
    const police = (cost: number) => store.acquire({ mode: 'police', cost, capacity: 2, period: 10 });
    expect(reserve(2)).toEqual({ granted: true, delay: 0, time: 1000 });
    expect(police(1)).toEqual({ granted: false, delay: 10, time: 1000 });
    expect(reserve(2)).toEqual({ granted: true, delay: 20, time: 1000 });
    s.advanceBy(25);
    // Tokens are owed until 1040 (full then): at 1025 the next token exists at 1030.
    expect(police(1)).toEqual({ granted: false, delay: 5, time: 1025 });
    s.advanceBy(100);
    expect(police(2)).toEqual({ granted: true, delay: 0, time: 1125 });
  });

  it('validates its options', () => {
    expect(() => memoryTokenStore({ schedular: null } as never)).toThrow(
      'memoryTokenStore: unknown option `schedular` (did you mean `scheduler`?)',
    );
    expect(() => memoryTokenStore({ scheduler: {} as SchedulerLike })).toThrow(TypeError);
  });

  describe('gives the same output as the in-process bucket (property)', () => {
    const scenario = fc
      .record({
        capacity: fc.integer({ min: 1, max: 5 }),
        period: fc.integer({ min: 0, max: 12 }),
        queueCapacity: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(Infinity)),
        overflow: fc.constantFrom('drop-incoming' as const, 'error' as const),
        ttl: fc.oneof(fc.constant(Infinity), fc.integer({ min: 0, max: 30 })),
        mode: fc.constantFrom('shape' as const, 'police' as const),
      })
      .chain((p) =>
        fc.record({
          p: fc.constant(p),
          arrivals: fc.array(
            fc.record({
              gap: fc.integer({ min: 0, max: 15 }),
              cost: fc.integer({ min: 0, max: p.capacity }),
            }),
            { maxLength: 25 },
          ),
        }),
      );

    function observe(
      arrivals: readonly { gap: number; cost: number }[],
      options: TokenBucketOptions<number>,
      shared: boolean,
    ): Log {
      const s = new ManualTimeScheduler();
      if (shared) options = { ...options, store: memoryTokenStore({ scheduler: s }) };
      const source = new Observable<number>((subscriber) => {
        let t = 0;
        arrivals.forEach(({ gap }, i) => {
          t += gap;
          subscriber.add(s.schedule(() => subscriber.next(i), t));
        });
        subscriber.add(s.schedule(() => subscriber.complete(), t + 1));
      });
      const { log } = run(s, source, {
        ...options,
        cost: (i: number) => arrivals[i]?.cost ?? 1,
      });
      s.advanceBy(10_000);
      return log;
    }

    it('shape and police, with costs, queueCapacity, drop-incoming and error: the same log', () => {
      fc.assert(
        fc.property(scenario, ({ p, arrivals }) => {
          const options: TokenBucketOptions<number> = {
            capacity: p.capacity,
            tokensPerInterval: 1,
            interval: p.period,
            mode: p.mode,
            overflow: p.overflow,
            ...(p.mode === 'shape' ? { queueCapacity: p.queueCapacity } : {}),
          };
          const local = observe(arrivals, options, false);
          const shared = observe(arrivals, options, true);
          expect(shared).toEqual(local);
        }),
        {
          numRuns: 300,
          // Found by this property: an arrival in the instant a batch value falls due, before the
          // value's timer runs. The first must see the room the due value frees; the second must
          // still find the queue full (the in-process bucket queues an arrival, then drains).
          examples: [
            [
              {
                p: { capacity: 5, period: 1, queueCapacity: 2, overflow: 'error', ttl: 12, mode: 'shape' },
                arrivals: [
                  { gap: 0, cost: 3 },
                  { gap: 1, cost: 3 },
                  { gap: 0, cost: 2 },
                  { gap: 2, cost: 0 },
                  { gap: 0, cost: 0 },
                ],
              },
            ],
            [
              {
                p: {
                  capacity: 4,
                  period: 12,
                  queueCapacity: 1,
                  overflow: 'drop-incoming',
                  ttl: 25,
                  mode: 'shape',
                },
                arrivals: [
                  { gap: 0, cost: 4 },
                  { gap: 0, cost: 1 },
                  { gap: 2, cost: 0 },
                  { gap: 5, cost: 0 },
                  { gap: 5, cost: 0 },
                ],
              },
            ],
          ],
        },
      );
    });

    it('with ttl: every value released or dropped once, in order, none released after its deadline', () => {
      // Not the same log: a value whose reserved tokens come after its deadline expires with them spent.
      fc.assert(
        fc.property(scenario, ({ p, arrivals }) => {
          const ttl = p.ttl === Infinity ? 10 : p.ttl;
          const log = observe(
            arrivals,
            {
              capacity: p.capacity,
              tokensPerInterval: 1,
              interval: p.period,
              queueCapacity: p.queueCapacity,
              overflow: p.overflow,
              ttl,
            },
            true,
          );
          const seen = log.filter((l) => l[0] !== 'complete' && l[0] !== 'error').map((l) => Number(l[2]));
          const failed = log.some((l) => l[0] === 'error');
          expect(new Set(seen).size).toBe(seen.length);
          if (!failed) expect(seen.length).toBe(arrivals.length);
          const released = log.filter((l) => l[0] === 'next').map((l) => Number(l[2]));
          expect(released).toEqual([...released].sort((a, b) => a - b));
          let t = 0;
          const arrivalOf = arrivals.map(({ gap }) => (t += gap));
          for (const l of log) {
            if (l[0] === 'next')
              expect(Number(l[1])).toBeLessThanOrEqual((arrivalOf[Number(l[2])] ?? 0) + ttl);
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('tokenBucket with a store: shape mode (rule 1)', () => {
  let s: ManualTimeScheduler;
  let store: ManualStore;
  let source: Subject<string>;
  beforeEach(() => {
    s = new ManualTimeScheduler();
    store = new ManualStore();
    source = new Subject<string>();
  });

  it('asks once for a value that finds nothing in flight, and once per waiting batch after', () => {
    const { log } = run(s, source, { ...BUCKET, store });
    source.next('a');
    expect(store.requests.map((r) => r.request)).toEqual([
      { mode: 'reserve', cost: 1, capacity: 3, period: 10 },
    ]);
    ['b', 'c', 'd', 'e'].forEach((v) => source.next(v));
    expect(store.requests).toHaveLength(1); // arrivals wait while a request is in flight
    s.advanceBy(5);
    store.open.answer({ delay: 0 });
    // a leaves at the answer; b, c, d (3 tokens: the capacity) go in one request; e waits.
    expect(log).toEqual([['next', 5, 'a']]);
    expect(store.requests).toHaveLength(2);
    expect(store.open.request.cost).toBe(3);
    s.advanceBy(1);
    // The tokens exist in 25 ms: one per period, so b at +5, c at +15, d at +25 from the answer.
    store.open.answer({ delay: 25 });
    s.advanceBy(100);
    expect(log).toEqual([
      ['next', 5, 'a'],
      ['next', 11, 'b'],
      ['next', 21, 'c'],
      ['next', 31, 'd'],
    ]);
    // e is asked for once d has left.
    expect(store.requests).toHaveLength(3);
    expect(store.open.request.cost).toBe(1);
    store.open.answer({ delay: 0 });
    source.complete();
    expect(log.slice(4)).toEqual([
      ['next', 106, 'e'],
      ['complete', 106],
    ]);
    expect(s.pendingCount).toBe(0);
  });

  it('keeps a batch within capacity, in tokens: costly values go alone', () => {
    const costs: Record<string, number> = { a: 1, b: 2, c: 1, d: 3, e: 0 };
    const { log } = run(s, source, { ...BUCKET, store, cost: (v: string) => costs[v] ?? 1 });
    source.next('a');
    ['b', 'c', 'd', 'e'].forEach((v) => source.next(v));
    const costsAsked: number[] = [];
    while (store.openCount > 0) {
      costsAsked.push(store.open.request.cost);
      store.open.answer({ delay: 0 });
    }
    expect(costsAsked).toEqual([1, 3, 3]); // a; b + c; d + e (e costs nothing)
    expect(log.map((l) => l[2])).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('completes once the batch has left; a batch of cost 0 does not ask', () => {
    const { log } = run(s, source, { ...BUCKET, store, cost: 0 });
    source.next('a');
    source.next('b');
    source.complete();
    expect(store.requests).toHaveLength(0);
    expect(log).toEqual([
      ['next', 0, 'a'],
      ['next', 0, 'b'],
      ['complete', 0],
    ]);
  });

  it('counts batch values against queueCapacity: arrivals beyond it overflow', () => {
    const { log } = run(s, source, { ...BUCKET, store, queueCapacity: 2 });
    ['a', 'b', 'c', 'd'].forEach((v) => source.next(v));
    // a is in the request, b waits for the next one: 2 values wait.
    expect(log).toEqual([
      ['drop', 0, 'c', 'overflow'],
      ['drop', 0, 'd', 'overflow'],
    ]);
    store.open.answer({ delay: 10 }); // a leaves at 10
    source.next('e');
    expect(log[2]).toEqual(['drop', 0, 'e', 'overflow']);
    s.advanceBy(10);
    expect(log[3]).toEqual(['next', 10, 'a']);
    // b is in the next request: one more may wait.
    source.next('f');
    source.next('g');
    expect(log.slice(4)).toEqual([['drop', 10, 'g', 'overflow']]);
    store.open.answer({ delay: 10 });
    s.advanceBy(10);
    expect(log.slice(5)).toEqual([['next', 20, 'b']]);
  });

  it("errors with overflow: 'error' when the queue is full, the batch reported first", () => {
    const { log } = run(s, source, { ...BUCKET, store, queueCapacity: 2, overflow: 'error' });
    ['a', 'b', 'c'].forEach((v) => source.next(v));
    expect(log).toEqual([
      ['drop', 0, 'c', 'overflow'],
      ['drop', 0, 'a', 'cleared'],
      ['drop', 0, 'b', 'cleared'],
      ['error', 0, new BufferOverflowError(2, 'c', 'tokenBucket').message],
    ]);
    expect(s.pendingCount).toBe(0);
  });

  it('applies ttl while values wait for a request, and to the release time the store answered', () => {
    const { log } = run(s, source, { ...BUCKET, store, ttl: 20 });
    source.next('a');
    source.next('b');
    s.advanceBy(5);
    store.open.answer({ delay: 5 }); // a leaves at 10
    s.advanceBy(5);
    expect(log).toEqual([['next', 10, 'a']]);
    // b (arrived at 0, deadline 20) is in the next request; the store says 15 ms: too late.
    store.open.answer({ delay: 15 });
    s.advanceBy(9);
    expect(log).toHaveLength(1);
    s.advanceBy(1);
    expect(log).toEqual([
      ['next', 10, 'a'],
      ['drop', 20, 'b', 'expired'],
    ]);
    // c goes into a request at once; its deadline passes while the store does not answer.
    source.next('c');
    source.next('d');
    expect(store.openCount).toBe(1);
    s.advanceBy(20);
    // d waited in the engine's queue meanwhile: expired there, at the same deadline.
    expect(log.slice(2)).toEqual([
      ['drop', 40, 'c', 'expired'],
      ['drop', 40, 'd', 'expired'],
    ]);
    store.open.answer({ delay: 0 }); // the late answer: nothing left to release
    source.next('e');
    store.open.answer({ delay: 0 });
    expect(log.slice(4)).toEqual([['next', 40, 'e']]);
    expect(s.pendingCount).toBe(0);
  });

  it('measures delays on the operator scheduler, from the answer', () => {
    const { log } = run(s, source, { capacity: 3, tokensPerInterval: 1, interval: 10, store });
    source.next('a');
    s.advanceBy(100);
    store.open.answer({ delay: 7, time: 123_456 });
    s.advanceBy(6);
    expect(log).toEqual([]);
    s.advanceBy(1);
    expect(log).toEqual([['next', 107, 'a']]);
  });

  it('reports the batch before the queue, and both before a source error', () => {
    const { log } = run(s, source, { ...BUCKET, store });
    source.next('a');
    source.next('b');
    store.open.answer({ delay: 50 });
    source.next('c');
    source.error(new Error('boom'));
    expect(log).toEqual([
      ['drop', 0, 'a', 'cleared'],
      ['drop', 0, 'b', 'cleared'],
      ['drop', 0, 'c', 'cleared'],
      ['error', 0, 'boom'],
    ]);
    expect(s.pendingCount).toBe(0);
  });

  it('abandons a request in flight at unsubscribe: its answer is ignored, nothing is scheduled (rule 5)', () => {
    const { log, unsubscribe } = run(s, source, { ...BUCKET, store });
    source.next('a');
    source.next('b');
    unsubscribe();
    expect(log).toEqual([
      ['drop', 0, 'a', 'cleared'],
      ['drop', 0, 'b', 'cleared'],
    ]);
    store.open.answer({ delay: 10 });
    expect(s.pendingCount).toBe(0);
    s.advanceBy(100);
    expect(log).toHaveLength(2);
    expect(store.requests).toHaveLength(1);
  });

  it('stops at once when the downstream unsubscribes from inside a release', () => {
    const seen: string[] = [];
    const subscription = source.pipe(tokenBucket({ ...BUCKET, store, scheduler: s })).subscribe((v) => {
      seen.push(v);
      if (v === 'b') subscription.unsubscribe();
    });
    ['a', 'b', 'c', 'd'].forEach((v) => source.next(v));
    store.open.answer({ delay: 0 });
    store.open.answer({ delay: 0 });
    expect(seen).toEqual(['a', 'b']);
    expect(store.openCount).toBe(0);
    expect(s.pendingCount).toBe(0);
  });

  it('takes values fed back from inside a release in order, without nesting', () => {
    const seen: string[] = [];
    const shared = memoryTokenStore({ scheduler: s });
    source.pipe(tokenBucket({ ...BUCKET, store: shared, scheduler: s })).subscribe((v) => {
      seen.push(v);
      if (v.length < 3) {
        source.next(v + '1');
        source.next(v + '2');
      }
    });
    source.next('a');
    s.advanceBy(1000);
    expect(seen).toEqual(['a', 'a1', 'a2', 'a11', 'a12', 'a21', 'a22']);
  });

  it('feeds a meter: received, released, waiting and wait times', () => {
    const meter = new FlowMeter({ name: 'shared', scheduler: s });
    run(s, source, { ...BUCKET, store, meter });
    source.next('a');
    source.next('b');
    expect(meter.snapshot()).toMatchObject({ received: 2, released: 0, waiting: 2, capacity: Infinity });
    s.advanceBy(4);
    store.open.answer({ delay: 0 });
    expect(meter.snapshot()).toMatchObject({ released: 1, waiting: 1 });
    store.open.answer({ delay: 6 });
    s.advanceBy(6);
    expect(meter.snapshot()).toMatchObject({ released: 2, waiting: 0, tokens: 0 });
    expect(meter.snapshot().wait.max).toBe(10);
  });
});

describe('tokenBucket with a store: police mode (rule 2)', () => {
  let s: ManualTimeScheduler;
  let store: ManualStore;
  let source: Subject<string>;
  beforeEach(() => {
    s = new ManualTimeScheduler();
    store = new ManualStore();
    source = new Subject<string>();
  });

  it('asks for each value at once and applies the answers in arrival order', () => {
    const { log } = run(s, source, { ...BUCKET, store, mode: 'police' });
    ['a', 'b', 'c'].forEach((v) => source.next(v));
    expect(store.requests.map((r) => r.request)).toEqual([
      { mode: 'police', cost: 1, capacity: 3, period: 10 },
      { mode: 'police', cost: 1, capacity: 3, period: 10 },
      { mode: 'police', cost: 1, capacity: 3, period: 10 },
    ]);
    store.requests[2]?.answer({ granted: true });
    store.requests[1]?.answer({ granted: false, delay: 5 });
    expect(log).toEqual([]); // a has not been answered
    s.advanceBy(3);
    source.complete();
    store.requests[0]?.answer({ granted: true });
    expect(log).toEqual([
      ['next', 3, 'a'],
      ['drop', 3, 'b', 'rejected'],
      ['next', 3, 'c'],
      ['complete', 3],
    ]);
  });

  it("errors with RateLimitExceededError under overflow: 'error', later values cleared", () => {
    const { log } = run(s, source, { ...BUCKET, store, mode: 'police', overflow: 'error' });
    ['a', 'b', 'c'].forEach((v) => source.next(v));
    store.requests[0]?.answer({ granted: false, delay: 5 });
    expect(log).toEqual([
      ['drop', 0, 'a', 'rejected'],
      ['drop', 0, 'b', 'cleared'],
      ['drop', 0, 'c', 'cleared'],
      ['error', 0, new RateLimitExceededError('a', 1, 0.5, 'tokenBucket').message],
    ]);
    store.requests[1]?.answer({ granted: true });
    expect(log).toHaveLength(4);
  });

  it('with memoryTokenStore, matches the documented police example', () => {
    const ts = testScheduler();
    const drops = recordDrops<string>(ts);
    ts.run(({ cold, expectObservable }) => {
      const source = cold(' (abcd) 14ms (efg)|');
      const expected = '    (ab)   16ms (ef) -|';
      const options = { capacity: 2, tokensPerInterval: 1, interval: 10, mode: 'police' as const };
      expectObservable(
        source.pipe(tokenBucket({ ...options, store: memoryTokenStore(), onDrop: drops.onDrop })),
      ).toBe(expected);
    });
    expect(drops.timeline.map((d) => [d.value, d.frame])).toEqual([
      ['c', 0],
      ['d', 0],
      ['g', 20],
    ]);
  });

  it('abandons requests in flight at unsubscribe', () => {
    const { log, unsubscribe } = run(s, source, { ...BUCKET, store, mode: 'police' });
    source.next('a');
    unsubscribe();
    store.open.answer({ granted: true });
    expect(log).toEqual([['drop', 0, 'a', 'cleared']]);
    expect(s.pendingCount).toBe(0);
  });
});

describe('tokenBucket when the store fails (rule 4)', () => {
  let s: ManualTimeScheduler;
  let store: ManualStore;
  let source: Subject<string>;
  let failures: [string, StoreErrorMode][];
  const down = new Error('store down');
  beforeEach(() => {
    s = new ManualTimeScheduler();
    store = new ManualStore();
    source = new Subject<string>();
    failures = [];
  });
  const onStoreFailure = (err: unknown, mode: StoreErrorMode) =>
    failures.push([(err as Error).message, mode]);

  describe.each(['shape', 'police'] as const)('%s mode', (mode) => {
    it("'error' (the default): the output errors with the store's error, waiting values cleared", () => {
      const { log } = run(s, source, { ...BUCKET, store, mode, onStoreFailure });
      ['a', 'b'].forEach((v) => source.next(v));
      store.requests[0]?.fail(down);
      expect(log).toEqual([
        ['drop', 0, 'a', 'cleared'],
        ['drop', 0, 'b', 'cleared'],
        ['error', 0, 'store down'],
      ]);
      expect(failures).toEqual([['store down', 'error']]);
      expect(s.pendingCount).toBe(0);
    });

    it('counts every failed store request in the meter, beside onStoreFailure', () => {
      const meter = new FlowMeter({ name: 'shared', scheduler: s });
      run(s, source, { ...BUCKET, store, mode, onStoreError: 'open', onStoreFailure, meter });
      ['a', 'b'].forEach((v) => source.next(v));
      for (const r of store.requests) if (!r.settled) r.fail(down);
      expect(failures).toEqual([['store down', 'open']]);
      expect(meter.snapshot().storeFailures).toBeGreaterThanOrEqual(1);
      const before = meter.snapshot().storeFailures;
      s.advanceBy(1000); // the retry fails too: counted again
      source.next('c');
      for (const r of store.requests) if (!r.settled) r.fail(down);
      expect(meter.snapshot().storeFailures).toBe(before + 1);
    });

    it("'open': values pass without limit until a retry succeeds", () => {
      const { log } = run(s, source, { ...BUCKET, store, mode, onStoreError: 'open', onStoreFailure });
      ['a', 'b'].forEach((v) => source.next(v));
      for (const r of store.requests) if (!r.settled) r.fail(down);
      ['c', 'd', 'e', 'f'].forEach((v) => source.next(v));
      expect(log.map((l) => l[2])).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
      expect(failures).toEqual([['store down', 'open']]);
      const asked = store.requests.length;
      s.advanceBy(1000); // retryInterval: the next value goes to the store
      source.next('g');
      expect(store.requests).toHaveLength(asked + 1);
      store.open.answer({ granted: true });
      source.next('h');
      expect(store.requests).toHaveLength(asked + 2); // back on the store
      expect(log.map((l) => l[2])).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    });

    it("'closed': values are rejected; a failed retry is reported again", () => {
      const { log } = run(s, source, {
        ...BUCKET,
        store,
        mode,
        onStoreError: 'closed',
        retryInterval: 100,
        onStoreFailure,
      });
      source.next('a');
      store.open.fail(down);
      source.next('b');
      expect(log).toEqual([
        ['drop', 0, 'a', 'rejected'],
        ['drop', 0, 'b', 'rejected'],
      ]);
      s.advanceBy(100);
      source.next('c');
      store.open.fail(new Error('still down'));
      expect(log[2]).toEqual(['drop', 100, 'c', 'rejected']);
      expect(failures).toEqual([
        ['store down', 'closed'],
        ['still down', 'closed'],
      ]);
      s.advanceBy(100);
      source.next('d');
      store.open.answer({ granted: true });
      expect(log[3]).toEqual(['next', 200, 'd']);
    });

    it("'local': an in-process bucket at tokensPerInterval / instances takes over", () => {
      const { log } = run(s, source, {
        capacity: 4,
        tokensPerInterval: 1,
        interval: 10,
        store,
        mode,
        onStoreError: 'local',
        instances: 2,
        retryInterval: 100,
        onStoreFailure,
      });
      source.next('a');
      store.open.fail(down);
      // The fallback holds this process's share, 4 / 2 = 2 tokens, and gains one per 20 ms.
      ['b', 'c', 'd'].forEach((v) => source.next(v));
      s.advanceBy(60);
      const times = log.filter((l) => l[0] === 'next').map((l) => l[1]);
      if (mode === 'shape') expect(times).toEqual([0, 0, 20, 40]);
      else expect(times).toEqual([0, 0]);
      expect(failures).toEqual([['store down', 'local']]);
    });
  });

  it('counts a throwing store and an answer that is not a grant as failures', () => {
    const bad: TokenStore = { acquire: () => ({ granted: 'yes' }) as never };
    const { log } = run(s, source, { ...BUCKET, store: bad });
    source.next('a');
    expect(log[1]?.[2]).toMatch(/the store answered \{"granted":"yes"\} to a reserve request/);
    store.throwOnAcquire = down;
    const second = run(s, source, { ...BUCKET, store, onStoreError: 'closed' });
    source.next('b');
    expect(second.log).toEqual([['drop', 0, 'b', 'rejected']]);
  });

  it('errors the output when onStoreFailure throws', () => {
    const { log } = run(s, source, {
      ...BUCKET,
      store,
      onStoreError: 'open',
      onStoreFailure: () => {
        throw new Error('callback');
      },
    });
    source.next('a');
    store.open.fail(down);
    expect(log).toEqual([
      ['drop', 0, 'a', 'cleared'],
      ['error', 0, 'callback'],
    ]);
  });

  it('shares a memoryTokenStore between streams merged into one', () => {
    const shared = memoryTokenStore({ scheduler: s });
    const a = new Subject<string>();
    const b = new Subject<string>();
    const out: [number, string][] = [];
    const limit = { capacity: 2, tokensPerInterval: 1, interval: 10, store: shared, scheduler: s };
    merge(a.pipe(tokenBucket(limit)), b.pipe(tokenBucket(limit))).subscribe((v) => out.push([s.now(), v]));
    a.next('a1');
    b.next('b1');
    a.next('a2');
    b.next('b2');
    s.advanceBy(100);
    expect(out).toEqual([
      [0, 'a1'],
      [0, 'b1'],
      [10, 'a2'],
      [20, 'b2'],
    ]);
  });
});

describe('tokenBucket store options', () => {
  const store = memoryTokenStore();
  const base = { capacity: 1, tokensPerInterval: 1 };
  it.each<[string, Partial<TokenBucketOptions<unknown>>, string]>([
    ['a store without acquire', { store: {} as TokenStore }, 'tokenBucket: `store` must be a TokenStore'],
    [
      'an unknown mode',
      { store, onStoreError: 'retry' as never },
      "tokenBucket: `onStoreError` must be one of 'error', 'open', 'closed', 'local', got \"retry\" (string)",
    ],
    [
      "'local' without instances",
      { store, onStoreError: 'local' },
      'tokenBucket: `instances` is required with onStoreError',
    ],
    [
      'instances 0',
      { store, onStoreError: 'local', instances: 0 },
      'tokenBucket: `instances` must be a positive integer, got 0 (number)',
    ],
    [
      'instances without local',
      { store, onStoreError: 'open', instances: 2 },
      "tokenBucket: `instances` applies only with onStoreError 'local'",
    ],
    [
      'retryInterval with error',
      { store, retryInterval: 10 },
      "tokenBucket: `retryInterval` does not apply with onStoreError 'error'",
    ],
    [
      'a negative retryInterval',
      { store, onStoreError: 'open', retryInterval: -1 },
      'tokenBucket: `retryInterval` must be a finite number >= 0, got -1 (number)',
    ],
    [
      'a store option without store',
      { onStoreError: 'open' },
      'tokenBucket: `onStoreError` applies only with `store`, got "open" (string)',
    ],
    [
      'initialTokens with store',
      { store, initialTokens: 0 },
      'tokenBucket: `initialTokens` does not apply with `store`',
    ],
    [
      'onStoreFailure not a function',
      { store, onStoreFailure: 1 as never },
      'tokenBucket: `onStoreFailure` must be a function, got 1 (number)',
    ],
  ])('refuses %s', (_name, options, message) => {
    expect(() => tokenBucket({ ...base, ...options })).toThrow(message);
  });

  it('accepts every store option together', () => {
    expect(() =>
      tokenBucket({
        ...base,
        store,
        onStoreError: 'local',
        instances: 3,
        retryInterval: 0,
        onStoreFailure: () => undefined,
      }),
    ).not.toThrow();
  });
});

/** Keeps `DropReason` used when only the type is referenced in comments. */
export type Reason = DropReason;
