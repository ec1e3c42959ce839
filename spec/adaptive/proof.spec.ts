// Issue 12's proof, on outcomes in the load simulator: a downstream (FIFO, 10 ms per call) with 30
// workers, then 1 from 60 s to 120 s, then 30 again, under 2,000 values/s, behind
// bufferDropping(0, call, { concurrency }). The scenario and the measures are in
// scripts/loadtest/adaptive.ts, shared with `npm run loadtest`, which reports the same figures.
import { interval, map, merge, Subject, take, takeUntil, throwError, timer, mergeMap } from 'rxjs';
import { adaptiveConcurrency, bufferDropping, type AdaptiveConcurrencyOptions } from 'rxjs-backpressure';
import { withVirtualTime, type ManualTimeScheduler } from 'rxjs-backpressure/testing';
import {
  FIXED_CAPACITIES,
  incidentDrift,
  maxLimit,
  meetsTarget1,
  runCapacity,
  runStep,
  settling,
  STEP_ARRIVALS,
  STEP_RATE,
  TARGETS,
  type CapacityRun,
  type StepRun,
} from '../../scripts/loadtest/adaptive';

const ALGORITHMS = ['gradient', 'aimd', 'vegas'] as const;
/** Phases of 3 s instead of 60 s, for the sweeps (see below). */
const SWEEP_SCALE = 0.05;

describe('the default adaptiveConcurrency() on the 30 -> 1 -> 30 workers scenario', () => {
  const runs = new Map<string, StepRun>();
  const run = (id: string): StepRun => {
    let r = runs.get(id);
    if (r === undefined) {
      const arrivals = STEP_ARRIVALS.find((a) => a.id === id);
      if (arrivals === undefined) throw new Error(id);
      r = runStep({}, arrivals); // the defaults: nothing tuned for the scenario
      runs.set(id, r);
    }
    return r;
  };

  describe.each(STEP_ARRIVALS.map((a) => [a.title, a.id] as const))('%s', (_title, id) => {
    it('target 1: >= 1,800/s over the last 30 s of each healthy phase, median <= 90 ms over the last 30 s of the incident', () => {
      const { figures } = run(id);
      expect(figures.healthy).toBeGreaterThanOrEqual(TARGETS.throughput);
      expect(figures.recovered).toBeGreaterThanOrEqual(TARGETS.throughput);
      expect(figures.incidentMedian).toBeLessThanOrEqual(TARGETS.incidentMedian);
      expect(meetsTarget1(figures)).toBe(true);
    });

    it('target 2: the limit settles within 30 s of each step and does not drift up during the incident', () => {
      const { limits } = run(id);
      const incident = settling(limits, 60_000, 120_000);
      const recovered = settling(limits, 120_000, 180_000);
      expect(incident.settledAfter).toBeLessThanOrEqual(TARGETS.settle);
      expect(recovered.settledAfter).toBeLessThanOrEqual(TARGETS.settle);
      // It settles low in the incident (a few calls at the one worker) and high again after it.
      expect(incident.level).toBeLessThanOrEqual(9);
      expect(recovered.level).toBeGreaterThanOrEqual(18);
      // No upward drift: the last 10 s of the incident are no higher than the 10 s after the
      // settling deadline, and no call is let through above the band's top once the 30 s are over.
      expect(incidentDrift(limits)).toBeLessThanOrEqual(0);
      expect(maxLimit(limits, 90_000, 120_000)).toBeLessThanOrEqual(incident.band[1]);
    });
  });

  it('target 1: every fixed concurrency L in 1..40 fails one of the two (same simulator, fixed gaps)', () => {
    // Fixed gaps: 20 calls in flight on average at 10 ms each, so L <= 17 caps the healthy
    // throughput at 100 L/s, and L >= 18 keeps L calls queued at the one worker (10 L ms). A fixed
    // limit has no memory, so the sweep runs the scenario with phases of 3 s (each measured over its
    // last 1.5 s): 40 runs for the price of two. Those figures are the full scenario's: checked on
    // the two limits the issue names.
    const arrivals = STEP_ARRIVALS[0] as (typeof STEP_ARRIVALS)[number];
    const sweep = Array.from({ length: 40 }, (_, i) => ({
      L: i + 1,
      ...runStep(i + 1, arrivals, { scale: SWEEP_SCALE }),
    }));
    expect(sweep.filter(({ figures }) => meetsTarget1(figures)).map(({ L }) => L)).toEqual([]);
    for (const L of [9, 18]) {
      const full = runStep(L, arrivals).figures;
      const short = (sweep[L - 1] as (typeof sweep)[number]).figures;
      expect(short.healthy).toBe(full.healthy);
      expect(short.incidentMedian).toBe(full.incidentMedian);
      // After the incident the backlog at the one worker (L calls) finishes: one more value per
      // window, a larger share of a short one.
      expect(Math.abs(short.recovered - full.recovered)).toBeLessThan(1);
    }
    const at = (L: number) => (sweep[L - 1] as (typeof sweep)[number]).figures;
    expect(at(9).incidentMedian).toBeLessThanOrEqual(TARGETS.incidentMedian);
    expect(at(9).healthy).toBeLessThan(TARGETS.throughput);
    expect(at(18).healthy).toBeGreaterThanOrEqual(TARGETS.throughput);
    expect(at(18).incidentMedian).toBeGreaterThan(TARGETS.incidentMedian);
    expect(meetsTarget1(run('fixed').figures)).toBe(true);
  });
});

