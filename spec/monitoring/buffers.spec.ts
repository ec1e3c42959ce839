import { BehaviorSubject, map, Subject, timer, type Observable, type SchedulerLike } from 'rxjs';
import {
  bufferFixed,
  bufferPriority,
  FlowMeter,
  ManualTimeScheduler,
  type DropReason,
  type FlowSnapshot,
} from 'rxjs-backpressure';
import { BUFFERS, drive, type BufferCase, type Driven } from '../helpers/buffers';
import { testScheduler } from '../helpers/marbles';

/*
 * Issue 9 on the five buffers (bufferBounded with two strategies): every figure of the snapshot in
 * hand-built cases, exact in virtual time; the drop counts against onDrop; gauges back to 0 however
 * the stream ends; the limits in force, Observable ones included.
 */

const REASONS: readonly DropReason[] = ['overflow', 'rejected', 'expired', 'shed', 'cleared'];

/** The drop counts onDrop saw, per reason, every reason present. */
function dropCounts(drops: readonly [unknown, DropReason][]): Record<DropReason, number> {
  const counts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  for (const [, reason] of drops) counts[reason]++;
  return counts;
}

/** Rule 1 and the onDrop rule, checked on one snapshot. */
function expectConsistent(snapshot: FlowSnapshot, drops: readonly [unknown, DropReason][]): void {
  expect(snapshot.dropped).toEqual(dropCounts(drops));
  expect(snapshot.droppedTotal).toBe(drops.length);
  expect(snapshot.received).toBe(snapshot.released + snapshot.droppedTotal + snapshot.waiting);
}

/** The gauges of a meter that watches nothing any more. */
const IDLE = {
  waiting: 0,
  running: 0,
  capacity: 0,
  concurrency: 0,
  tokens: 0,
  subscriptions: 0,
  storeFailures: 0,
};

function metered(
  buffer: BufferCase,
  capacity: number | Observable<number>,
  options: Parameters<typeof drive>[2] = {},
): { d: Driven; meter: FlowMeter; at: (t: number) => FlowSnapshot } {
  const scheduler = new ManualTimeScheduler();
  const meter = new FlowMeter({ name: buffer.label, scheduler });
  const d = drive(buffer, capacity, { meter, ...options }, scheduler);
  const at = (t: number): FlowSnapshot => {
    scheduler.advanceTo(t);
    return meter.snapshot();
  };
  return { d, meter, at };
}

