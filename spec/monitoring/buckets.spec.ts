import { BehaviorSubject, map, Subject, type Subscription } from 'rxjs';
import {
  FlowMeter,
  leakyBucket,
  ManualTimeScheduler,
  tokenBucket,
  type DropReason,
  type FlowSnapshot,
  type LeakyBucketOptions,
  type TokenBucketOptions,
} from 'rxjs-backpressure';
import { recordDrops, testScheduler, type DropRecorder } from '../helpers/marbles';

/*
 * Issue 9 on the token and leaky buckets: the tokens available, computed from the bucket's clock at
 * snapshot time and exact in virtual time (Observable limits that change included); the wait
 * distribution; drop counts against onDrop; gauges back to 0.
 */

const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];
const IDLE = {
  waiting: 0,
  running: 0,
  capacity: 0,
  concurrency: 0,
  tokens: 0,
  subscriptions: 0,
  storeFailures: 0,
};

function expectConsistent(snapshot: FlowSnapshot, drops: readonly [unknown, DropReason][]): void {
  const counts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  for (const [, reason] of drops) counts[reason]++;
  expect(snapshot.dropped).toEqual(counts);
  expect(snapshot.droppedTotal).toBe(drops.length);
  expect(snapshot.received).toBe(snapshot.released + snapshot.droppedTotal + snapshot.waiting);
}

interface Run {
  scheduler: ManualTimeScheduler;
  meter: FlowMeter;
  source: Subject<string>;
  out: [string, number][];
  drops: DropRecorder<string>;
  ended: string | undefined;
  subscription: Subscription;
  /** Advances to `t` and takes a snapshot there. */
  at(t: number): FlowSnapshot;
}

function run(
  make: (common: {
    scheduler: ManualTimeScheduler;
    meter: FlowMeter;
    onDrop: (v: string, r: DropReason) => void;
  }) => ReturnType<typeof tokenBucket<string>>,
): Run {
  const scheduler = new ManualTimeScheduler();
  const meter = new FlowMeter({ name: 'bucket', scheduler });
  const drops = recordDrops<string>(scheduler);
  const source = new Subject<string>();
  const out: [string, number][] = [];
  const result: Run = {
    scheduler,
    meter,
    source,
    out,
    drops,
    ended: undefined,
    subscription: undefined as unknown as Subscription,
    at(t) {
      scheduler.advanceTo(t);
      return meter.snapshot();
    },
  };
  result.subscription = source.pipe(make({ scheduler, meter, onDrop: drops.onDrop })).subscribe({
    next: (v) => out.push([v, scheduler.now()]),
    error: () => (result.ended = 'error'),
    complete: () => (result.ended = 'complete'),
  });
  return result;
}

function token(options: Omit<TokenBucketOptions<string>, 'scheduler' | 'meter' | 'onDrop'>): Run {
  return run((common) => tokenBucket<string>({ ...options, ...common }));
}

function leaky(options: Omit<LeakyBucketOptions<string>, 'scheduler' | 'meter' | 'onDrop'>): Run {
  return run((common) => leakyBucket<string>({ ...options, ...common }));
}

