import { EMPTY, NEVER, Subject, take, timer, map } from 'rxjs';
import { adaptiveConcurrency, bufferDropping, pullMap } from 'rxjs-backpressure';
import { AimdLimit, GradientLimit, VegasLimit, type LimitAlgorithm } from '../../src/adaptive/algorithms';
import { ManualTimeScheduler, withVirtualTime } from 'rxjs-backpressure/testing';

const bounds = { initial: 10, min: 1, max: 200 };

describe('the algorithms on synthetic samples', () => {
  it('gradient: steady latency with the limit in use grows it; latency doubling shrinks it', () => {
    const g: LimitAlgorithm = new GradientLimit(bounds);
    for (let i = 0; i < 200; i++) g.sample(10, g.limit, false);
    const grown = g.limit;
    expect(grown).toBeGreaterThan(30);
    for (let i = 0; i < 20; i++) g.sample(20, g.limit, false);
    expect(g.limit).toBeLessThan(grown);
  });

  it('gradient: a lasting queue is not taken for the new normal (no drift), and the limit grows back after it', () => {
    const g: LimitAlgorithm = new GradientLimit(bounds);
    // 30 workers, 10 ms per call: latency steady while the limit is in use.
    for (let i = 0; i < 600; i++) g.sample(10, g.limit, false);
    expect(g.limit).toBeGreaterThan(30);
    // 1 worker: every call waits for the others, latency 10 ms per call in flight.
    const queued = () => g.sample(10 * Math.floor(g.limit), Math.floor(g.limit), false);
    for (let i = 0; i < 500; i++) queued();
    const settled = g.limit;
    expect(settled).toBeLessThanOrEqual(2 * 2 + 0.5); // 2 x queueSize
    for (let i = 0; i < 6000; i++) queued(); // a minute at 100 calls per second
    expect(g.limit).toBeLessThanOrEqual(settled + 0.01);
    // The workers return: latency back to 10 ms, the limit grows again at once.
    for (let i = 0; i < 100; i++) g.sample(10, g.limit, false);
    expect(g.limit).toBeGreaterThan(20);
  });

  it('gradient: a moderate lasting rise (1.5x) is learned at the usual pace', () => {
    const g: LimitAlgorithm = new GradientLimit(bounds);
    for (let i = 0; i < 600; i++) g.sample(10, g.limit, false);
    const before = g.limit;
    for (let i = 0; i < 3000; i++) g.sample(15, g.limit, false);
    expect(g.limit).toBeGreaterThanOrEqual(before * 0.9);
  });

  it('gradient: an app-limited caller (few in flight) does not grow the limit', () => {
    const g: LimitAlgorithm = new GradientLimit(bounds);
    for (let i = 0; i < 200; i++) g.sample(10, 2, false);
    expect(g.limit).toBe(10);
  });

  it('aimd: +1 while at least half the limit is used, times the backoff ratio on an error', () => {
    const a = new AimdLimit(bounds);
    a.sample(10, 5, false);
    expect(a.limit).toBe(11);
    a.sample(10, 1, false);
    expect(a.limit).toBe(11);
    a.sample(10, 11, true);
    expect(a.limit).toBe(9); // floor(11 * 0.9)
    a.sample(6000, 9, false); // slower than the 5 s timeout: a failure
    expect(a.limit).toBe(8);
  });

  it('vegas: no queue grows it fast; a long queue shrinks it', () => {
    const v = new VegasLimit(bounds);
    v.sample(10, 10, false); // first sample: the no-load time
    v.sample(10, 10, false);
    expect(v.limit).toBe(16); // 10 + 6 * log
    v.sample(100, 16, false); // queue = ceil(16 * 0.9) = 15 > 6: shrink by log
    expect(v.limit).toBe(15);
  });

  it('keeps every algorithm within [min, max]', () => {
    for (const make of [
      () => new GradientLimit({ initial: 5, min: 3, max: 8 }),
      () => new AimdLimit({ initial: 5, min: 3, max: 8 }),
      () => new VegasLimit({ initial: 5, min: 3, max: 8 }),
    ]) {
      const a = make();
      for (let i = 0; i < 500; i++) a.sample(10, 8, false);
      expect(a.limit).toBeLessThanOrEqual(8);
      for (let i = 0; i < 500; i++) a.sample(1000 + i, 8, true);
      expect(a.limit).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('adaptiveConcurrency in an operator', () => {
  it('calls onChange once per change and ignores cancelled calls', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const changes: number[] = [];
      const concurrency = adaptiveConcurrency({
        algorithm: 'aimd',
        initial: 4,
        onChange: (n) => changes.push(n),
      });
      const source = new Subject<number>();
      const subscription = source
        .pipe(bufferDropping(0, (v) => timer(10).pipe(map(() => v)), { concurrency }))
        .subscribe();
      for (let i = 0; i < 4; i++) source.next(i);
      // The 4 calls started with 1, 2, 3 and 4 in flight: the last three used at least half the limit.
      scheduler.advanceBy(10);
      expect(changes).toEqual([5, 6, 7]);
      for (let i = 0; i < 8; i++) source.next(i);
      subscription.unsubscribe(); // 8 calls cancelled: no sample, no change
      scheduler.advanceBy(100);
      expect(changes).toEqual([5, 6, 7]);
      // Inners ended early by take inside project complete normally: samples, not failures.
      const fresh = adaptiveConcurrency({ algorithm: 'aimd', initial: 2, onChange: (n) => changes.push(-n) });
      const s2 = new Subject<number>();
      s2.pipe(bufferDropping(0, () => NEVER.pipe(take(0)), { concurrency: fresh })).subscribe();
      s2.next(1);
      expect(changes).toEqual([5, 6, 7, -3]); // a success with half the limit in use: +1, not a backoff
    });
  });

  it('drives pullMap too', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const changes: number[] = [];
      const concurrency = adaptiveConcurrency({
        algorithm: 'aimd',
        initial: 2,
        onChange: (n) => changes.push(n),
      });
      const seen: number[] = [];
      pullMap(
        Array.from({ length: 10 }, (_, i) => i),
        (v) => timer(10).pipe(map(() => v)),
        { concurrency },
      ).subscribe((v) => seen.push(v));
      scheduler.advanceBy(1000);
      expect(seen).toHaveLength(10);
      expect(changes[0]).toBe(3);
    });
  });
});

describe('adaptiveConcurrency bad input', () => {
  it.each([
    [{ min: 5, max: 2 }, new RangeError('adaptiveConcurrency: `min` 5 is above `max` 2')],
    [
      { initial: 300 },
      new RangeError('adaptiveConcurrency: `initial` must be a number from 1 to 200, got 300 (number)'),
    ],
    [
      { algorithm: 'bbr' },
      new RangeError(
        "adaptiveConcurrency: `algorithm` must be 'gradient', 'aimd' or 'vegas', got \"bbr\" (string)",
      ),
    ],
    [{ min: 0 }, new RangeError('adaptiveConcurrency: `min` must be a positive integer, got 0 (number)')],
  ])('refuses %p', (options, error) => {
    expect(() => adaptiveConcurrency(options as never)).toThrow(error);
  });

  it('is accepted wherever concurrency is, and nothing else is', () => {
    expect(() => bufferDropping(0, () => EMPTY, { concurrency: adaptiveConcurrency() })).not.toThrow();
    expect(() => pullMap([], () => EMPTY, { concurrency: adaptiveConcurrency() })).not.toThrow();
    expect(() => bufferDropping(0, () => EMPTY, { concurrency: {} as never })).toThrow(TypeError);
  });
});
