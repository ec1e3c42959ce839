// The example "When the consumer slows down" of docs/adaptive.md (the section on adaptiveCapacity):
// the table and every figure around it come from this run.
import { map, Subject, timer } from 'rxjs';
import { adaptiveCapacity, bufferDropping, FlowMeter } from 'rxjs-backpressure';
import { resetVirtualTime, withVirtualTime, type ManualTimeScheduler } from 'rxjs-backpressure/testing';

afterEach(() => {
  resetVirtualTime();
});

/** The consumer's time per value, by the instant it starts: 10 ms, 50 ms from 1 s, 10 ms again from 2 s. */
const serviceTime = (start: number): number => (start >= 1000 && start < 2000 ? 50 : 10);

interface Run {
  /** [time, capacity, values waiting], read at each instant just before its arrival. */
  readings: [number, number, number][];
  /** [arrival time, ms waited before the consumer took it] for every value it took. */
  waits: [number, number][];
  /** Arrival times of the values refused. */
  refused: number[];
  /** Values refused after they had been admitted to the queue (none: a lowered capacity drops nothing). */
  droppedLater: number;
}

/**
 * One value every 5 ms for 3 s; the consumer takes one at a time (concurrency 1), behind
 * `bufferDropping(adaptiveCapacity({ maxWait: 100 }), ...)`, in virtual time.
 */
function run(): Run {
  return withVirtualTime((scheduler: ManualTimeScheduler) => {
    const meter = new FlowMeter({ name: 'consumer' });
    const source = new Subject<number>();
    const arrivedAt: number[] = [];
    const waits: [number, number][] = [];
    const refused: number[] = [];
    let droppedLater = 0;
    const subscription = source
      .pipe(
        bufferDropping(
          adaptiveCapacity({ maxWait: 100 }),
          (v) => {
            const now = scheduler.now();
            waits.push([arrivedAt[v]!, now - arrivedAt[v]!]);
            return timer(serviceTime(now)).pipe(map(() => v));
          },
          {
            meter,
            onDrop: (v, reason) => {
              if (reason === 'cleared') return; // the unsubscription at the end
              expect(reason).toBe('overflow');
              refused.push(arrivedAt[v]!);
              if (scheduler.now() !== arrivedAt[v]) droppedLater++;
            },
          },
        ),
      )
      .subscribe();
    const readings: [number, number, number][] = [];
    for (let t = 0, v = 0; t < 3000; t += 5, v++) {
      scheduler.advanceTo(t); // the completions of this instant happen first
      const { capacity, waiting } = meter.snapshot();
      readings.push([t, capacity, waiting]);
      arrivedAt[v] = t;
      source.next(v);
    }
    subscription.unsubscribe();
    return { readings, waits, refused, droppedLater };
  });
}

describe('docs/adaptive.md, "When the consumer slows down"', () => {
  const r = run();
  const reading = (t: number): [number, number, number] => r.readings.find(([time]) => time === t)!;
  /** The longest wait of the values that arrived in [from, to) and that `filter` keeps. */
  const longestWait = (
    from: number,
    to: number,
    filter: (arrival: number, wait: number) => boolean = () => true,
  ) => Math.max(...r.waits.filter(([a, w]) => a >= from && a < to && filter(a, w)).map(([, w]) => w));

  it('the table: capacity and values waiting, read just before the arrival of each instant', () => {
    const times = [0, 100, 200, 400, 1000, 1100, 1200, 1400, 2000, 2100, 2200, 2400];
    expect(times.map((t) => reading(t)[1])).toEqual([1, 6, 9, 10, 10, 5, 3, 2, 2, 7, 9, 10]);
    expect(times.map((t) => reading(t)[2])).toEqual([0, 4, 7, 8, 8, 7, 5, 1, 1, 5, 7, 8]);
  });

  it('up to 1 s: the capacity settles at 10 (9 between completions), every value that waits starts within 90 ms, about half are refused', () => {
    const settled = r.readings.filter(([t]) => t >= 400 && t <= 1000).map(([, capacity]) => capacity);
    expect(new Set(settled)).toEqual(new Set([9, 10]));
    expect(longestWait(0, 1000, (a, w) => a + w < 1000)).toBe(90);
    expect(r.refused.filter((a) => a < 1000)).toHaveLength(91); // of the 200 that arrived
  });

  it('after the slowdown: the capacity falls to the new level (2) within 300 ms; from 1.2 s on every value that waits starts within 100 ms', () => {
    expect(reading(1300)[1]).toBe(2);
    const slow = r.readings.filter(([t]) => t >= 1300 && t <= 2000).map(([, capacity]) => capacity);
    expect(new Set(slow)).toEqual(new Set([1, 2]));
    expect(longestWait(1200, 2000)).toBe(100);
  });

  it('nothing admitted at the old speed is dropped: the last of those values, admitted at 1 s, waited 450 ms', () => {
    expect(r.droppedLater).toBe(0);
    expect(longestWait(0, 3000)).toBe(450);
    expect(r.waits.filter(([, w]) => w === 450)).toEqual([[1000, 450]]);
  });

  it('when the consumer speeds up again (2 s), the capacity rises back to 10 within 300 ms', () => {
    expect(reading(2300)[1]).toBe(10);
    expect(longestWait(2000, 3000)).toBe(90);
  });
});