describe('target 3: cancelled calls are ignored', () => {
  /** A limit of the given algorithm, with its defaults, that records each change and when. */
  const setup = (algorithm: (typeof ALGORITHMS)[number], scheduler: ManualTimeScheduler) => {
    const changes: [number, number][] = [];
    const options: AdaptiveConcurrencyOptions = {
      algorithm,
      onChange: (n) => changes.push([scheduler.now(), n]),
    };
    return { changes, concurrency: adaptiveConcurrency(options) };
  };

  it.each(ALGORITHMS)(
    '%s: unsubscribing while calls run, then subscribing afresh, lowers nothing',
    (algorithm) => {
      withVirtualTime((scheduler: ManualTimeScheduler) => {
        const { changes, concurrency } = setup(algorithm, scheduler);
        const source = new Subject<number>();
        const call = (v: number) => timer(10).pipe(map(() => v));
        const output = source.pipe(bufferDropping(0, call, { concurrency, onError: 'continue' }));
        // A first subscription learns on 10 rounds of calls that keep the limit in use.
        let subscription = output.subscribe();
        for (let round = 0; round < 10; round++) {
          for (let i = 0; i < 30; i++) source.next(i);
          scheduler.advanceBy(10);
        }
        const learned = changes.length;
        expect(learned).toBeGreaterThan(0);
        // Calls in flight when the output is unsubscribed: cancelled, no sample, no change at all.
        for (let i = 0; i < 30; i++) source.next(i);
        scheduler.advanceBy(5);
        subscription.unsubscribe();
        scheduler.advanceBy(1000);
        expect(changes.length).toBe(learned);
        // A fresh subscription runs its own controller from `initial`: cancel its calls mid-way, again
        // and again; the limit never moves (and so never falls).
        subscription = output.subscribe();
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 30; i++) source.next(i);
          scheduler.advanceBy(5);
          subscription.unsubscribe();
          subscription = output.subscribe();
        }
        scheduler.advanceBy(1000);
        expect(changes.length).toBe(learned);
        subscription.unsubscribe();
      });
    },
  );

  it.each(ALGORITHMS)(
    '%s: inners ended early by take inside project are samples, never failures',
    (algorithm) => {
      withVirtualTime((scheduler: ManualTimeScheduler) => {
        const { changes, concurrency } = setup(algorithm, scheduler);
        const source = new Subject<number>();
        // The "call" would take 10 s (or never end); take / takeUntil inside project end it after 5 ms.
        const project = (v: number) =>
          v % 2 === 0
            ? merge(timer(10_000), interval(5)).pipe(take(1))
            : timer(10_000).pipe(
                map(() => v),
                takeUntil(timer(5)),
              );
        source.pipe(bufferDropping(0, project, { concurrency, onError: 'continue' })).subscribe();
        for (let round = 0; round < 40; round++) {
          for (let i = 0; i < 30; i++) source.next(i);
          scheduler.advanceBy(5);
        }
        const limits = changes.map(([, n]) => n);
        // Steady 5 ms calls with the limit in use: it only grows.
        expect(limits.length).toBeGreaterThan(0);
        for (let i = 1; i < limits.length; i++) expect(limits[i]).toBeGreaterThan(limits[i - 1] as number);
      });
    },
  );

  it('the control: the same calls failing do lower an AIMD limit (so the tests above would see it)', () => {
    withVirtualTime((scheduler: ManualTimeScheduler) => {
      const { changes, concurrency } = setup('aimd', scheduler);
      const source = new Subject<number>();
      const failing = () => timer(5).pipe(mergeMap(() => throwError(() => new Error('503'))));
      source.pipe(bufferDropping(0, failing, { concurrency, onError: 'continue' })).subscribe();
      for (let i = 0; i < 10; i++) source.next(i);
      scheduler.advanceBy(5);
      expect(changes.map(([, n]) => n)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    });
  });
});

describe('target 5: adaptiveCapacity({ maxWait: 100 }) with bufferSliding(capacity, call, { concurrency: 30 })', () => {
  const fixedGaps = STEP_ARRIVALS[0] as (typeof STEP_ARRIVALS)[number];
  let adaptive: CapacityRun;
  beforeAll(() => {
    adaptive = runCapacity('adaptive', fixedGaps);
  });

  it.each(STEP_ARRIVALS.map((a) => [a.title, a] as const))(
    '%s: the p99 queue wait of processed values is at most 1.2 x maxWait in every phase',
    (_title, arrivals) => {
      const r = arrivals === fixedGaps ? adaptive : runCapacity('adaptive', arrivals);
      for (const wait of Object.values(r.p99Wait))
        expect(wait).toBeLessThanOrEqual(TARGETS.waitFactor * TARGETS.maxWait);
      expect(r.late).toBe(0);
    },
  );

  it('starts no more values after their client gave up (1 s) than any fixed capacity that keeps 90% of the healthy throughput', () => {
    // The sweep and the adaptive capacity it is compared with run on phases of 6 s (a fixed queue
    // of 5,000 fills in 2.5 s at 2,000/s), so each count is about a tenth of the full scenario's.
    const scaled = runCapacity('adaptive', fixedGaps, 0.1);
    expect(scaled.late).toBe(0);
    const fixed = FIXED_CAPACITIES.map((capacity) => ({
      capacity,
      run: runCapacity(capacity, fixedGaps, 0.1),
    }));
    const keeping = fixed.filter(({ run }) => run.healthyThroughput >= TARGETS.keep * STEP_RATE);
    expect(keeping.length).toBe(FIXED_CAPACITIES.length);
    for (const { run } of keeping) expect(scaled.late).toBeLessThanOrEqual(run.late);
    // Strictly fewer than the fixed capacities large enough to hold values for over a second.
    const lateOnes = keeping.filter(({ run }) => run.late > 0).map(({ capacity }) => capacity);
    expect(lateOnes).toEqual([3000, 5000]);
  });
});
