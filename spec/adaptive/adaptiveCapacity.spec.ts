import { map, Subject, timer } from 'rxjs';
import {
  adaptiveCapacity,
  bufferDropping,
  FlowMeter,
  pullFeedback,
  type DropReason,
} from 'rxjs-backpressure';
import { CapacityEstimator } from '../../src/adaptive/adaptiveCapacity';
import { withVirtualTime, type ManualTimeScheduler } from 'rxjs-backpressure/testing';

describe('the capacity estimate', () => {
  it('is min before the first completion, then about the completions of the last maxWait', () => {
    const e = new CapacityEstimator({ maxWait: 100, min: 1, max: 1000 });
    expect(e.capacityAt(0)).toBe(1);
    // 10 completions per 100 ms (one every 10 ms) for a second: the estimate settles near 10.
    for (let t = 0; t <= 1000; t += 10) e.completed(t);
    expect(e.capacityAt(1000)).toBeGreaterThanOrEqual(9);
    expect(e.capacityAt(1000)).toBeLessThanOrEqual(11);
    // The consumer stops: the capacity falls without any completion, read at arrival.
    expect(e.capacityAt(1300)).toBeLessThanOrEqual(1);
  });

  it('stays within [min, max]', () => {
    const e = new CapacityEstimator({ maxWait: 100, min: 3, max: 5 });
    for (let t = 0; t < 1000; t++) e.completed(t);
    expect(e.capacityAt(1000)).toBe(5);
    expect(e.capacityAt(100_000)).toBe(3);
  });
});

describe('adaptiveCapacity in a buffer', () => {
  it('admits what the consumer can start within maxWait, refusing the rest at once', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const drops: [number, DropReason][] = [];
      const meter = new FlowMeter({ name: 'sized' });
      const source = new Subject<number>();
      // One value every 10 ms finishes: about 10 per 100 ms.
      source
        .pipe(
          bufferDropping(adaptiveCapacity({ maxWait: 100 }), (v) => timer(10).pipe(map(() => v)), {
            onDrop: (v, r) => drops.push([v, r]),
            meter,
          }),
        )
        .subscribe();
      let n = 0;
      // A steady load the consumer keeps up with: nothing is refused once the rate is known.
      for (let t = 0; t < 1000; t += 10) {
        source.next(n++);
        scheduler.advanceBy(10);
      }
      expect(drops.filter(([v]) => v > 5)).toEqual([]);
      // A burst of 50: about 10 may wait (what finishes in 100 ms), the rest overflow at once.
      for (let i = 0; i < 50; i++) source.next(n++);
      const refused = drops.filter(([v]) => v >= 100).length;
      expect(refused).toBeGreaterThanOrEqual(38);
      expect(refused).toBeLessThanOrEqual(41);
      expect(meter.snapshot().capacity).toBeGreaterThanOrEqual(9);
    });
  });

  it('sizes pullFeedback by how fast demand takes values', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const demand = new Subject<number>();
      const drops: number[] = [];
      const source = new Subject<number>();
      source
        .pipe(
          pullFeedback(demand, {
            capacity: adaptiveCapacity({ maxWait: 100, min: 0 }),
            onDrop: (v) => drops.push(v),
          }),
        )
        .subscribe();
      source.next(1); // capacity min 0 before anything was taken: refused
      expect(drops).toEqual([1]);
      demand.next(5);
      for (let i = 0; i < 5; i++) source.next(10 + i); // taken at once
      scheduler.advanceBy(10);
      source.next(20);
      source.next(21);
      expect(drops).toEqual([1]); // five taken in the last 100 ms: room for a few
    });
  });

  it('refuses bad options', () => {
    expect(() => adaptiveCapacity({ maxWait: 0 })).toThrow(
      new RangeError('adaptiveCapacity: `maxWait` must be a finite number > 0, got 0 (number)'),
    );
    expect(() => adaptiveCapacity({ maxWait: 10, min: 5, max: 2 })).toThrow(
      new RangeError('adaptiveCapacity: `min` 5 is above `max` 2'),
    );
    expect(() => adaptiveCapacity(undefined as never)).toThrow(TypeError);
  });
});