describe.each(BUFFERS)('a meter on $label', (buffer) => {
  it('a hand-built run: every figure, exact in virtual time', () => {
    const { d, meter, at } = metered(buffer, 2, { onError: 'continue' });
    d.source.next('a'); // runs 0-5
    expect(at(1)).toMatchObject({ received: 1, released: 1, waiting: 0, running: 1 });
    d.source.next('b'); // waits 1-5, runs 5-6 and fails
    at(3);
    d.source.next('c'); // waits 3-6, runs 6-10
    expect(meter.snapshot()).toMatchObject({
      time: 3,
      received: 3,
      released: 1,
      waiting: 2,
      maxWaiting: 2,
      running: 1,
      maxRunning: 1,
      capacity: 2,
      concurrency: 1,
      subscriptions: 1,
    });
    at(5);
    d.finish('a');
    expect(meter.snapshot()).toMatchObject({ released: 2, waiting: 1, running: 1, completed: 1 });
    at(6);
    d.fail('b');
    expect(meter.snapshot()).toMatchObject({ released: 3, waiting: 0, completed: 1, failed: 1 });
    at(10);
    d.finish('c');
    d.source.complete();
    expect(d.ended).toEqual({ kind: 'complete' });
    expect(meter.snapshot()).toEqual({
      name: buffer.label,
      time: 10,
      received: 3,
      released: 3,
      dropped: { overflow: 0, rejected: 0, expired: 0, shed: 0, cleared: 0 },
      droppedTotal: 0,
      maxWaiting: 2,
      maxRunning: 1,
      completed: 2,
      failed: 1,
      // waits: a 0, b 4, c 3; durations: a 5, b 1 (failed), c 4.
      wait: { count: 3, sum: 7, min: 0, max: 4, p50: 3, p90: 4, p99: 4 },
      duration: { count: 3, sum: 10, min: 1, max: 5, p50: 4, p90: 5, p99: 5 },
      ...IDLE,
    });
  });

  it('drop counts match onDrop exactly, per reason, whatever the strategy does when full', () => {
    const { d, meter } = metered(buffer, 1);
    for (const v of ['a', 'b', 'c', 'd']) {
      d.source.next(v);
      expectConsistent(meter.snapshot(), d.drops.drops);
    }
    expect(d.drops.drops.length).toBeGreaterThan(0);
    expect(meter.snapshot().dropped[buffer.dropReason]).toBeGreaterThan(0);
    d.unsubscribe();
    expectConsistent(meter.snapshot(), d.drops.drops);
    // bufferFixed fails at c, so d never reaches it.
    expect(meter.snapshot()).toMatchObject({ received: buffer.overflow === 'error' ? 3 : 4, ...IDLE });
  });

  it('a value that waits past its ttl counts as expired', () => {
    const { d, meter, at } = metered(buffer, 3, { ttl: 4 });
    d.source.next('a');
    d.source.next('b');
    at(2);
    d.source.next('c');
    at(5); // b expires after the releases of 4
    expect(d.drops.drops).toEqual([['b', 'expired']]);
    expectConsistent(meter.snapshot(), d.drops.drops);
    expect(meter.snapshot()).toMatchObject({ waiting: 1, dropped: { expired: 1 } });
    at(7); // c expires at 6
    d.finish('a');
    expect(meter.snapshot()).toMatchObject({ received: 3, released: 1, waiting: 0, droppedTotal: 2 });
  });

  describe('gauges return to 0', () => {
    /** Two running (concurrency 2), two waiting. */
    function busy(): ReturnType<typeof metered> {
      const run = metered(buffer, 5, { concurrency: 2 });
      for (const v of ['a', 'b', 'c', 'd']) run.d.source.next(v);
      expect(run.meter.snapshot()).toMatchObject({ waiting: 2, running: 2, subscriptions: 1 });
      return run;
    }

    it('after completion', () => {
      const { d, meter } = busy();
      d.source.complete();
      d.finish('a');
      d.finish('b');
      d.finish('c');
      expect(meter.snapshot()).toMatchObject({ running: 1, subscriptions: 1 });
      d.finish('d');
      expect(d.ended).toEqual({ kind: 'complete' });
      expect(meter.snapshot()).toMatchObject({ ...IDLE, maxWaiting: 2, maxRunning: 2, completed: 4 });
    });

    it('after a source error (waiting values cleared, running inners cancelled, not sampled)', () => {
      const { d, meter } = busy();
      d.source.error(new Error('source failed'));
      expect(d.ended?.kind).toBe('error');
      expectConsistent(meter.snapshot(), d.drops.drops);
      expect(meter.snapshot()).toMatchObject({
        ...IDLE,
        dropped: { cleared: 2 },
        completed: 0,
        failed: 0,
        duration: { count: 0 },
      });
    });

    it('after an inner error', () => {
      const { d, meter } = busy();
      d.fail('a');
      expect(d.ended?.kind).toBe('error');
      expect(meter.snapshot()).toMatchObject({ ...IDLE, failed: 1, completed: 0, dropped: { cleared: 2 } });
      expect(meter.snapshot().duration.count).toBe(1);
    });

    it('after unsubscribe', () => {
      const { d, meter } = busy();
      d.unsubscribe();
      expectConsistent(meter.snapshot(), d.drops.drops);
      expect(meter.snapshot()).toMatchObject({ ...IDLE, received: 4, released: 2, dropped: { cleared: 2 } });
    });
  });

  it('the limits in force: capacity and concurrency, also when Observables change them', () => {
    const capacity = new BehaviorSubject(2);
    const concurrency = new BehaviorSubject(1);
    const { d, meter } = metered(buffer, capacity, { concurrency });
    expect(meter.snapshot()).toMatchObject({ capacity: 2, concurrency: 1 });
    for (const v of ['a', 'b', 'c']) d.source.next(v);
    capacity.next(Infinity);
    expect(meter.snapshot()).toMatchObject({ capacity: Infinity, concurrency: 1, running: 1, waiting: 2 });
    concurrency.next(3);
    expect(meter.snapshot()).toMatchObject({ capacity: Infinity, concurrency: 3, running: 3, waiting: 0 });
    expect(meter.snapshot()).toMatchObject({ maxRunning: 3, maxWaiting: 2 });
    capacity.next(0);
    concurrency.next(2);
    expect(meter.snapshot()).toMatchObject({ capacity: 0, concurrency: 2 });
    d.unsubscribe();
    expect(meter.snapshot()).toMatchObject(IDLE);
  });

  it('a fallback (onError function) runs as an inner of its own: failed, then completed', () => {
    const { d, meter, at } = metered(buffer, 2, {
      onError: (_err, v) => timer(3, d.scheduler).pipe(map(() => `${v}'`)),
    });
    d.source.next('a');
    at(2);
    d.fail('a');
    expect(meter.snapshot()).toMatchObject({ running: 1, failed: 1, completed: 0 });
    at(5);
    expect(d.out).toEqual(["a'"]);
    expect(meter.snapshot()).toMatchObject({
      released: 1,
      running: 0,
      maxRunning: 1,
      failed: 1,
      completed: 1,
      duration: { count: 2, sum: 5, min: 2, max: 3 },
    });
  });
});