describe('a meter on tokenBucket', () => {
  it('a hand-built run: tokens, waits, drops and the queue, exact in virtual time', () => {
    const r = token({ capacity: 4, tokensPerInterval: 1, interval: 10, queueCapacity: 2 });
    expect(r.meter.snapshot()).toMatchObject({ tokens: 4, capacity: 2, concurrency: 0, subscriptions: 1 });
    ['a', 'b', 'c'].forEach((v) => r.source.next(v));
    expect(r.meter.snapshot()).toMatchObject({ received: 3, released: 3, tokens: 1 });
    expect(r.at(5).tokens).toBe(1.5);
    ['d', 'e', 'f', 'g'].forEach((v) => r.source.next(v)); // d passes, e and f wait, g finds the queue full
    expect(r.meter.snapshot()).toMatchObject({
      received: 7,
      released: 4,
      waiting: 2,
      maxWaiting: 2,
      tokens: 0.5,
      dropped: { overflow: 1 },
    });
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    expect(r.at(10)).toMatchObject({ released: 5, waiting: 1, tokens: 0 });
    expect(r.at(15)).toMatchObject({ released: 5, waiting: 1, tokens: 0.5 });
    expect(r.at(20)).toMatchObject({ released: 6, waiting: 0, tokens: 0 });
    expect(r.at(25).tokens).toBe(0.5);
    r.source.complete();
    expect(r.ended).toBe('complete');
    expect(r.out.map(([, t]) => t)).toEqual([0, 0, 0, 5, 10, 20]);
    expect(r.meter.snapshot()).toEqual({
      name: 'bucket',
      time: 25,
      received: 7,
      released: 6,
      dropped: { overflow: 1, rejected: 0, expired: 0, shed: 0, cleared: 0 },
      droppedTotal: 1,
      maxWaiting: 2,
      maxRunning: 0,
      completed: 0,
      failed: 0,
      wait: { count: 6, sum: 20, min: 0, max: 15, p50: 0, p90: 15, p99: 15 },
      duration: { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 },
      ...IDLE,
    });
  });

  it('tokens follow Observable capacity and rate changes, exactly', () => {
    const capacity = new BehaviorSubject(4);
    const rate = new BehaviorSubject(1);
    const r = token({ capacity, tokensPerInterval: rate, interval: 10, initialTokens: 0 });
    expect(r.meter.snapshot().tokens).toBe(0);
    expect(r.at(10).tokens).toBe(1);
    rate.next(2); // 1 token per 5 ms from now on
    expect(r.at(15).tokens).toBe(2);
    capacity.next(3);
    expect(r.meter.snapshot().tokens).toBe(2);
    expect(r.at(20).tokens).toBe(3);
    expect(r.at(40).tokens).toBe(3);
    capacity.next(1); // clips what is held
    expect(r.meter.snapshot().tokens).toBe(1);
    capacity.next(8); // keeps what is held
    expect(r.meter.snapshot().tokens).toBe(1);
    expect(r.at(50).tokens).toBe(3);
    r.subscription.unsubscribe();
    expect(r.meter.snapshot()).toMatchObject(IDLE);
  });

  it('the queue capacity in force, also when an Observable changes it', () => {
    const queueCapacity = new BehaviorSubject(3);
    const r = token({ capacity: 1, tokensPerInterval: 1, interval: 10, queueCapacity });
    expect(r.meter.snapshot().capacity).toBe(3);
    queueCapacity.next(Infinity);
    expect(r.meter.snapshot().capacity).toBe(Infinity);
    queueCapacity.next(0);
    expect(r.meter.snapshot().capacity).toBe(0);
  });

  it("police mode: nothing may wait (capacity 0), refusals count as 'rejected'", () => {
    const r = token({ capacity: 2, tokensPerInterval: 1, interval: 10, mode: 'police' });
    expect(r.meter.snapshot()).toMatchObject({ capacity: 0, tokens: 2 });
    ['a', 'b', 'c', 'd'].forEach((v) => r.source.next(v));
    expect(r.meter.snapshot()).toMatchObject({
      received: 4,
      released: 2,
      waiting: 0,
      dropped: { rejected: 2 },
    });
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    expect(r.meter.snapshot().wait).toEqual({ count: 2, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 });
  });

  it("a cost function: tokens taken per value; a value that can never pass counts 'rejected'", () => {
    const costs: Record<string, number> = { a: 2, b: 0.5, c: 9 };
    const r = run((common) =>
      tokenBucket<string>({
        capacity: 4,
        tokensPerInterval: 1,
        interval: 10,
        cost: (v) => costs[v]!,
        ...common,
      }),
    );
    r.source.next('a');
    r.source.next('b');
    expect(r.meter.snapshot()).toMatchObject({ released: 2, tokens: 1.5 });
    r.source.next('c');
    expect(r.ended).toBe('error');
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    expect(r.meter.snapshot()).toMatchObject({ received: 3, dropped: { rejected: 1 }, ...IDLE });
  });

  it("ttl: a value that waits too long counts 'expired'", () => {
    const r = token({ capacity: 1, tokensPerInterval: 1, interval: 10, ttl: 5 });
    ['a', 'b'].forEach((v) => r.source.next(v));
    expect(r.at(6)).toMatchObject({ waiting: 0, dropped: { expired: 1 } });
    expectConsistent(r.meter.snapshot(), r.drops.drops);
  });

  describe('gauges return to 0', () => {
    function busy(): Run {
      const r = token({ capacity: 1, tokensPerInterval: 1, interval: 10 });
      ['a', 'b', 'c'].forEach((v) => r.source.next(v));
      expect(r.meter.snapshot()).toMatchObject({ waiting: 2, subscriptions: 1, capacity: Infinity });
      return r;
    }

    it('after completion', () => {
      const r = busy();
      r.source.complete();
      expect(r.at(20)).toMatchObject({ ...IDLE, released: 3, maxWaiting: 2 });
      expect(r.ended).toBe('complete');
    });

    it('after a source error', () => {
      const r = busy();
      r.source.error(new Error('x'));
      expectConsistent(r.meter.snapshot(), r.drops.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 2 } });
    });

    it('after unsubscribe', () => {
      const r = busy();
      r.at(10);
      r.subscription.unsubscribe();
      expectConsistent(r.meter.snapshot(), r.drops.drops);
      expect(r.meter.snapshot()).toMatchObject({ ...IDLE, released: 2, dropped: { cleared: 1 } });
      // The bucket's timer is gone, and the meter schedules nothing of its own.
      expect(r.scheduler.pendingCount).toBe(0);
    });
  });
});

