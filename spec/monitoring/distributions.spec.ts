import { Observable, Subject } from 'rxjs';
import {
  bufferFixed,
  bufferPriority,
  FlowMeter,
  leakyBucket,
  ManualTimeScheduler,
  pullFeedback,
  pullMap,
  tokenBucket,
  type Distribution,
} from 'rxjs-backpressure';

/*
 * Issue 9, Tests: wait and duration percentiles within 2% for large random runs, against a sorted
 * array (nearest rank), measured from outside the operator in virtual time. And rule 3's first half,
 * checked structurally: without a meter a buffer reads no clock at all.
 */

/** A small seeded generator, so every run is the same. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!;
}

function expectMatches(actual: Distribution, samples: readonly number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  expect(actual.count).toBe(samples.length);
  expect(actual.sum).toBeCloseTo(
    samples.reduce((a, b) => a + b, 0),
    3,
  );
  expect(actual.min).toBe(sorted[0]);
  expect(actual.max).toBe(sorted[sorted.length - 1]);
  for (const [p, key] of [
    [50, 'p50'],
    [90, 'p90'],
    [99, 'p99'],
  ] as const) {
    const reference = nearestRank(sorted, p);
    expect(actual[key]).toBeGreaterThanOrEqual(reference);
    expect(actual[key]).toBeLessThanOrEqual(reference * 1.02);
  }
}

/** `value` arrives on `source` at `time`. */
function arriveAt<T>(scheduler: ManualTimeScheduler, source: Subject<T>, time: number, value: T): void {
  scheduler.schedule(() => source.next(value), time);
}

/** Work that ends after `ms` on the scheduler, recording its duration. */
function workFor(scheduler: ManualTimeScheduler, ms: number, durations: number[]): Observable<number> {
  return new Observable<number>((subscriber) => {
    const start = scheduler.now();
    const action = scheduler.schedule(() => {
      durations.push(scheduler.now() - start);
      subscriber.next(ms);
      subscriber.complete();
    }, ms);
    return () => action.unsubscribe();
  });
}