describe('wait and duration percentiles, exact in virtual time', () => {
  it('ten values at once through bufferFixed(Infinity), each taking one frame more than the last', () => {
    testScheduler().run(({ hot, expectObservable, flush }) => {
      const meter = new FlowMeter({ name: 'ten' });
      const frames: Record<string, number> = { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10 };
      const source = hot('(abcdefghij|)');
      // Each starts when the one before ends: at 0, 1, 3, 6, 10, 15, 21, 28, 36, 45.
      const output = '   -a-b--c---d----e-----f------g-------h--------i---------(j|)';
      expectObservable(
        source.pipe(bufferFixed(Infinity, (v) => timer(frames[v]!).pipe(map(() => v)), { meter })),
      ).toBe(output);
      flush();
      expect(meter.snapshot()).toMatchObject({
        received: 10,
        released: 10,
        maxWaiting: 9,
        completed: 10,
        wait: { count: 10, sum: 165, min: 0, max: 45, p50: 10, p90: 36, p99: 45 },
        duration: { count: 10, sum: 55, min: 1, max: 10, p50: 5, p90: 9, p99: 10 },
      });
    });
  });

  it('bufferPriority: the wait is arrival to release, whatever the order of release', () => {
    testScheduler().run(({ hot, cold, expectObservable, flush }) => {
      const meter = new FlowMeter({ name: 'priority' });
      const rank: Record<string, number> = { a: 0, b: 1, c: 3, d: 2 };
      const source = hot('a-b-c-d------|');
      const inner = cold('----(x|)');
      // a runs 0-4; then c (waited 0), d (waited 2), b (waited 10).
      const output = '   ----a---c---d---(b|)';
      expectObservable(
        source.pipe(bufferPriority(3, (v) => inner.pipe(map(() => v)), { priority: (v) => rank[v]!, meter })),
      ).toBe(output);
      flush();
      expect(meter.snapshot().wait).toEqual({ count: 4, sum: 12, min: 0, max: 10, p50: 0, p90: 10, p99: 10 });
      expect(meter.snapshot().duration).toEqual({
        count: 4,
        sum: 16,
        min: 4,
        max: 4,
        p50: 4,
        p90: 4,
        p99: 4,
      });
    });
  });
});

describe('clock reads', () => {
  it('a run that ends and the release it makes room for share one reading; the figures stay exact', () => {
    const clock = new ManualTimeScheduler();
    let reads = 0;
    const counting: SchedulerLike = {
      now: () => {
        reads++;
        return clock.now();
      },
      schedule: (work, delay, state) => clock.schedule(work, delay, state),
    };
    const meter = new FlowMeter({ name: 'shared', scheduler: counting });
    const source = new Subject<number>();
    const inners = [new Subject<number>(), new Subject<number>(), new Subject<number>()];
    source.pipe(bufferFixed(Infinity, (v) => inners[v]!, { meter, scheduler: counting })).subscribe();
    // The subscription's clock reads once when it starts.
    expect(reads).toBe(1);
    source.next(0); // released at once: no read for its wait, one for its start
    source.next(1); // waits: one read for its arrival
    source.next(2);
    expect(reads).toBe(4);
    clock.advanceTo(5);
    inners[0]!.complete(); // one read: the end of 0, the drain's time (1's wait), ...
    expect(reads).toBe(6); // ... then the start of 1, read after project ran
    clock.advanceTo(7);
    inners[1]!.complete();
    expect(reads).toBe(8);
    clock.advanceTo(10);
    inners[2]!.complete();
    expect(reads).toBe(9);
    expect(meter.snapshot()).toMatchObject({
      received: 3,
      released: 3,
      completed: 3,
      waiting: 0,
      running: 0,
      wait: { count: 3, sum: 12, min: 0, max: 7 },
      duration: { count: 3, sum: 10, min: 2, max: 5 },
    });
  });
});