describe('a meter on leakyBucket', () => {
  it('waits and tokens, exact in virtual time (marbles)', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const meter = new FlowMeter({ name: 'leaky' });
      const source = hot('(abcd)-----|');
      const output = '    a 7ms b 7ms c 7ms (d|)';
      // (Snapshots off the release frames: at a shared frame the order of timers is the scheduler's.)
      const tokens = '    ------p-----q-----r';
      expectObservable(source.pipe(leakyBucket({ interval: 8, meter }))).toBe(output);
      expectObservable(meter.snapshots$(6).pipe(map((s) => s.tokens)), '^ 20ms !').toBe(tokens, {
        p: 0.75,
        q: 0.5,
        r: 0.25,
      });
      flush();
      expect(meter.snapshot()).toMatchObject({
        received: 4,
        released: 4,
        maxWaiting: 3,
        wait: { count: 4, sum: 48, min: 0, max: 24, p50: 8, p90: 24, p99: 24 },
        ...IDLE,
      });
    });
  });

  it('tokens follow an interval that changes, exactly', () => {
    const interval = new BehaviorSubject(10);
    const r = leaky({ interval });
    expect(r.meter.snapshot()).toMatchObject({ tokens: 1, capacity: Infinity });
    r.source.next('a');
    r.source.next('b');
    expect(r.meter.snapshot()).toMatchObject({ tokens: 0, waiting: 1 });
    expect(r.at(5).tokens).toBe(0.5);
    expect(r.at(10)).toMatchObject({ tokens: 0, waiting: 0, released: 2 });
    interval.next(20); // the next release is due one new interval after b's
    expect(r.meter.snapshot().tokens).toBe(0);
    expect(r.at(20).tokens).toBe(0.5);
    expect(r.at(30).tokens).toBe(1);
    expect(r.at(99).tokens).toBe(1);
  });

  it('capacity in force, drops against onDrop', () => {
    const capacity = new BehaviorSubject(1);
    const r = leaky({ interval: 10, capacity, overflow: 'drop-oldest' });
    expect(r.meter.snapshot().capacity).toBe(1);
    ['a', 'b', 'c', 'd'].forEach((v) => r.source.next(v));
    expect(r.meter.snapshot()).toMatchObject({ waiting: 1, dropped: { overflow: 2 } });
    capacity.next(5);
    expect(r.meter.snapshot().capacity).toBe(5);
    r.subscription.unsubscribe();
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { overflow: 2, cleared: 1 } });
  });

  it('gauges return to 0 after an error', () => {
    const r = leaky({ interval: 10 });
    ['a', 'b', 'c'].forEach((v) => r.source.next(v));
    r.source.error(new Error('x'));
    expectConsistent(r.meter.snapshot(), r.drops.drops);
    expect(r.meter.snapshot()).toMatchObject({ ...IDLE, dropped: { cleared: 2 } });
    expect(r.scheduler.pendingCount).toBe(0);
  });
});