describe('large random runs: percentiles within 2% of a sorted array', () => {
  it('bufferFixed, 4,000 values, concurrency 3: wait and duration', () => {
    const random = lcg(7);
    const scheduler = new ManualTimeScheduler();
    const meter = new FlowMeter({ name: 'large', scheduler });
    const source = new Subject<number>();
    const arrivals: number[] = [];
    const waits: number[] = [];
    const durations: number[] = [];
    const project = (v: number): Observable<number> => {
      waits.push(scheduler.now() - arrivals[v]!);
      // Durations from 0.5 ms to ~2 s, heavy-tailed.
      return workFor(scheduler, 0.5 + 10 ** (random() * 3.3), durations);
    };
    source.pipe(bufferFixed(Infinity, project, { concurrency: 3, meter, scheduler })).subscribe();
    let t = 0;
    for (let v = 0; v < 4000; v++) {
      t += Math.floor(random() * 250);
      arrivals[v] = t;
      arriveAt(scheduler, source, t, v);
    }
    scheduler.flush();
    const s = meter.snapshot();
    expect(s).toMatchObject({ received: 4000, released: 4000, completed: 4000, waiting: 0 });
    expect(waits.some((w) => w > 1000)).toBe(true);
    expectMatches(s.wait, waits);
    expectMatches(s.duration, durations);
  });

  it('bufferPriority, 3,000 values, random priorities: the wait of values that overtake each other', () => {
    const random = lcg(11);
    const scheduler = new ManualTimeScheduler();
    const meter = new FlowMeter({ name: 'priority', scheduler });
    const source = new Subject<number>();
    const arrivals: number[] = [];
    const ranks: number[] = [];
    const waits: number[] = [];
    const durations: number[] = [];
    const project = (v: number): Observable<number> => {
      waits.push(scheduler.now() - arrivals[v]!);
      return workFor(scheduler, 1 + Math.floor(random() * 40), durations);
    };
    source
      .pipe(
        bufferPriority(Infinity, project, { priority: (v) => ranks[v]!, concurrency: 2, meter, scheduler }),
      )
      .subscribe();
    let t = 0;
    for (let v = 0; v < 3000; v++) {
      t += Math.floor(random() * 22);
      arrivals[v] = t;
      ranks[v] = Math.floor(random() * 5);
      arriveAt(scheduler, source, t, v);
    }
    scheduler.flush();
    expectMatches(meter.snapshot().wait, waits);
    expectMatches(meter.snapshot().duration, durations);
  });

  it('tokenBucket, 3,000 values at random costs: waits in fractions of a ms', () => {
    const random = lcg(3);
    const scheduler = new ManualTimeScheduler();
    const meter = new FlowMeter({ name: 'bucket', scheduler });
    const source = new Subject<number>();
    const arrivals: number[] = [];
    const costs: number[] = [];
    const waits: number[] = [];
    source
      .pipe(
        tokenBucket<number>({
          capacity: 5,
          tokensPerInterval: 3,
          interval: 10,
          cost: (v) => costs[v]!,
          scheduler,
          meter,
        }),
      )
      .subscribe((v) => waits.push(scheduler.now() - arrivals[v]!));
    let t = 0;
    for (let v = 0; v < 3000; v++) {
      t += random() * 6;
      arrivals[v] = t;
      costs[v] = [0.5, 1, 1, 2, 3][Math.floor(random() * 5)]!;
      arriveAt(scheduler, source, t, v);
    }
    scheduler.flush();
    expect(meter.snapshot()).toMatchObject({ received: 3000, released: 3000 });
    expect(waits.some((w) => !Number.isInteger(w))).toBe(true);
    expectMatches(meter.snapshot().wait, waits);
  });

  it('leakyBucket and pullFeedback, 2,000 values each, one meter: the waits of both together', () => {
    const random = lcg(5);
    const scheduler = new ManualTimeScheduler();
    const meter = new FlowMeter({ name: 'two', scheduler });
    const leaky = new Subject<number>();
    const fed = new Subject<number>();
    const demand = new Subject<number>();
    const arrivals = new Map<string, number>();
    const waits: number[] = [];
    leaky
      .pipe(leakyBucket({ interval: 7, scheduler, meter }))
      .subscribe((v) => waits.push(scheduler.now() - arrivals.get(`l${v}`)!));
    fed
      .pipe(pullFeedback(demand, { scheduler, meter }))
      .subscribe((v) => waits.push(scheduler.now() - arrivals.get(`f${v}`)!));
    let t = 0;
    for (let v = 0; v < 2000; v++) {
      t += Math.floor(random() * 14);
      arrivals.set(`l${v}`, t);
      arrivals.set(`f${v}`, t);
      arriveAt(scheduler, leaky, t, v);
      arriveAt(scheduler, fed, t, v);
      if (random() < 0.5) scheduler.schedule(() => demand.next(Math.floor(random() * 4)), t + 3);
    }
    scheduler.schedule(() => demand.next(Infinity), t + 10);
    scheduler.flush();
    expect(meter.snapshot()).toMatchObject({ received: 4000, released: 4000, waiting: 0 });
    expectMatches(meter.snapshot().wait, waits);
  });

  it('pullMap, 3,000 values, concurrency 4: durations', () => {
    const random = lcg(9);
    const scheduler = new ManualTimeScheduler();
    const meter = new FlowMeter({ name: 'pulled', scheduler });
    const durations: number[] = [];
    const input = Array.from({ length: 3000 }, () => 10 ** (random() * 4));
    pullMap(input, (ms) => workFor(scheduler, ms, durations), { concurrency: 4, meter }).subscribe();
    scheduler.flush();
    expect(meter.snapshot()).toMatchObject({ received: 3000, completed: 3000, maxRunning: 4, running: 0 });
    expectMatches(meter.snapshot().duration, durations);
  });
});

describe('rule 3: without a meter nothing is measured', () => {
  /** A scheduler that counts the clock reads. */
  class CountingScheduler extends ManualTimeScheduler {
    reads = 0;
    override now(): number {
      this.reads++;
      return super.now();
    }
  }

  function queueThroughBuffer(scheduler: ManualTimeScheduler, meter?: FlowMeter): void {
    const source = new Subject<number>();
    const inners: Subject<number>[] = [];
    source
      .pipe(
        bufferFixed(
          Infinity,
          () => {
            const inner = new Subject<number>();
            inners.push(inner);
            return inner;
          },
          { scheduler, concurrency: 2, meter },
        ),
      )
      .subscribe();
    for (let v = 0; v < 100; v++) source.next(v);
    while (inners.length > 0) inners.shift()!.complete();
  }

  it('a buffer without a meter (and without ttl) never reads its clock, however values queue', () => {
    const scheduler = new CountingScheduler();
    queueThroughBuffer(scheduler);
    expect(scheduler.reads).toBe(0);
    // The control: with a meter it does.
    queueThroughBuffer(scheduler, new FlowMeter({ name: 'm', scheduler }));
    expect(scheduler.reads).toBeGreaterThan(0);
  });

  it('pullFeedback without a meter never reads its clock', () => {
    const scheduler = new CountingScheduler();
    const source = new Subject<number>();
    const demand = new Subject<number>();
    source.pipe(pullFeedback(demand, { scheduler })).subscribe();
    for (let v = 0; v < 100; v++) source.next(v);
    demand.next(50);
    expect(scheduler.reads).toBe(0);
  });
});
